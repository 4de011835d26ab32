// The pure diff between what a feed wants (desired sessions) and what we remember creating (meeting
// records): the plan is plain data, logged as `sync.planned` and applied by src/sync.
//
// Every record ends up in exactly one of: an operation, `held`, `waiting`, `unchanged`. Unchanged
// records whose session only moved room are also listed in `roomChanges` (saved without a Graph call).
// A session whose key changed with its series (moves.ts) is a `move`: its meeting goes with it.
// Two guards move operations into `held` until an admin confirms: the deletion guard (cancels, below)
// and the creation guard (creates, creationGuard.ts).

import {
  DEFAULT_CREATION_GUARD_SETTINGS,
  evaluateCreationGuard,
  type CreateCandidate,
  type CreationGuard,
  type CreationGuardInput,
} from './creationGuard.js';
import { evaluateDeletionGuard, type DeletionGuard } from './deletionGuard.js';
import type { DesiredSession } from './desired.js';
import { externalIdFor, normalizeEmail } from './identity.js';
import { canMove, pairRemovedWithAdded, summarizeMoves, type MoveSummary } from './moves.js';
import type { MeetingRecord } from './state.js';

export interface PlanSettings {
  /** Share of the feed's future meetings one run may cancel without confirmation, e.g. 0.2. */
  maxCancelShare: number;
  /** Fewer cancels than this never trip the share rule (a small feed losing one session is normal). */
  guardMinCancels: number;
  /** An admin confirmed the mass cancellation: the guard reports but does not hold. */
  cancellationsConfirmed: boolean;
}

export interface PlanInput {
  desired: readonly DesiredSession[];
  records: readonly MeetingRecord[];
  /** UTC ISO. */
  now: string;
  /** End of the expansion horizon, UTC ISO: beyond it the feed tells us nothing. */
  windowEnd: string;
  settings: PlanSettings;
  /**
   * Keys of sessions the feed still has but that could not be turned into a meeting (desired.ts
   * `skipped`). Their records are left alone instead of cancelled: an event that lost its ORGANIZER by
   * mistake should not lose its meeting. Duplicates are harmless here (the winner is desired).
   */
  skippedKeys: readonly string[];
  /**
   * The previous run's `guard.held` (kept in the feed row). A tripped guard stays tripped until an admin
   * confirms or nothing is left to cancel: otherwise the meetings created meanwhile would dilute the
   * share and release the very cancels that tripped it one run later.
   */
  guardHeldBefore: boolean;
  /** The creation guard's settings, budgets, confirmation and earlier hold; absent: defaults, nothing before. */
  creation?: CreationGuardInput;
  /**
   * Rows left out of `records` because they are unchanged whatever else the plan finds (src/sync/
   * preparePlan.ts: active, no retry time, their session's content, organizer and room as stored):
   * counted in counts.unchanged (not listed in `unchanged`) and in the guards' future meetings.
   */
  settled?: SettledRows;
}

export interface SettledRows {
  unchanged: number;
  /** How many of them start after now and before windowEnd. */
  futureMeetings: number;
  /** 1 at the index in `desired` of each settled row's session: the planner passes over it. */
  sessions: Uint8Array;
}

const NO_CREATION_INPUT: CreationGuardInput = {
  settings: DEFAULT_CREATION_GUARD_SETTINGS,
  confirmed: false,
  organizerBudgets: new Map(),
  heldBefore: null,
};

