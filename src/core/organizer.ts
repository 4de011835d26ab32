// Per-organizer rules beyond the access policy (pure): Graph refusing one lecturer (guest, unlicensed,
// disabled, deleted account) and the 2,000 meetings per user per month Graph allows.
//
//   refusal:  (none) ──403/404 not the policy──► refused (retryAt: 30 min, 1 h, 2 h … 24 h)
//             refused ──retryAt passed──► one probe operation ──ok──► (none) │ ──refused──► longer wait
//   budget:   a run leases creations in small chunks just before it sends them (its operations go
//             nearest session first), up to the limit minus confirmed creations and other runs' live
//             leases; at its end the lease goes and what it really created is counted. A new UTC month
//             starts from zero.
//
// Creations are counted by the month they happen in (UTC), as Graph counts them. A crashed run's lease
// lapses at its expiry (so a crash blocks nobody for long); what that run created is then not counted,
// and Graph's own limit answer (classified as monthlyLimit) is the backstop for that rare under-count.

import { nextAttemptAt, type BackoffOptions } from './backoff.js';
import { toUtcIso } from './identity.js';
import type { CreationLease, OrganizerRefusal, OrganizerStatusRecord } from './state.js';

export const DEFAULT_MONTHLY_MEETING_LIMIT = 2_000;

/** A refused organizer is probed again (with one operation) after these waits. */
export const ORGANIZER_REFUSAL_BACKOFF: BackoffOptions = {
  baseMs: 30 * 60_000,
  maxMs: 24 * 3_600_000,
  jitter: 0.2,
};

/** What Graph answered when it refused the organizer. */
export interface RefusalCause {
  status: number | null;
  graphCode: string | null;
  requestId: string | null;
}

export function emptyStatus(objectId: string): OrganizerStatusRecord {
  return { objectId, refusal: null, month: null, created: 0, leases: [] };
}

/** The UTC calendar month of an ISO instant, 'YYYY-MM'. */
export function monthOf(now: string): string {
  return toUtcIso(instant(now)).slice(0, 7);
}

