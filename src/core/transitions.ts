// Row-state rules of a meeting row, as pure functions of (row, what happened, now): the apply units in
// src/sync/apply decide nothing of their own about states, retry times or which fields a row keeps.
//
//   (none) ─create─► creating ─createOrGet ok─► active ─PATCH ok─► active
//   creating/failed ─Graph error─► failed (retry at back-off)      active ─cancel─► cancelling ─► cancelled
//   any planned row ─policy/organizer gate─► blocked (retry when the gate says)
import { nextAttemptAt, type BackoffOptions } from './backoff.js';
import type { DesiredSession } from './desired.js';
import { toUtcIso } from './identity.js';
import type { PlannedOperation } from './plan.js';
import type { MeetingError, MeetingRecord } from './state.js';

/** Back-off of a failed Graph call: transient faults retry soon; a request Graph refuses waits for a person. */
export const FAILURE_BACKOFF: BackoffOptions = { baseMs: 60_000, maxMs: 6 * 3_600_000, jitter: 0.2 };
export const NEEDS_ACTION_BACKOFF: BackoffOptions = { baseMs: 3_600_000, maxMs: 6 * 3_600_000, jitter: 0.2 };
/** A directory look-up that failed (not "no such user"), or a policy 403 the gate would allow at once. */
export const SHORT_RETRY_BACKOFF: BackoffOptions = { baseMs: 60_000, maxMs: 3_600_000 };
/** An organizer the directory does not know is looked up again after this long. */
export const UNKNOWN_ORGANIZER_RETRY_MS = 3_600_000;

/** Error kinds after which a create may have committed in Graph although no answer came back. */
const IN_TRANSIT_FAILURES: ReadonlySet<string> = new Set(['transient', 'throttled', 'unknown']);
/** Error kinds that no retry fixes without someone acting (the request or the meeting is wrong). */
const NEEDS_ACTION_FAILURES: ReadonlySet<string> = new Set(['invalidRequest', 'notFound']);

/**
 * Whether Graph may already hold a meeting for this row even though we never stored its id. A
 * 'cancelling' row without one may be a lost create being cancelled: only createOrGet can tell, and a
 * create it makes by asking is removed straight away, which is better than an orphan.
 */
export function mayHaveMeeting(record: MeetingRecord): boolean {
  if (record.meetingId) return true;
  if (record.state === 'creating' || record.state === 'cancelling') return true;
  if (record.state !== 'failed') return false;
  return (
    record.lastError?.meetingMayExist === true || IN_TRANSIT_FAILURES.has(record.lastError?.code ?? 'unknown')
  );
}

/** The row an operation is about (cancels have no desired session). */
export function operationKey(op: PlannedOperation): string {
  return op.kind === 'cancel' ? op.record.key : op.desired.key;
}

/** What a meeting row records of its session: the fields a plan compares and a calendar publishes. */
export function meetingContent(
  desired: DesiredSession,
): Pick<MeetingRecord, 'subject' | 'start' | 'end' | 'location' | 'description' | 'contentHash'> {
  return {
    subject: desired.subject,
    start: desired.start,
    end: desired.end,
    location: desired.location,
    description: desired.description ?? '',
    contentHash: desired.contentHash,
  };
}

/** A row for a session that never had one, before anything is sent to Graph. */
export function newMeetingRow(
  feedId: string,
  desired: DesiredSession,
  externalId: string,
  generation: number,
): MeetingRecord {
  return {
    feedId,
    key: desired.key,
    uid: desired.uid,
    recurrenceId: desired.recurrenceId,
    organizerEmail: desired.organizerEmail,
    organizerId: null,
    externalId,
    generation,
    meetingId: null,
    joinWebUrl: null,
    ...meetingContent(desired),
    state: 'creating',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
  };
}

/** Stored before createOrGet, with the key Graph will know the meeting by: a crash repeats safely. */
export function creatingRow(
  base: MeetingRecord,
  desired: DesiredSession,
  organizer: { email: string; objectId: string },
  externalId: string,
  generation: number,
): MeetingRecord {
  return {
    ...base,
    organizerEmail: organizer.email,
    organizerId: organizer.objectId,
    externalId,
    generation,
    ...meetingContent(desired),
    state: 'creating',
  };
}

const SETTLED = { attempts: 0, nextAttemptAt: null, lastError: null } as const;

export function createdRow(
  record: MeetingRecord,
  meeting: { id: string; joinWebUrl: string | null },
): MeetingRecord {
  return { ...record, meetingId: meeting.id, joinWebUrl: meeting.joinWebUrl, state: 'active', ...SETTLED };
}

export function updatedRow(record: MeetingRecord, desired: DesiredSession): MeetingRecord {
  return { ...record, ...meetingContent(desired), state: 'active', ...SETTLED };
}

export function cancellingRow(record: MeetingRecord): MeetingRecord {
  return { ...record, state: 'cancelling' };
}

/** The meeting is deleted (or locked) or never existed: the row stays so a revived session gets a new generation. */
export function cancelledRow(record: MeetingRecord): MeetingRecord {
  return { ...record, state: 'cancelled', meetingId: null, joinWebUrl: null, ...SETTLED };
}

