// Application access policy administration: record grants, list organizers with their policy state and
// what is blocked, and the PowerShell that fixes missing policies (the same text for API and CLI).
import type { AppServices } from '../compose.js';
import { normalizeEmail, toUtcIso } from '../core/identity.js';
import { grantCommand, grantGlobalCommand, recordGrant } from '../core/policy.js';
import type { MeetingRecord, PolicyRecord, PolicyStateName } from '../core/state.js';
import { ConcurrencyError } from '../storage/index.js';
import { createOrganizerResolver } from '../sync/organizers.js';
import { problems } from './problems.js';
import type { AdminDeps } from './feeds.js';

/** Row error codes that mean "this lecturer's policy or directory entry is in the way". */
const ORGANIZER_BLOCKS = new Set([
  'policyMissing',
  'policyPropagating',
  'organizerUnresolved',
  'organizerRefused',
  'organizerMonthlyLimit',
]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GrantInput {
  /** E-mail/UPN or Entra object id; omit with `global`. */
  user?: string;
  global?: boolean;
  /** When Grant-CsApplicationAccessPolicy ran (default: now). */
  grantedAt?: string;
}

function parseGrantedAt(deps: AdminDeps, value: string | undefined): string {
  if (value === undefined) return toUtcIso(deps.now().getTime());
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\dT/.test(value))
    throw problems.badRequest(`grantedAt '${value.slice(0, 40)}' is not an ISO 8601 date-time`);
  if (ms > deps.now().getTime() + 5 * 60_000) throw problems.badRequest('grantedAt is in the future');
  return toUtcIso(ms);
}

/** Records that an admin ran Grant-CsApplicationAccessPolicy (per user, or -Global). */
export async function recordPolicyGrant(
  deps: AdminDeps & Pick<AppServices, 'graph'>,
  input: GrantInput,
): Promise<{ objectId: string; email: string | null; displayName: string | null; record: PolicyRecord }> {
  if (input.global === true && input.user) throw problems.badRequest('give either user or global, not both');
  if (input.global !== true && !input.user)
    throw problems.badRequest('user (e-mail or object id) or global: true is required');
  const grantedAt = parseGrantedAt(deps, input.grantedAt);
  let objectId = 'global';
  let email: string | null = null;
  let displayName: string | null = null;
  if (input.user) {
    if (GUID.test(input.user.trim())) {
      objectId = input.user.trim().toLowerCase();
    } else {
      email = normalizeEmail(input.user);
      if (!/^[^@\s]+@[^@\s]+$/.test(email))
        throw problems.badRequest(
          `user '${input.user.slice(0, 80)}' is neither an e-mail address nor an object id`,
        );
      if (!deps.graph)
        throw problems.unavailable(
          'Graph is not configured, so an e-mail cannot be resolved; give the object id',
        );
      const resolution = await createOrganizerResolver({
        store: deps.store,
        users: deps.graph.users,
        now: deps.now,
        cacheHours: deps.config.sync.organizerCacheHours,
      }).resolve(email);
      if (resolution.status !== 'resolved') throw problems.notFound(`user ${email}: ${resolution.reason}`);
      objectId = resolution.objectId;
      displayName = resolution.displayName;
    }
  }
  for (let attempt = 0; ; attempt++) {
    const current = await deps.store.policies.get(objectId);
    try {
      const record = await deps.store.policies.put(recordGrant(current, objectId, grantedAt));
      await forceResync(deps);
      return { objectId, email, displayName, record };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= 2) throw error;
    }
  }
}

/** A grant changes what the gate allows: let every feed's next run past the unchanged-feed fast path. */
async function forceResync(deps: AdminDeps): Promise<void> {
  for (const feed of await deps.store.feeds.list()) {
    if (feed.nextDueRetryAt === null && feed.lastSyncedHash === null) continue;
    try {
      await deps.store.feeds.update({ ...feed, nextDueRetryAt: toUtcIso(deps.now().getTime()) });
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error; // a running sync rewrote it; it saw the grant
    }
  }
}

export interface OrganizerPolicyView {
  objectId: string | null;
  email: string;
  state: PolicyStateName | 'unresolved';
  since: string | null;
  grantedAt: string | null;
  /** Sessions without a meeting because of this organizer's policy or directory entry. */
  blockedSessions: number;
  reason: string | null;
  grantCommand: string | null;
}

async function allMeetingRecords(deps: AdminDeps): Promise<MeetingRecord[]> {
  const feeds = await deps.store.feeds.list();
  return (await Promise.all(feeds.map((f) => deps.store.meetings.listByFeed(f.id)))).flat();
}

