// Step 2 of a sync, and the whole of a dry run: the feed's stored rows, policy holds that a recorded
// grant has released, and the complete plan input. One function, so a dry run shows what a sync does.
import type { DesiredResult, DesiredSession } from '../core/desired.js';
import {
  isSettledRow,
  planSync,
  type PlannedOperation,
  type SettledRows,
  type SyncPlan,
} from '../core/plan.js';
import { decidePolicyGate, effectivePolicySettings } from '../core/policy.js';
import type { MeetingRecord } from '../core/state.js';
import { isHeldByPolicy } from '../core/transitions.js';
import { toUtcIso } from '../core/identity.js';
import type { AppConfig } from '../config.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord } from '../storage/types.js';
import type { FeedWindow } from './loadFeed.js';
import { creationGuardInput } from './creationGuardInput.js';

export interface PrepareDeps {
  store: Pick<StateStore, 'meetings' | 'policies' | 'organizers'>;
  config: Pick<AppConfig, 'sync' | 'policy'>;
}

export interface PreparedPlan {
  /** Its operations, holds, waiting rows and room changes are full rows; its unchanged rows are only counted. */
  plan: SyncPlan;
  /**
   * The rows the plan was made from (as stored, with their ETags), as a planning read: only their keys,
   * states and what the plan compares are for use (listByFeed forPlanning). Every row the plan's
   * operations, holds, waiting list and room changes name is read in full.
   */
  records: MeetingRecord[];
}

export interface PrepareOptions {
  /**
   * 'listed' (default): every unchanged row is in plan.unchanged, as a dry run shows them. 'counted'
   * (a sync, which only counts them): active rows whose session is unchanged are counted as they are
   * read and not kept (98 % of a semester's 200,000+ rows on a normal run).
   */
  unchanged?: 'listed' | 'counted';
}

/** `feed` is null for a dry run of a feed not registered yet. */
export async function preparePlan(
  deps: PrepareDeps,
  feedId: string,
  feed: FeedRecord | null,
  desired: DesiredResult,
  window: FeedWindow,
  options: PrepareOptions = {},
): Promise<PreparedPlan> {
  const sessions = desired.sessions;
  const sessionWithKey = sessionIndex(sessions);
  const settle = options.unchanged === 'counted' ? settler(sessions, window) : null;
  // A semester is 200,000+ rows, and the plan acts on a few of them: the partition is read without
  // each row's meeting id and join link, and only the rows the plan names are read again in full.
  let records: MeetingRecord[] | null = await deps.store.meetings.listByFeed(feedId, {
    forPlanning: true,
    sameStrings: (key) => sessions[sessionWithKey(key)],
    ...(settle ? { keep: (record: MeetingRecord) => !settle.take(record, sessionWithKey(record.key)) } : {}),
  });
  let plan: SyncPlan | null = await planOver(deps, feed, desired, window, records, settle);
  const named = namedRows(plan);
  const rows = records.length + (settle?.settled.unchanged ?? 0);
  // When the plan names most rows (a meeting option changed: every row is an update), reading them in
  // full beside the planning read and its plan would hold both: one full read costs less then.
  if (named.size <= Math.max(MIN_ROWS_READ_TWICE, rows * MAX_SHARE_READ_TWICE)) {
    const hydrated = withFullRows(plan, await deps.store.meetings.getMany(feedId, named));
    if (hydrated) return { plan: hydrated, records };
  }
  // Or a row changed (or went) between the two reads: plan again over one full read, as if it were the
  // first, once the planning read and its plan are let go.
  records = plan = null;
  const current = await deps.store.meetings.listByFeed(feedId);
  return { plan: await planOver(deps, feed, desired, window, current, null), records: current };
}

/** Up to this share of a feed's rows (or this many), the rows a plan names are read again in full. */
const MAX_SHARE_READ_TWICE = 0.25;
const MIN_ROWS_READ_TWICE = 100;

async function planOver(
  deps: PrepareDeps,
  feed: FeedRecord | null,
  desired: DesiredResult,
  window: FeedWindow,
  records: MeetingRecord[],
  settle: Settler | null,
): Promise<SyncPlan> {
  // A settled row's session has a live row: it can be no new meeting, as the guard would find.
  const guardSessions =
    settle && settle.settled.unchanged > 0
      ? desired.sessions.filter((_, i) => settle.settled.sessions[i] !== 1)
      : desired.sessions;
  const creation = await creationGuardInput(deps, feed, guardSessions, records, window.now);
  return planSync({
    desired: desired.sessions,
    records: await releasePolicyHolds(deps, records, window.now),
    now: window.now,
    windowEnd: toUtcIso(window.to),
    skippedKeys: desired.skipped.map((s) => s.key),
    guardHeldBefore: feed?.guard?.held === true,
    settings: {
      maxCancelShare: deps.config.sync.maxCancelShare,
      guardMinCancels: deps.config.sync.guardMinCancels,
      cancellationsConfirmed: feed !== null && feed.cancellationsConfirmedAt !== null,
    },
    creation,
    ...(settle ? { settled: settle.settled } : {}),
  });
}

interface Settler {
  settled: SettledRows;
  /** Counts `record` as settled (true) when the plan would leave it unchanged whatever else it finds. */
  take(record: MeetingRecord, sessionIndex: number): boolean;
}