/**
 * The two rows of a move (plan.ts), written in one transaction. The old key keeps a 'cancelled' row
 * (without the meeting), so a session that comes back there gets a fresh meeting, never this one. The
 * new key gets the meeting, its externalId and link, and the session as the feed has it now, but the
 * old contentHash: the meeting still looks as before until its PATCH, so if the run stops between the
 * two, the next plan PATCHes it (an ordinary update). Its generation is the one of the row it replaces
 * at the new key (a 'cancelled' one), so a later fresh meeting there takes a createOrGet key never used.
 */
export function movedRows(op: Extract<PlannedOperation, { kind: 'move' }>): {
  vacated: MeetingRecord;
  moved: MeetingRecord;
} {
  const { record, desired, target } = op;
  const { etag: _etag, ...rest } = record;
  const moved: MeetingRecord = {
    ...rest,
    key: desired.key,
    uid: desired.uid,
    recurrenceId: desired.recurrenceId,
    ...meetingContent(desired),
    contentHash: record.contentHash,
    generation: target ? target.generation : record.generation,
    ...(target?.etag !== undefined ? { etag: target.etag } : {}),
  };
  return { vacated: cancelledRow(record), moved };
}

/** The same session needs a fresh meeting (the old one was deleted in Teams, or replaced). */
export function withoutMeeting(record: MeetingRecord): MeetingRecord {
  return { ...record, meetingId: null, joinWebUrl: null };
}

export interface FailedAttempt {
  row: MeetingRecord;
  retryAt: string;
  /** True when retrying alone will not help (logged as an error, retried hourly). */
  needsAction: boolean;
}

/** A Graph call for this row failed: count the attempt and choose when to try again. */
export function failedRow(
  record: MeetingRecord,
  operation: PlannedOperation['kind'],
  error: { kind: string; message: string; requestId: string | null; retryAfterSeconds?: number | null },
  now: string,
  /** The row as the plan found it (before this run wrote it 'creating'), when there was one. */
  found: MeetingRecord | null = null,
): FailedAttempt {
  const attempts = record.attempts + 1;
  const needsAction = NEEDS_ACTION_FAILURES.has(error.kind);
  const backedOff = nextAttemptAt(now, attempts, {
    ...(needsAction ? NEEDS_ACTION_BACKOFF : FAILURE_BACKOFF),
    seed: record.key,
  });
  // Graph said when to come back (Retry-After longer than the run could wait): not before that.
  const askedFor = error.retryAfterSeconds
    ? toUtcIso(Date.parse(now) + error.retryAfterSeconds * 1000)
    : null;
  const retryAt = askedFor !== null && askedFor > backedOff ? askedFor : backedOff;
  // A later failure must not forget that an earlier attempt may have made the meeting (a 400 now says
  // nothing about the create whose answer was lost before).
  const meetingMayExist =
    !record.meetingId && ((found !== null && mayHaveMeeting(found)) || IN_TRANSIT_FAILURES.has(error.kind));
  const lastError: MeetingError = {
    code: error.kind,
    message: error.message,
    ...(error.requestId ? { requestId: error.requestId } : {}),
    at: now,
    ...(meetingMayExist ? { meetingMayExist } : {}),
  };
  // A row that was never stored keeps its old state where it had one; a failed cancel stays 'cancelling'.
  const state =
    operation === 'cancel'
      ? 'cancelling'
      : record.state === 'active' || record.state === 'cancelled'
        ? record.state
        : 'failed';
  return { row: { ...record, state, attempts, nextAttemptAt: retryAt, lastError }, retryAt, needsAction };
}

/**
 * An operation the organizer or policy gate holds back. `found` is the row as this run found it (a
 * 'creating' row written by this run whose createOrGet was refused, or never sent, has no meeting behind
 * it); `current` is the row as it is now.
 */
export function blockedRow(
  op: PlannedOperation,
  current: MeetingRecord,
  error: MeetingError,
  retryAt: string,
  organizerId: string | null,
): MeetingRecord {
  // A cancel never waits on a policy: it is held only when its organizer was refused, and stays 'cancelling'.
  if (op.kind === 'cancel')
    return { ...current, state: 'cancelling', nextAttemptAt: retryAt, lastError: error };
  if (op.record !== null && mayHaveMeeting(op.record)) {
    // A meeting may exist under the row's organizer: keep who owns it, so a later cancel or replace
    // finds it. An unconfirmed one stays 'creating' (createOrGet will find it again).
    return {
      ...current,
      state: current.meetingId ? current.state : 'creating',
      nextAttemptAt: retryAt,
      lastError: error,
    };
  }
  const { desired } = op;
  return {
    ...current,
    organizerEmail: desired.organizerEmail,
    organizerId,
    subject: desired.subject,
    start: desired.start,
    end: desired.end,
    location: desired.location,
    description: desired.description ?? '',
    state: 'blocked',
    nextAttemptAt: retryAt,
    lastError: error,
  };
}

/** Policy-blocked rows wait for their retry time; a grant recorded since then may release them early. */
export function isHeldByPolicy(record: MeetingRecord, now: string): boolean {
  return (
    record.state === 'blocked' &&
    record.nextAttemptAt !== null &&
    record.nextAttemptAt > now &&
    (record.lastError?.code === 'policyMissing' || record.lastError?.code === 'policyPropagating')
  );
}

/** The subject a locked (CANCEL_MODE=lock) meeting gets, once. */
export function lockedSubject(subject: string): string {
  return subject.startsWith('Cancelled: ') ? subject : `Cancelled: ${subject}`;
}