/** The first instant of the UTC month after the one `now` is in. */
export function nextMonthStart(now: string): string {
  const d = new Date(instant(now));
  return toUtcIso(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

function instant(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO instant: ${value}`);
  return ms;
}

/** What to tell ops about a refused organizer: what Graph said and what to check. */
export function refusalMessage(email: string, objectId: string, cause: RefusalCause): string {
  const said = [
    cause.status === null ? null : String(cause.status),
    cause.graphCode,
    cause.requestId ? `request-id ${cause.requestId}` : null,
  ]
    .filter((part): part is string => part !== null)
    .join(', ');
  const check =
    cause.status === 404
      ? 'the account behind this object id no longer exists (deleted or replaced): check the ORGANIZER e-mail; the look-up is refreshed'
      : 'check that the account is a member (not a guest), is enabled, and has a Teams licence with meetings (e.g. Teams in A1/A3/A5)';
  return (
    `Graph refused meetings for organizer ${email} (${objectId})${said ? ` (${said})` : ''}, and it is not the ` +
    `access-policy error: ${check}. Other lecturers are not affected.`
  );
}

/** Graph refused this organizer again (or for the first time): record it with a growing wait. */
export function recordRefusal(
  status: OrganizerStatusRecord | null,
  objectId: string,
  email: string,
  cause: RefusalCause,
  now: string,
): OrganizerStatusRecord {
  const base = status ?? emptyStatus(objectId);
  const attempts = (base.refusal?.attempts ?? 0) + 1;
  const refusal: OrganizerRefusal = {
    status: cause.status,
    code: cause.graphCode,
    requestId: cause.requestId,
    message: refusalMessage(email, objectId, cause),
    firstAt: base.refusal?.firstAt ?? now,
    lastAt: now,
    attempts,
    retryAt: nextAttemptAt(now, attempts, { ...ORGANIZER_REFUSAL_BACKOFF, seed: objectId }),
  };
  return { ...base, refusal };
}

/** A refusal still in force at `now` (null when there is none or its retry time has come). */
export function standingRefusal(status: OrganizerStatusRecord | null, now: string): OrganizerRefusal | null {
  const refusal = status?.refusal ?? null;
  return refusal !== null && instant(refusal.retryAt) > instant(now) ? refusal : null;
}

/** Meetings confirmed as created for the organizer in `month`. */
export function usedInMonth(status: OrganizerStatusRecord | null, month: string): number {
  return status !== null && status.month === month ? status.created : 0;
}

/** Leases still in force (not expired) for `month`, other runs' and this run's. */
function liveLeases(status: OrganizerStatusRecord, month: string, now: string): CreationLease[] {
  const nowMs = instant(now);
  return status.leases.filter((l) => l.month === month && instant(l.expiresAt) > nowMs);
}

export interface LeaseGrant {
  record: OrganizerStatusRecord;
  /** Creations granted to this run now (0 when the month's budget is taken). */
  granted: number;
}

/**
 * Claims up to `wanted` more creations for run `runId` in `month`: what the limit leaves after the
 * confirmed creations and every live lease. Expired leases (runs that crashed) are dropped.
 */
export function leaseCreations(
  status: OrganizerStatusRecord | null,
  objectId: string,
  lease: { runId: string; month: string; expiresAt: string },
  wanted: number,
  limit: number,
  now: string,
): LeaseGrant {
  const base = inMonth(status ?? emptyStatus(objectId), lease.month);
  const live = liveLeases(base, lease.month, now);
  const claimed = live.reduce((sum, l) => sum + l.count, 0);
  const granted = Math.max(0, Math.min(wanted, limit - base.created - claimed));
  const own = live.find((l) => l.runId === lease.runId);
  const others = live.filter((l) => l.runId !== lease.runId);
  const ownCount = (own?.count ?? 0) + granted;
  const leases = ownCount > 0 ? [...others, { ...lease, count: ownCount }] : others;
  return { record: { ...base, leases }, granted };
}

/** End of a run: its lease goes, and what it really created in `month` is counted. */
export function settleCreations(
  status: OrganizerStatusRecord | null,
  objectId: string,
  runId: string,
  month: string,
  created: number,
  now: string,
): OrganizerStatusRecord {
  const base = status ?? emptyStatus(objectId);
  const leases = base.leases.filter((l) => l.runId !== runId && instant(l.expiresAt) > instant(now));
  if (base.month !== null && base.month > month) return { ...base, leases }; // that month is over
  const current = inMonth(base, month);
  return { ...current, leases, created: current.created + created };
}

/** Graph itself said the month's limit is reached (other apps count too): nothing more this month. */
export function exhaustMonth(
  status: OrganizerStatusRecord | null,
  objectId: string,
  month: string,
  limit: number,
): OrganizerStatusRecord {
  const base = inMonth(status ?? emptyStatus(objectId), month);
  return { ...base, created: Math.max(limit, base.created) };
}

/** The record counting `month`: an older month's count starts again from zero. */
function inMonth(status: OrganizerStatusRecord, month: string): OrganizerStatusRecord {
  return status.month === month ? status : { ...status, month, created: 0 };
}

/**
 * When sessions refused for lack of budget are tried again: the next month when the month's creations
 * are really spent; otherwise soon, because other runs' leases come back when they end.
 */
export function budgetRetryAt(
  status: OrganizerStatusRecord | null,
  month: string,
  limit: number,
  now: string,
  /** Creations of the asking run not counted in `status` yet. */
  createdByRun = 0,
): string {
  if (usedInMonth(status, month) + createdByRun >= limit) return nextMonthStart(now);
  return toUtcIso(Math.min(instant(now) + LEASE_WAIT_RETRY_MS, instant(nextMonthStart(now))));
}

/** Sessions waiting only for other runs' leases are tried again after this long. */
export const LEASE_WAIT_RETRY_MS = 15 * 60_000;