/**
 * Counts the rows isSettledRow (src/core/plan.ts) says the planner would leave alone, for the one
 * session with the row's key; rows with a start the planner refuses are left to it. A partition has one
 * row per key.
 */
function settler(sessions: readonly DesiredSession[], window: FeedWindow): Settler {
  const nowMs = Date.parse(window.now);
  const windowEndMs = Date.parse(toUtcIso(window.to));
  const settled: SettledRows = {
    unchanged: 0,
    futureMeetings: 0,
    sessions: new Uint8Array(sessions.length),
  };
  return {
    settled,
    take(record, index) {
      const session = sessions[index];
      if (!session || !isSettledRow(record, session)) return false;
      const start = Date.parse(record.start);
      if (Number.isNaN(start)) return false;
      settled.unchanged++;
      if (start > nowMs && start < windowEndMs) settled.futureMeetings++;
      settled.sessions[index] = 1;
      return true;
    },
  };
}

/**
 * The index of the one session with a key (-1 when none or several), so that a row and its session
 * share their key and content hash (two copies of each for 200,000 sessions are ~20 MB) and a row can
 * be settled as it is read: a binary search over the sessions in key order, not a map of every key.
 */
function sessionIndex(sessions: readonly DesiredSession[]): (key: string) => number {
  const keyOf = (i: number): string => (sessions[i] as DesiredSession).key;
  const order = Uint32Array.from(sessions.keys()).sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return (key) => {
    let low = 0;
    let high = order.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = keyOf(order[middle] as number);
      if (found === key) {
        const twice =
          (middle > 0 && keyOf(order[middle - 1] as number) === key) ||
          (middle + 1 < order.length && keyOf(order[middle + 1] as number) === key);
        return twice ? -1 : (order[middle] as number);
      }
      if (found < key) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  };
}

/** The keys of the rows a plan acts on, holds, waits for, or saves with a new room. */
function namedRows(plan: SyncPlan): Set<string> {
  const keys = new Set<string>();
  const addOperation = (op: PlannedOperation): void => {
    if (op.kind === 'create') {
      if (op.record) keys.add(op.record.key);
    } else keys.add(op.record.key);
    if (op.kind === 'move' && op.target) keys.add(op.target.key);
  };
  for (const op of plan.operations) addOperation(op);
  for (const op of plan.held) addOperation(op);
  for (const record of plan.waiting) keys.add(record.key);
  for (const record of plan.roomChanges) keys.add(record.key);
  return keys;
}

/**
 * The plan with every row it names read in full; null when one of them is not the version planned
 * (another ETag, or gone). The planner's own changes to a row are kept: a policy hold it released
 * (nextAttemptAt) and a new room (location, description).
 */
function withFullRows(plan: SyncPlan, full: ReadonlyMap<string, MeetingRecord>): SyncPlan | null {
  let stale = false;
  const fullRow = (planned: MeetingRecord): MeetingRecord => {
    const row = full.get(planned.key);
    if (!row || row.etag !== planned.etag) {
      stale = true;
      return planned;
    }
    return row.nextAttemptAt === planned.nextAttemptAt
      ? row
      : { ...row, nextAttemptAt: planned.nextAttemptAt };
  };
  const withRows = (op: PlannedOperation): PlannedOperation => {
    switch (op.kind) {
      case 'create':
        return op.record ? { ...op, record: fullRow(op.record) } : op;
      case 'move':
        return { ...op, record: fullRow(op.record), target: op.target ? fullRow(op.target) : null };
      default:
        return { ...op, record: fullRow(op.record) };
    }
  };
  const operations = plan.operations.map(withRows);
  const held = plan.held.map(withRows);
  const waiting = plan.waiting.map(fullRow);
  const roomChanges = plan.roomChanges.map((changed) => ({
    ...fullRow(changed),
    location: changed.location,
    description: changed.description,
  }));
  return stale ? null : { ...plan, operations, held, waiting, roomChanges };
}

/**
 * Rows blocked by the policy gate wait for their nextAttemptAt (the probe interval, hours for a missing
 * policy). A grant recorded since then (or any other change that makes the gate allow the organizer now)
 * releases them at once, as the policy.missing message promises: the planner sees them as due, and the
 * gate still sends one probe first. Only the plan's view changes; the stored rows keep their ETags.
 */
async function releasePolicyHolds(
  deps: PrepareDeps,
  records: MeetingRecord[],
  now: string,
): Promise<MeetingRecord[]> {
  if (!records.some((r) => isHeldByPolicy(r, now))) return records;
  const policies = new Map((await deps.store.policies.list()).map((p) => [p.objectId, p]));
  const settings = effectivePolicySettings(deps.config.policy, policies);
  const organizerIds = new Map<string, string | null>();
  const released: MeetingRecord[] = [];
  for (const record of records) {
    if (!isHeldByPolicy(record, now)) {
      released.push(record);
      continue;
    }
    let objectId = record.organizerId;
    if (!objectId) {
      if (!organizerIds.has(record.organizerEmail))
        organizerIds.set(
          record.organizerEmail,
          (await deps.store.organizers.get(record.organizerEmail))?.objectId ?? null,
        );
      objectId = organizerIds.get(record.organizerEmail) ?? null;
    }
    const allowed =
      objectId !== null && decidePolicyGate(policies.get(objectId) ?? null, now, settings).allow;
    released.push(allowed ? { ...record, nextAttemptAt: now } : record);
  }
  return released;
}
