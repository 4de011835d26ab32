// The Teams application access policy gate, per organizer (ARCHITECTURE.md "Policy gate").
// Graph answers 403 to onlineMeetings calls for users the app has no access policy for; a fresh
// Grant-CsApplicationAccessPolicy takes a while to propagate (Microsoft: up to 30 min; tenants report
// hours to days).
// https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
//
//   unknown/null ──first attempt──► (call) ──ok──► active      ──403──► missing ("revoked": alert)
//   unknown ──403──► missing: probe again every probeHours
//   granted(T) ──403 before T+window──► propagating: retry at 1, 2, 4 … min after the first denial,
//                                       last try at T+window
//   granted(T) ──403 at/after T+window──► missing + alert: not granted (name, AppIds, user) or still
//                                         propagating, with the exact Grant cmdlet; probe at
//                                         T+window + 1, 2, 4, 8 … h (the first after the last try,
//                                         at most probeHours after it), then every probeHours
//   any ──ok──► active
//
// Pure: the shell stores the records these functions return.

import { toUtcIso } from './identity.js';
import type { PolicyRecord, PolicyStateName } from './state.js';

export interface PolicySettings {
  /** How long after a grant a 403 still means "not propagated yet" (default 60). */
  propagationMinutes: number;
  /** How often a missing organizer is tried again in case someone granted without telling us (default 6). */
  probeHours: number;
  /** Tenant-wide grant (Grant-CsApplicationAccessPolicy -Global), UTC ISO; null when none. */
  globalGrantedAt: string | null;
  policyName: string;
}

export const DEFAULT_PROPAGATION_MINUTES = 60;
export const DEFAULT_PROBE_HOURS = 6;

export type PolicyGateDecision =
  | {
      allow: true;
      /**
       * Not yet known to work: send one request first and continue with the rest only if it succeeds
       * (on a policy 403 call recordPolicyDenied and stop for this organizer).
       */
      probe: boolean;
    }
  | { allow: false; state: PolicyStateName; reason: string; retryAt: string };

export type DeniedOutcome = 'propagating' | 'missing' | 'revoked';

