// The tenant- and user-level rules Teams applies to onlineMeetings beyond request validation: the
// tenant's meeting defaults (what createOrGet and POST give a new meeting, whatever they were asked),
// per-organizer refusals (guest, disabled, unlicensed) and the monthly creation limit. Also the
// settable behaviours' view and change, shared by the options, `handle.control` and /_emulator/settings.
import { HttpError } from './httpErrors.js';
import type { EmulatorState } from './state.js';
import type {
  EmulatorBehaviour,
  EmulatorBehaviourChange,
  EmulatorUser,
  MonthlyMeetingLimit,
  TenantMeetingDefaults,
} from './types.js';

// https://learn.microsoft.com/graph/api/resources/lobbybypasssettings
export const LOBBY_SCOPES: ReadonlySet<string> = new Set([
  'organizer',
  'organization',
  'organizationAndFederated',
  'everyone',
  'invited',
  'organizationExcludingGuests',
]);
// https://learn.microsoft.com/graph/api/resources/onlinemeeting (onlineMeetingPresenters)
export const PRESENTERS: ReadonlySet<string> = new Set([
  'everyone',
  'organization',
  'roleIsPresenter',
  'organizer',
]);

export const MONTHLY_LIMIT_MESSAGE =
  'The user has exceeded the maximum number of meetings that can be created in a month.';

/**
 * 403 for an organizer Teams will not create or read meetings for, even with the access policy:
 * guests, disabled accounts, users without a Teams licence. The body carries no explanation
 * (microsoft-graph-docs#8889: `{"code":"Forbidden","message":""}`), unlike the policy 403.
 */
export function checkOrganizer(user: EmulatorUser): void {
  if (user.userType === 'Guest' || !user.accountEnabled || !user.teamsLicensed)
    throw new HttpError(403, 'Forbidden', '');
}

/** The UTC calendar month of an instant, as 'YYYY-MM'. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Seconds from `ms` to the start of the next UTC month (at least 1). */
function secondsToMonthEnd(ms: number): number {
  const d = new Date(ms);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - ms) / 1000));
}

/** Refuses a creation beyond the organizer's monthly limit (by the emulator clock, UTC). */
export function checkMonthlyLimit(state: EmulatorState, organizerId: string): void {
  const now = state.now();
  const used = state.createdPerMonth.get(`${organizerId}|${monthOf(now)}`) ?? 0;
  const { perOrganizer, status, message = MONTHLY_LIMIT_MESSAGE } = state.monthlyLimit;
  if (used < perOrganizer) return;
  if (status === 429)
    throw new HttpError(429, 'TooManyRequests', message, {
      'retry-after': String(secondsToMonthEnd(now)),
    });
  throw new HttpError(403, 'Forbidden', message);
}

/** Counts one created meeting against its organizer's month. */
export function countCreation(state: EmulatorState, organizerId: string, at: number): void {
  const key = `${organizerId}|${monthOf(at)}`;
  state.createdPerMonth.set(key, (state.createdPerMonth.get(key) ?? 0) + 1);
}

export function createdPerMonthView(state: EmulatorState): Record<string, Record<string, number>> {
  const view: Record<string, Record<string, number>> = {};
  for (const [key, n] of state.createdPerMonth) {
    const [organizerId = '', month = ''] = key.split('|');
    (view[organizerId] ??= {})[month] = n;
  }
  return view;
}

function mergeDefaults(
  current: TenantMeetingDefaults,
  change: Partial<TenantMeetingDefaults>,
): TenantMeetingDefaults {
  const next = { ...current, ...change };
  if (!LOBBY_SCOPES.has(next.lobbyBypassScope))
    throw new Error(`unknown lobby bypass scope '${next.lobbyBypassScope}'`);
  if (!PRESENTERS.has(next.allowedPresenters))
    throw new Error(`unknown allowedPresenters '${next.allowedPresenters}'`);
  return next;
}

function mergeLimit(current: MonthlyMeetingLimit, change: Partial<MonthlyMeetingLimit>): MonthlyMeetingLimit {
  const next = { ...current, ...change };
  if (!Number.isInteger(next.perOrganizer) || next.perOrganizer < 0)
    throw new Error('monthlyMeetingLimit.perOrganizer must be a non-negative integer');
  if (next.status !== 403 && next.status !== 429)
    throw new Error('monthlyMeetingLimit.status must be 403 or 429');
  return next;
}

/** Applies a behaviour change (all or nothing: everything is checked before anything changes). */
export function setBehaviour(state: EmulatorState, change: EmulatorBehaviourChange): EmulatorBehaviour {
  const defaults = mergeDefaults(state.meetingDefaults, change.meetingDefaults ?? {});
  const limit = mergeLimit(state.monthlyLimit, change.monthlyMeetingLimit ?? {});
  if (change.propagationDelayMs !== undefined) state.policies.delayMs = change.propagationDelayMs;
  if (change.policyErrorStyle !== undefined) state.policyErrorStyle = change.policyErrorStyle;
  if (change.patchNoContent !== undefined) state.patchNoContent = change.patchNoContent;
  state.meetingDefaults = defaults;
  state.monthlyLimit = limit;
  return behaviourView(state);
}

export function behaviourView(state: EmulatorState): EmulatorBehaviour {
  return {
    propagationDelayMs: state.policies.delayMs,
    policyErrorStyle: state.policyErrorStyle,
    meetingDefaults: { ...state.meetingDefaults },
    monthlyMeetingLimit: { ...state.monthlyLimit },
    patchNoContent: state.patchNoContent,
    cloud: state.cloud,
    tenantDomain: state.tenantDomain,
    lastTokenScope: state.lastTokenScope,
  };
}