export type PlannedOperation =
  | {
      kind: 'create';
      desired: DesiredSession;
      /** Existing row: 'creating' (crash), 'failed'/'blocked' (retry), 'cancelled' (revived); else null. */
      record: MeetingRecord | null;
      /** Generation and createOrGet key to use: the record's own for a retry, a new one for a revival. */
      generation: number;
      externalId: string;
    }
  | { kind: 'update'; desired: DesiredSession; record: MeetingRecord }
  | {
      /**
       * The feed no longer has `record`'s session but has `desired` instead, in the same series (same UID
       * and organizer): the row is re-keyed to desired.key (one transaction) and its meeting PATCHed, so
       * the meeting, its externalId and its join link stay.
       */
      kind: 'move';
      desired: DesiredSession;
      record: MeetingRecord;
      /** The row already at desired.key (a 'cancelled' one, replaced by the moved row), or null. */
      target: MeetingRecord | null;
      /** desired.start − record.start. */
      shiftMs: number;
      /**
       * False when the row waits for its nextAttemptAt (a failure's back-off, a lecturer's hold): it is
       * only re-keyed now (storage), and PATCHed as an update once due.
       */
      due: boolean;
    }
  | { kind: 'cancel'; record: MeetingRecord; reason: CancelReason }
  | {
      kind: 'replace';
      desired: DesiredSession;
      record: MeetingRecord;
      /** Delete the record's meeting (under record.organizerId), then create this one. */
      reason: ReplaceReason;
      generation: number;
      externalId: string;
    };

/**
 * 'removed': the feed no longer has the session; 'cancelled': STATUS:CANCELLED;
 * 'resumed': the record was 'cancelling' when a run stopped, finish it.
 */
export type CancelReason = 'removed' | 'cancelled' | 'resumed';
/** 'organizerChanged'; 'revivedWhileCancelling': the session came back before its DELETE was confirmed. */
export type ReplaceReason = 'organizerChanged' | 'revivedWhileCancelling';

export type { DeletionGuard, GuardReason } from './deletionGuard.js';

export interface PlanCounts {
  create: number;
  update: number;
  move: number;
  cancel: number;
  replace: number;
  unchanged: number;
  waiting: number;
  held: number;
  roomChanges: number;
}

export interface SyncPlan {
  /** Sorted by start (the desired start where there is one), then key. */
  operations: PlannedOperation[];
  /** Without the input's settled rows (counts.unchanged has them). */
  unchanged: MeetingRecord[];
  /** failed/blocked records whose nextAttemptAt is still ahead. */
  waiting: MeetingRecord[];
  /** Cancels held by the deletion guard, creates held by the creation guard. */
  held: PlannedOperation[];
  /**
   * Unchanged records whose session moved room or changed DESCRIPTION: not a meeting change (Teams
   * meetings have neither), but the published calendar shows both, so the row is saved with them.
   */
  roomChanges: MeetingRecord[];
  guard: DeletionGuard;
  creationGuard: CreationGuard;
  /** The moves by shift, for people ("10 sessions moved +1 h"); empty when nothing moved. */
  moves: MoveSummary[];
  counts: PlanCounts;
}