export interface DeniedResult {
  record: PolicyRecord;
  /** 'revoked': worked before, no recent grant — someone removed the policy; alert. */
  outcome: DeniedOutcome;
  retryAt: string;
  /** For the run report / alert: what happened and what to do. */
  message: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

function instant(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not an ISO instant: ${value}`);
  return ms;
}

function emptyRecord(objectId: string): PolicyRecord {
  return {
    objectId,
    state: 'unknown',
    grantedAt: null,
    verifiedAt: null,
    firstDeniedAt: null,
    lastDeniedAt: null,
    lastProbeAt: null,
  };
}

/** A PowerShell double-quoted string: backtick escapes `"`, `$` and the backtick itself. */
function psQuote(value: string): string {
  return `"${value.replace(/[`"$]/g, (c) => `\`${c}`)}"`;
}

/** Policy names are usually plain words; anything else gets quoted so the command still pastes. */
function psPolicyName(policyName: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(policyName) ? policyName : psQuote(policyName);
}

/** The Teams PowerShell command that grants the policy to one organizer. */
export function grantCommand(policyName: string, objectId: string): string {
  return `Grant-CsApplicationAccessPolicy -PolicyName ${psPolicyName(policyName)} -Identity ${psQuote(objectId)}`;
}

/** The tenant-wide variant (every user in the tenant). */
export function grantGlobalCommand(policyName: string): string {
  return `Grant-CsApplicationAccessPolicy -PolicyName ${psPolicyName(policyName)} -Global`;
}

/** The most recent grant that applies to the organizer: its own, or the tenant-wide one. */
function effectiveGrantMs(record: PolicyRecord | null, settings: PolicySettings): number | null {
  const grants = [record?.grantedAt ?? null, settings.globalGrantedAt]
    .filter((value): value is string => value !== null)
    .map((value) => instant(value, 'grantedAt'));
  return grants.length === 0 ? null : Math.max(...grants);
}

/**
 * Next try while propagating: at firstDenied + 1, 2, 4, 8 … minutes (the first of those after the last
 * denial), never after the window's end, so the last try falls exactly on it.
 */
function propagationRetryMs(firstDeniedMs: number, lastDeniedMs: number, windowEndMs: number): number {
  let step = MINUTE_MS;
  while (firstDeniedMs + step <= lastDeniedMs) step *= 2;
  return Math.min(firstDeniedMs + step, windowEndMs);
}

function missingReason(objectId: string, settings: PolicySettings, retryAt: string): string {
  return (
    `Organizer ${objectId} has no Teams application access policy for this app (Graph 403). ` +
    `Run in Teams PowerShell: ${grantCommand(settings.policyName, objectId)} ` +
    `(or for everyone: ${grantGlobalCommand(settings.policyName)}), then record the grant so the sync ` +
    `retries at once; otherwise it checks again at ${retryAt}.`
  );
}

/**
 * The recorded grant whose propagation window had ended by the organizer's last denial (ms), or null:
 * then a 403 may mean "not granted" as much as "still propagating", and the probes back off from the
 * window's end instead of waiting a flat probeHours.
 */
function endedGrantWindow(
  record: PolicyRecord,
  settings: PolicySettings,
): { grantMs: number; windowEndMs: number } | null {
  const grantMs = effectiveGrantMs(record, settings);
  if (grantMs === null || record.lastDeniedAt === null) return null;
  const windowEndMs = grantMs + settings.propagationMinutes * MINUTE_MS;
  return windowEndMs <= instant(record.lastDeniedAt, 'lastDeniedAt') ? { grantMs, windowEndMs } : null;
}

/**
 * When a missing organizer is probed next (ms), or null when it was never tried. After a grant whose
 * window has ended: at windowEnd + 1, 2, 4, 8 … hours (the first of those after the last try, denial or
 * probe), never later than the last try + probeHours; once those instants lie more than probeHours
 * apart, and without such a grant: the last try + probeHours.
 */
function missingProbeMs(record: PolicyRecord, settings: PolicySettings): number | null {
  const lastTriedMs = Math.max(
    record.lastDeniedAt === null ? -Infinity : instant(record.lastDeniedAt, 'lastDeniedAt'),
    record.lastProbeAt === null ? -Infinity : instant(record.lastProbeAt, 'lastProbeAt'),
  );
  if (lastTriedMs === -Infinity) return null;
  const probeMs = settings.probeHours * HOUR_MS;
  const flatMs = lastTriedMs + probeMs;
  const ended = endedGrantWindow(record, settings);
  if (ended === null) return flatMs;
  // windowEnd + step is one step / 2 after the instant before it: past 2 × probeHours the back-off is over.
  let step = HOUR_MS;
  while (ended.windowEndMs + step <= lastTriedMs && step <= 2 * probeMs) step *= 2;
  return step > 2 * probeMs ? flatMs : Math.min(ended.windowEndMs + step, flatMs);
}

/**
 * A 403 after the grant's window: it may not be in effect at all, or still be on its way. Not for an
 * organizer verified since the grant (it took effect, then went away: revoked, the plain reason).
 */
function grantNotEffectiveReason(
  record: PolicyRecord,
  settings: PolicySettings,
  retryAt: string,
): string | null {
  const ended = endedGrantWindow(record, settings);
  if (ended === null) return null;
  if (record.verifiedAt !== null && instant(record.verifiedAt, 'verifiedAt') >= ended.grantMs) return null;
  return (
    `Organizer ${record.objectId} is still refused by the Teams application access policy (Graph 403) ` +
    `${settings.propagationMinutes} minutes or more after the grant recorded at ${toUtcIso(ended.grantMs)}. ` +
    "Either the grant is not in effect (check the policy name, that the policy's AppIds include this " +
    "app's id, and that it was granted to this organizer and not another user), or it is still " +
    'propagating (Microsoft says up to 30 minutes; tenants report hours to days). The sync keeps probing ' +
    'at growing intervals (1, 2, 4 … hours after the window, then every ' +
    `${settings.probeHours === 1 ? 'hour' : `${settings.probeHours} hours`}); next probe at ${retryAt}. ` +
    'If it was not granted, run in Teams PowerShell: ' +
    `${grantCommand(settings.policyName, record.objectId)} (or for everyone: ` +
    `${grantGlobalCommand(settings.policyName)}), then record the grant so the sync retries at once.`
  );
}

function propagatingReason(grantMs: number, windowEndMs: number, retryAt: string): string {
  return (
    `The access policy granted at ${toUtcIso(grantMs)} is not effective yet (Teams takes 30 minutes or ` +
    `more to propagate it); retrying at ${retryAt}. Nothing to do unless it still fails after ` +
    `${toUtcIso(windowEndMs)}.`
  );
}

export function decidePolicyGate(
  record: PolicyRecord | null,
  now: string,
  settings: PolicySettings,
): PolicyGateDecision {
  const nowMs = instant(now, 'now');
  if (record === null || record.state === 'unknown' || record.state === 'granted')
    return { allow: true, probe: true };
  if (record.state === 'active') return { allow: true, probe: false };

  const objectId = record.objectId;
  const grantMs = effectiveGrantMs(record, settings);
  const lastDeniedMs = record.lastDeniedAt === null ? null : instant(record.lastDeniedAt, 'lastDeniedAt');

  if (record.state === 'propagating' && grantMs !== null && lastDeniedMs !== null) {
    const windowEndMs = grantMs + settings.propagationMinutes * MINUTE_MS;
    const firstDeniedMs =
      record.firstDeniedAt === null ? lastDeniedMs : instant(record.firstDeniedAt, 'firstDeniedAt');
    const retryMs = propagationRetryMs(firstDeniedMs, lastDeniedMs, windowEndMs);
    if (nowMs >= retryMs) return { allow: true, probe: true };
    const retryAt = toUtcIso(retryMs);
    return {
      allow: false,
      state: 'propagating',
      reason: propagatingReason(grantMs, windowEndMs, retryAt),
      retryAt,
    };
  }

  // missing (or a propagating record without the timestamps to back off on: treat it like missing).
  // A grant newer than the last denial (e.g. a global grant configured since) deserves a try now.
  if (grantMs !== null && (lastDeniedMs === null || grantMs > lastDeniedMs))
    return { allow: true, probe: true };
  const retryMs = missingProbeMs(record, settings);
  if (retryMs === null || nowMs >= retryMs) return { allow: true, probe: true };
  const retryAt = toUtcIso(retryMs);
  const reason =
    grantNotEffectiveReason(record, settings, retryAt) ?? missingReason(objectId, settings, retryAt);
  return { allow: false, state: 'missing', reason, retryAt };
}

/** A call for this organizer got through: the policy works. */
export function recordPolicySuccess(
  record: PolicyRecord | null,
  objectId: string,
  now: string,
): PolicyRecord {
  return {
    ...(record ?? emptyRecord(objectId)),
    objectId,
    state: 'active',
    verifiedAt: now,
    firstDeniedAt: null,
  };
}

/**
 * A probe is about to go out (call when the gate said allow + probe and the organizer is missing), so
 * that a probe that dies of something else (timeout, 5xx) still counts towards the probe interval.
 */
export function recordPolicyProbe(record: PolicyRecord | null, objectId: string, now: string): PolicyRecord {
  return { ...(record ?? emptyRecord(objectId)), objectId, lastProbeAt: now };
}

/** Graph said 403 because of the application access policy. */
export function recordPolicyDenied(
  record: PolicyRecord | null,
  objectId: string,
  now: string,
  settings: PolicySettings,
): DeniedResult {
  const nowMs = instant(now, 'now');
  const base: PolicyRecord = { ...(record ?? emptyRecord(objectId)), objectId };
  const grantMs = effectiveGrantMs(record, settings);
  const windowEndMs = grantMs === null ? null : grantMs + settings.propagationMinutes * MINUTE_MS;

  if (grantMs !== null && windowEndMs !== null && nowMs < windowEndMs) {
    // Keep counting the back-off from the first denial after this grant; restart it for a newer grant.
    const keepFirst =
      base.state === 'propagating' &&
      base.firstDeniedAt !== null &&
      instant(base.firstDeniedAt, 'firstDeniedAt') >= grantMs;
    const firstDeniedAt = keepFirst && base.firstDeniedAt !== null ? base.firstDeniedAt : now;
    const retryAt = toUtcIso(propagationRetryMs(instant(firstDeniedAt, 'firstDeniedAt'), nowMs, windowEndMs));
    return {
      record: { ...base, state: 'propagating', firstDeniedAt, lastDeniedAt: now },
      outcome: 'propagating',
      retryAt,
      message: propagatingReason(grantMs, windowEndMs, retryAt),
    };
  }

  const wasActive = base.state === 'active';
  const firstDeniedAt = base.state === 'missing' && base.firstDeniedAt !== null ? base.firstDeniedAt : now;
  const next: PolicyRecord = {
    ...base,
    state: 'missing',
    firstDeniedAt,
    lastDeniedAt: now,
    lastProbeAt: now,
  };
  // Never null: `next` was denied just now. The gate computes the same instant from the same record.
  const retryAt = toUtcIso(missingProbeMs(next, settings) ?? nowMs + settings.probeHours * HOUR_MS);
  if (wasActive) {
    return {
      record: next,
      outcome: 'revoked',
      retryAt,
      message:
        `Organizer ${objectId} worked before (verified ${base.verifiedAt ?? 'earlier'}) and is now refused by the ` +
        'Teams application access policy: the policy or its grant was removed or changed. ' +
        missingReason(objectId, settings, retryAt),
    };
  }
  return {
    record: next,
    outcome: 'missing',
    retryAt,
    message: grantNotEffectiveReason(next, settings, retryAt) ?? missingReason(objectId, settings, retryAt),
  };
}

/** An admin ran Grant-CsApplicationAccessPolicy for this organizer at `grantedAt`. */
export function recordGrant(record: PolicyRecord | null, objectId: string, grantedAt: string): PolicyRecord {
  const base: PolicyRecord = { ...(record ?? emptyRecord(objectId)), objectId, grantedAt };
  // An organizer that already works keeps working; anyone else waits for the grant to propagate.
  if (base.state === 'active') return base;
  return { ...base, state: 'granted', firstDeniedAt: null };
}

/**
 * The gate's settings: configuration plus the grants recorded in the policies table (a global grant
 * recorded through the API counts like POLICY_GLOBAL_GRANTED_AT; the later one wins).
 */
export function effectivePolicySettings(
  configured: PolicySettings,
  records: ReadonlyMap<string, PolicyRecord | null>,
): PolicySettings {
  const recorded = records.get('global')?.grantedAt ?? null;
  const fromConfig = configured.globalGrantedAt;
  return {
    propagationMinutes: configured.propagationMinutes,
    probeHours: configured.probeHours,
    globalGrantedAt: recorded && (!fromConfig || recorded > fromConfig) ? recorded : fromConfig,
    policyName: configured.policyName,
  };
}
