// Per-organizer rules beyond the access policy (pure): Graph refusing one lecturer (guest, unlicensed,
// disabled, deleted account) and the 2,000 meetings per user per month Graph allows.
//
//   refusal:  (none) ──403/404 not the policy──► refused (retryAt: 30 min, 1 h, 2 h … 24 h)
//             refused ──retryAt passed──► one probe operation ──ok──► (none) │ ──refused──► longer wait
//   budget:   a run reserves what it will create (nearest sessions first), up to the limit; what it
//             did not create is given back at the end. A new UTC month starts from zero.
//
// Creations are counted by the month they happen in (UTC), as Graph counts them; a crash between a
// reservation and its release over-counts (fewer meetings this month), never under-counts.

import { nextAttemptAt, type BackoffOptions } from './backoff.js';
import { toUtcIso } from './identity.js';
import type { OrganizerRefusal, OrganizerStatusRecord } from './state.js';

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
  return { objectId, refusal: null, month: null, created: 0 };
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

/** Meetings created (or reserved) for the organizer in `month`. */
export function usedInMonth(status: OrganizerStatusRecord | null, month: string): number {
  return status !== null && status.month === month ? status.created : 0;
}

export interface Reservation {
  record: OrganizerStatusRecord;
  /** How many of the wanted creations may go ahead (the nearest sessions first). */
  granted: number;
}

/** Reserves up to `wanted` creations in `month` within `limit`. */
export function reserveCreations(
  status: OrganizerStatusRecord | null,
  objectId: string,
  month: string,
  wanted: number,
  limit: number,
): Reservation {
  const base = status ?? emptyStatus(objectId);
  const used = usedInMonth(base, month);
  const granted = Math.max(0, Math.min(wanted, limit - used));
  return { record: { ...base, month, created: used + granted }, granted };
}

/** Gives back reserved creations that did not happen (failed, blocked, or out of time). */
export function releaseCreations(
  status: OrganizerStatusRecord,
  month: string,
  unused: number,
): OrganizerStatusRecord {
  if (status.month !== month || unused <= 0) return status;
  return { ...status, created: Math.max(0, status.created - unused) };
}

/** Graph itself said the month's limit is reached (other apps count too): nothing more this month. */
export function exhaustMonth(
  status: OrganizerStatusRecord | null,
  objectId: string,
  month: string,
  limit: number,
): OrganizerStatusRecord {
  const base = status ?? emptyStatus(objectId);
  return { ...base, month, created: Math.max(limit, usedInMonth(base, month)) };
}