/** Every organizer the daemon has met, with its policy state, since when, and what it blocks. */
export async function listOrganizerPolicies(
  deps: AdminDeps,
): Promise<{ global: PolicyRecord | null; organizers: OrganizerPolicyView[] }> {
  const [policies, records] = await Promise.all([deps.store.policies.list(), allMeetingRecords(deps)]);
  const byId = new Map(policies.map((p) => [p.objectId, p]));
  const views = new Map<string, OrganizerPolicyView>();
  for (const record of records) {
    const id = record.organizerId;
    const keyOf = id ?? `email:${record.organizerEmail}`;
    const policy = id ? byId.get(id) : undefined;
    const view = views.get(keyOf) ?? {
      objectId: id,
      email: record.organizerEmail,
      state: id ? (policy?.state ?? 'unknown') : 'unresolved',
      since: policy
        ? policy.state === 'active'
          ? policy.verifiedAt
          : (policy.firstDeniedAt ?? policy.grantedAt)
        : null,
      grantedAt: policy?.grantedAt ?? null,
      blockedSessions: 0,
      reason: null,
      grantCommand: null,
    };
    if (
      record.state !== 'active' &&
      record.state !== 'cancelled' &&
      ORGANIZER_BLOCKS.has(record.lastError?.code ?? '')
    ) {
      view.blockedSessions++;
      view.reason ??= record.lastError?.message ?? null;
    }
    views.set(keyOf, view);
  }
  for (const policy of policies) {
    if (policy.objectId === 'global' || views.has(policy.objectId)) continue;
    views.set(policy.objectId, {
      objectId: policy.objectId,
      email: '',
      state: policy.state,
      since: policy.firstDeniedAt ?? policy.grantedAt ?? policy.verifiedAt,
      grantedAt: policy.grantedAt,
      blockedSessions: 0,
      reason: null,
      grantCommand: null,
    });
  }
  const organizers = [...views.values()]
    .map((v) => ({
      ...v,
      grantCommand:
        v.objectId &&
        (v.state === 'missing' || v.blockedSessions > 0) &&
        v.state !== 'propagating' &&
        v.state !== 'unresolved'
          ? grantCommand(deps.config.policy.policyName, v.objectId)
          : null,
    }))
    .sort((a, b) => b.blockedSessions - a.blockedSessions || a.email.localeCompare(b.email));
  return { global: byId.get('global') ?? null, organizers };
}

/** Organizers that need a Grant-CsApplicationAccessPolicy. */
export async function organizersLackingPolicy(deps: AdminDeps): Promise<OrganizerPolicyView[]> {
  return (await listOrganizerPolicies(deps)).organizers.filter((o) => o.grantCommand !== null);
}

function psString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A ready PowerShell script (MicrosoftTeams module) granting the policy to every organizer lacking it. */
export async function policyScript(deps: AdminDeps, appId: string | null): Promise<string> {
  const lacking = await organizersLackingPolicy(deps);
  const policyName = deps.config.policy.policyName;
  const lines = [
    '# Grants the Teams application access policy to every lecturer whose sessions are blocked by it.',
    `# Generated by timetable-sync at ${toUtcIso(deps.now().getTime())}. Run in PowerShell 7 as a Teams administrator.`,
    '# Changes take up to 30 minutes (sometimes longer) to reach Microsoft Graph; timetable-sync retries meanwhile.',
    '#Requires -Modules MicrosoftTeams',
    "$ErrorActionPreference = 'Stop'",
    'Connect-MicrosoftTeams',
    `$policyName = ${psString(policyName)}`,
    `$appId = ${psString(appId ?? '<application (client) id of timetable-sync>')}`,
    '$policy = Get-CsApplicationAccessPolicy -Identity $policyName -ErrorAction SilentlyContinue',
    'if (-not $policy) {',
    "  New-CsApplicationAccessPolicy -Identity $policyName -AppIds $appId -Description 'timetable-sync: Teams meetings for timetabled sessions'",
    '} elseif ($policy.AppIds -notcontains $appId) {',
    '  # A user holds one policy: extend it rather than creating a second one.',
    '  Set-CsApplicationAccessPolicy -Identity $policyName -AppIds @{Add = $appId}',
    '}',
    '',
  ];
  if (lacking.length === 0) {
    lines.push(
      '# No organizer lacks the policy right now. For everyone at once you could instead run:',
      `# ${grantGlobalCommand(policyName)}`,
    );
  }
  for (const organizer of lacking) {
    lines.push(
      `# ${organizer.email || organizer.objectId} — ${organizer.blockedSessions} session(s) blocked`,
    );
    lines.push(grantCommand(policyName, organizer.objectId as string));
  }
  lines.push(
    '',
    '# Then record the grants so the sync retries at once:',
    '#   timetable-sync policy grant --user <objectId>   (or POST /api/policies/grants)',
  );
  return `${lines.join('\r\n')}\r\n`;
}