function instant(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not an ISO instant: ${value}`);
  return ms;
}

function operationStart(op: PlannedOperation): string {
  return op.kind === 'cancel' ? op.record.start : op.desired.start;
}

function operationKey(op: PlannedOperation): string {
  return op.kind === 'cancel' ? op.record.key : op.desired.key;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byStartThenKey(a: PlannedOperation, b: PlannedOperation): number {
  return (
    instant(operationStart(a), 'start') - instant(operationStart(b), 'start') ||
    compareText(operationKey(a), operationKey(b))
  );
}

function recordsByStartThenKey(a: MeetingRecord, b: MeetingRecord): number {
  return instant(a.start, 'record.start') - instant(b.start, 'record.start') || compareText(a.key, b.key);
}

interface AddedSession {
  desired: DesiredSession;
  /** Its 'cancelled' row, or null when it never had one. */
  record: MeetingRecord | null;
}

/** planSync leaves `record` unchanged, no room change, whatever else it finds (PlanInput.settled). */
export function isSettledRow(record: MeetingRecord, session: DesiredSession): boolean {
  return (
    !session.cancelled &&
    record.state === 'active' &&
    record.nextAttemptAt === null &&
    record.contentHash === session.contentHash &&
    normalizeEmail(record.organizerEmail) === session.organizerEmail &&
    (record.location ?? '') === session.location &&
    (record.description ?? '') === (session.description ?? '')
  );
}

export function planSync(input: PlanInput): SyncPlan {
  const nowMs = instant(input.now, 'now');
  const windowEndMs = instant(input.windowEnd, 'windowEnd');

  // One map for the whole partition (200,000+ rows at university scale), indexes instead of a second
  // map of the desired sessions: which record a key means (the last row with it), and per record the
  // first and last desired session with its key. Only sessions without a row get a map of their own.
  const records = input.records;
  const desiredList = input.desired;
  const recordIndexByKey = new Map<string, number>();
  for (let i = 0; i < records.length; i++) recordIndexByKey.set((records[i] as MeetingRecord).key, i);
  const firstDesiredOf = new Int32Array(records.length).fill(-1);
  const lastDesiredOf = new Int32Array(records.length).fill(-1);
  const recordOfDesired = new Int32Array(desiredList.length);
  const newKeys = new Map<string, { first: number; last: number }>();
  const settledSession = input.settled?.sessions;
  for (let i = 0; i < desiredList.length; i++) {
    if (settledSession?.[i] === 1) continue;
    const key = (desiredList[i] as DesiredSession).key;
    const r = recordIndexByKey.get(key);
    recordOfDesired[i] = r ?? -1;
    if (r !== undefined) {
      if (firstDesiredOf[r] === -1) firstDesiredOf[r] = i;
      lastDesiredOf[r] = i;
    } else {
      const seen = newKeys.get(key);
      if (seen === undefined) newKeys.set(key, { first: i, last: i });
      else seen.last = i;
    }
  }
  const skippedKeys = new Set(input.skippedKeys);

  const operations: PlannedOperation[] = [];
  /** Sessions without a live row (none, or a 'cancelled' one) that may be created, or moved to. */
  const added: AddedSession[] = [];
  /** Rows with a meeting whose session the feed no longer has, before pairing. */
  const removed: MeetingRecord[] = [];
  /** Cancels the deletion guard may hold back. */
  const guardedCancels: PlannedOperation[] = [];
  const unchanged: MeetingRecord[] = [];
  const waiting: MeetingRecord[] = [];

  const hasBegun = (record: MeetingRecord): boolean => instant(record.start, 'record.start') <= nowMs;
  const isOver = (session: DesiredSession): boolean => instant(session.end, 'desired.end') <= nowMs;
  const isWaiting = (record: MeetingRecord): boolean =>
    (record.state === 'failed' || record.state === 'blocked') &&
    record.nextAttemptAt !== null &&
    instant(record.nextAttemptAt, 'nextAttemptAt') > nowMs;

  const create = (desired: DesiredSession, record: MeetingRecord | null, generation: number): void => {
    operations.push({
      kind: 'create',
      desired,
      record,
      generation,
      externalId: externalIdFor(desired.key, generation),
    });
  };
  const replace = (desired: DesiredSession, record: MeetingRecord, reason: ReplaceReason): void => {
    const generation = record.generation + 1;
    operations.push({
      kind: 'replace',
      desired,
      record,
      reason,
      generation,
      externalId: externalIdFor(desired.key, generation),
    });
  };

  // A desired session against its record (if any). One per key: toDesiredSessions already dedupes, and
  // should a caller not, the last one wins (at the place of the first) rather than two operations on
  // one meeting.
  for (let i = 0; i < desiredList.length; i++) {
    if (settledSession?.[i] === 1) continue;
    const r = recordOfDesired[i] as number;
    let desired: DesiredSession;
    let record: MeetingRecord | null;
    if (r >= 0) {
      if (firstDesiredOf[r] !== i) continue;
      desired = desiredList[lastDesiredOf[r] as number] as DesiredSession;
      record = records[r] as MeetingRecord;
    } else {
      const seen = newKeys.get((desiredList[i] as DesiredSession).key) as { first: number; last: number };
      if (seen.first !== i) continue;
      desired = desiredList[seen.last] as DesiredSession;
      record = null;
    }

    if (desired.cancelled) {
      if (record === null) continue; // Nothing was ever created: nothing to do, nothing to report.
      if (record.state === 'cancelled' || hasBegun(record)) unchanged.push(record);
      else if (isWaiting(record)) waiting.push(record);
      else if (record.state === 'cancelling') operations.push({ kind: 'cancel', record, reason: 'resumed' });
      else guardedCancels.push({ kind: 'cancel', record, reason: 'cancelled' });
      continue;
    }

    if (record === null) {
      if (!isOver(desired)) added.push({ desired, record: null });
      continue;
    }

    const sameOrganizer = normalizeEmail(record.organizerEmail) === desired.organizerEmail;
    switch (record.state) {
      case 'cancelled':
        // Revived: a fresh meeting (new generation), since the old one was deleted or locked.
        if (isOver(desired)) unchanged.push(record);
        else added.push({ desired, record });
        break;
      case 'creating':
        // A run stopped between writing the row and storing the meeting: createOrGet with the same
        // externalId returns the meeting if it was made. Under another organizer it is a replace (the
        // shell finds the old one, if any, by createOrGet under the old organizer and deletes it).
        if (isOver(desired)) unchanged.push(record);
        else if (sameOrganizer) create(desired, record, record.generation);
        else if (hasBegun(record)) unchanged.push(record);
        else replace(desired, record, 'organizerChanged');
        break;
      case 'failed':
      case 'blocked':
        if (isWaiting(record)) waiting.push(record);
        else if (record.meetingId === null) {
          // Never confirmed: retry the create with the same externalId (a timed-out create may have
          // made the meeting after all). Under a new organizer such an unconfirmed meeting could be left
          // behind, so that is a replace too.
          if (isOver(desired)) unchanged.push(record);
          else if (sameOrganizer) create(desired, record, record.generation);
          else if (hasBegun(record)) unchanged.push(record);
          else replace(desired, record, 'organizerChanged');
        } else if (hasBegun(record)) unchanged.push(record);
        // The meeting exists and the last change to it failed: the stored hash may already be the
        // desired one (written before the PATCH), so PATCH again whatever the hash says.
        else if (sameOrganizer) operations.push({ kind: 'update', desired, record });
        else replace(desired, record, 'organizerChanged');
        break;
      case 'cancelling':
        if (hasBegun(record)) unchanged.push(record);
        // The DELETE may or may not have happened: the old meeting cannot be trusted, make a new one.
        else replace(desired, record, 'revivedWhileCancelling');
        break;
      case 'active':
        if (hasBegun(record)) unchanged.push(record);
        else if (!sameOrganizer) replace(desired, record, 'organizerChanged');
        else if (record.contentHash !== desired.contentHash)
          operations.push({ kind: 'update', desired, record });
        else unchanged.push(record);
        break;
    }
  }

  // Records the feed no longer has.
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as MeetingRecord;
    const last = recordIndexByKey.get(record.key) as number;
    const isShadowed = records[last] !== record; // two rows with one key: the last one counts
    if (isShadowed) unchanged.push(record);
    if (isShadowed || firstDesiredOf[last] !== -1) continue;
    if (record.state === 'cancelled' || hasBegun(record)) unchanged.push(record);
    // Outside the horizon the feed says nothing about the session, so its absence means nothing.
    else if (instant(record.start, 'record.start') >= windowEndMs) unchanged.push(record);
    else if (skippedKeys.has(record.key)) unchanged.push(record);
    // Already decided (and guarded) in an earlier run: finish it.
    else if (record.state === 'cancelling') operations.push({ kind: 'cancel', record, reason: 'resumed' });
    else if (canMove(record)) removed.push(record);
    else if (isWaiting(record)) waiting.push(record);
    else guardedCancels.push({ kind: 'cancel', record, reason: 'removed' });
  }

  // Sessions that left and sessions that came in the same series: moves. The rest as before.
  const shifts: number[] = [];
  const paired = pairRemovedWithAdded(
    removed,
    added.map(({ desired }) => desired),
  );
  const removedPaired = new Uint8Array(removed.length);
  const addedPaired = new Uint8Array(added.length);
  for (const [r, a] of paired) {
    const record = removed[r] as MeetingRecord;
    const { desired, record: target } = added[a] as AddedSession;
    removedPaired[r] = 1;
    addedPaired[a] = 1;
    const shiftMs = instant(desired.start, 'desired.start') - instant(record.start, 'record.start');
    operations.push({ kind: 'move', desired, record, target, shiftMs, due: !isWaiting(record) });
    shifts.push(shiftMs);
  }
  for (let a = 0; a < added.length; a++) {
    if (addedPaired[a]) continue;
    const { desired, record } = added[a] as AddedSession;
    // Revived: a fresh meeting (new generation), since the old one was deleted, locked or moved away.
    create(desired, record, record === null ? 0 : record.generation + 1);
  }
  for (let r = 0; r < removed.length; r++) {
    if (removedPaired[r]) continue;
    const record = removed[r] as MeetingRecord;
    if (isWaiting(record)) waiting.push(record);
    else guardedCancels.push({ kind: 'cancel', record, reason: 'removed' });
  }

  // Counted, not filtered into a copy of the partition.
  let futureMeetings = input.settled?.futureMeetings ?? 0;
  for (const record of records) {
    const start = instant(record.start, 'record.start');
    if (record.state !== 'cancelled' && start > nowMs && start < windowEndMs) futureMeetings++;
  }
  const guard = evaluateDeletionGuard({
    ...input.settings,
    guardHeldBefore: input.guardHeldBefore,
    hasFutureSession: input.desired.some((session) => {
      const start = instant(session.start, 'desired.start');
      return !session.cancelled && start > nowMs && start < windowEndMs;
    }),
    wouldCancel: guardedCancels.length,
    futureMeetings,
  });
  const held: PlannedOperation[] = guard.held ? guardedCancels : [];
  // Before the cancels join the operations: the creation guard looks at creates only.
  const creationGuard = holdCreates(operations, held, futureMeetings, input.creation ?? NO_CREATION_INPUT);
  // A loop, not push(...): a feed emptied at university scale is 200,000 cancels, too many arguments.
  if (!guard.held) for (const cancel of guardedCancels) operations.push(cancel);

  operations.sort(byStartThenKey);
  held.sort(byStartThenKey);
  unchanged.sort(recordsByStartThenKey);
  waiting.sort(recordsByStartThenKey);

  const roomChanges: MeetingRecord[] = [];
  for (const record of unchanged) {
    const r = recordIndexByKey.get(record.key) as number;
    if (records[r] !== record || lastDesiredOf[r] === -1) continue; // shadowed, or no session any more
    const { location, description = '' } = desiredList[lastDesiredOf[r] as number] as DesiredSession;
    if ((record.location ?? '') !== location || (record.description ?? '') !== description)
      roomChanges.push({ ...record, location, description });
  }

  const counts = { create: 0, update: 0, move: 0, cancel: 0, replace: 0 };
  for (const op of operations) counts[op.kind]++;
  return {
    operations,
    unchanged,
    waiting,
    held,
    roomChanges,
    guard,
    creationGuard,
    moves: summarizeMoves(shifts),
    counts: {
      create: counts.create,
      update: counts.update,
      move: counts.move,
      cancel: counts.cancel,
      replace: counts.replace,
      unchanged: unchanged.length + (input.settled?.unchanged ?? 0),
      waiting: waiting.length,
      held: held.length,
      roomChanges: roomChanges.length,
    },
  };
}

/**
 * Runs the creation guard over the plan's creates: the ones it holds move from `operations` (filtered
 * in place) to `held`.
 */
function holdCreates(
  operations: PlannedOperation[],
  held: PlannedOperation[],
  futureMeetings: number,
  input: CreationGuardInput,
): CreationGuard {
  const creates: Array<Extract<PlannedOperation, { kind: 'create' }>> = [];
  for (const op of operations) if (op.kind === 'create') creates.push(op);
  const result = evaluateCreationGuard(
    creates satisfies CreateCandidate[],
    futureMeetings,
    input,
    held.length > 0, // the deletion guard holds cancels: new meetings wait with them
  );
  if (!result.guard.held) return result.guard;
  const heldOps = new Set<PlannedOperation>();
  for (let i = 0; i < creates.length; i++) if (result.held[i]) heldOps.add(creates[i] as PlannedOperation);
  let kept = 0;
  for (const op of operations) {
    if (heldOps.has(op)) held.push(op);
    else operations[kept++] = op;
  }
  operations.length = kept;
  return result.guard;
}
