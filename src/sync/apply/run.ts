// The state one application of a plan shares between its units: the rows written so far (each unit
// writes conditionally on the row it last saw), the run's counters, its clock, its time budget, and
// whether it was stopped (run.stop: storage unavailable, or any other reason no operation may start).
import { performance } from 'node:perf_hooks';

import { toUtcIso } from '../../core/identity.js';
import type { PlannedOperation } from '../../core/plan.js';
import type { MeetingRecord } from '../../core/state.js';
import { newMeetingRow, operationKey } from '../../core/transitions.js';
import type { AppConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import type { EventLogger } from '../../events.js';
import type { GraphAccess } from '../../graph/client.js';
import { ConcurrencyError, restErrorInfo, type StorageError } from '../../storage/errors.js';
import type { StateStore } from '../../storage/index.js';
import type { Limiter } from '../limiter.js';
import { OrganizerLedger } from './organizerLedger.js';

export interface ApplyDeps {
  store: StateStore;
  graph: Pick<GraphAccess, 'users' | 'meetings'>;
  limiter: Limiter;
  logger: EventLogger;
  config: Pick<AppConfig, 'sync' | 'policy'>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /**
   * Waits within one run before a propagating organizer is tried again (ms). A grant that lands
   * during these waits gets its meetings in this run; otherwise the next run retries at the policy
   * gate's back-off time.
   */
  policyRetryWaitsMs: readonly number[];
}

export interface ApplyCounters {
  created: number;
  updated: number;
  cancelled: number;
  blocked: number;
  failed: number;
  /** Rows another run (a second queue message) wrote first: that run owns them. */
  raced: number;
  /** Operations a storage failure interrupted (their rows were not all written): the next run re-plans them. */
  storageFailed: number;
}

/** What applyOperations throws after `run.stop('…')` with a plain reason. */
export class RunStoppedError extends AppError {
  override name = 'RunStoppedError';
  constructor(reason: string) {
    super('runStopped', `the run was stopped: ${reason}`);
  }
}

/** Why a run was stopped (see ApplyRun.stop). */
export interface RunStop {
  /** What stopped it, stable for code and logs: 'storageUnavailable', 'leaseLost', … */
  code: string;
  /** Safe to log and show: no connection string, key or token. */
  message: string;
  /** What applyOperations throws once the run's lanes have drained, so its caller (the queue handler) sees it. */
  error: Error;
}

/**
 * Consecutive storage failures, counted across the run's lanes, that stop the run. A successful storage
 * write in between resets the count: one slow or failed write is the SDK's to retry, three in a row with
 * nothing succeeding means the storage is gone (each failure already went through the SDK's retries).
 */
export const STORAGE_FAILURES_TO_STOP = 3;
/** RunStop.code of a run stopped because the storage is unavailable. */
export const STORAGE_UNAVAILABLE = 'storageUnavailable';

/**
 * The properties of `storage.unavailable`: where it happened, the storage's answer (status, the SDK's
 * code such as ECONNREFUSED) and what to do. StorageError messages name the table and row, never the
 * connection string or a key.
 */
export function storageUnavailableEvent(
  feedId: string,
  operation: string,
  error: StorageError,
  failures: number,
): Record<string, unknown> {
  const { statusCode, code } = restErrorInfo(error.cause);
  return {
    feedId,
    operation,
    failures,
    code: error.code,
    status: statusCode ?? null,
    storageCode: code ?? null,
    message: error.message,
    action:
      'check that the storage account (AzureWebJobsStorage) is reachable and healthy; the run stopped without sending more to Graph, the queue redelivers the sync and the next run resumes where this one stopped',
  };
}

/**
 * Who a lecturer is, as every event about one names them: on-call needs the e-mail and name to know whom
 * to call, the object id for the Grant cmdlet. Null where this run has not learnt it (no look-up needed).
 */
export interface Lecturer {
  email: string | null;
  displayName: string | null;
  objectId: string | null;
}

export class ApplyRun {
  readonly counters: ApplyCounters = {
    created: 0,
    updated: 0,
    cancelled: 0,
    blocked: 0,
    failed: 0,
    raced: 0,
    storageFailed: 0,
  };
  /** The time budget ran out before every operation was tried. */
  stoppedEarly = false;
  /** Graph refused the app itself: nothing more is sent in this run. */
  abortReason: string | null = null;
  /** Organizer refusals and monthly budgets, shared by every lane of the run. */
  readonly organizers: OrganizerLedger = new OrganizerLedger(this);
  private readonly written = new Map<string, MeetingRecord>();
  private readonly lecturers = new Map<string, Lecturer>();
  private stopped_: RunStop | null = null;
  /** Storage failures since the last successful storage write (across lanes). */
  private storageFailuresInARow = 0;

  constructor(
    readonly deps: ApplyDeps,
    readonly feedId: string,
    /** performance.now() after which no new operation starts. */
    private readonly budgetEndsAt: number,
  ) {}

  get log(): EventLogger {
    return this.deps.logger;
  }

  /** Remembers who an organizer object id is (a later answer without a name keeps the earlier name). */
  noteLecturer(objectId: string, email: string, displayName: string | null): void {
    const known = this.lecturers.get(objectId);
    this.lecturers.set(objectId, { email, displayName: displayName ?? known?.displayName ?? null, objectId });
  }

  /** The e-mail, display name and object id to put in an event about this organizer. */
  lecturer(objectId: string): Lecturer {
    return this.lecturers.get(objectId) ?? { email: null, displayName: null, objectId };
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  /** Every operation was tried and no row was lost to another run or to a storage failure. */
  get complete(): boolean {
    return (
      !this.stoppedEarly &&
      !this.aborted &&
      !this.stopped &&
      this.counters.raced === 0 &&
      this.counters.storageFailed === 0
    );
  }

  /**
   * Stops the run, for any reason that means no further operation may start: the storage is
   * unavailable (noteStorageFailure), or the feed's lease (fencing) was lost, or anything else that
   * passes a reason: a string (then applyOperations throws a RunStoppedError with it) or a RunStop.
   *
   * - The lanes check `stopped` before each operation (as they check outOfTime()), also when an
   *   operation leaves the limiter's queue, and write nothing more for held operations; so no Graph
   *   call starts after the stop.
   * - Operations already in flight finish: their Graph call may complete and their row writes may fail.
   *   That is safe: a create's row is stored as `creating` with its createOrGet key before Graph is
   *   called, so a meeting whose `active` write failed is found again (not duplicated) by the next run.
   * - Once every lane has drained, applyOperations throws the stop's `error` (the run summary is not
   *   written by a sync: the queue handler rethrows, so the message is redelivered). `complete` is false.
   *
   * The first stop wins (its reason is kept); later calls return false and change nothing.
   */
  stop(reason: string | RunStop): boolean {
    if (this.stopped_) return false;
    this.stopped_ =
      typeof reason === 'string'
        ? { code: 'stopped', message: reason, error: new RunStoppedError(reason) }
        : reason;
    return true;
  }

  /** Why the run was stopped (safe to log), or null while it runs. */
  get stopReason(): string | null {
    return this.stopped_?.message ?? null;
  }

  /** The whole stop: code, message and the error applyOperations throws; null while the run runs. */
  get stopCause(): RunStop | null {
    return this.stopped_;
  }

  get stopped(): boolean {
    return this.stopped_ !== null;
  }

  /** A storage call succeeded: the storage is there, whatever failed before. */
  noteStorageSuccess(): void {
    this.storageFailuresInARow = 0;
  }

  /**
   * A storage call of `operation` failed (after the SDK's retries) with anything but a lost ETag race.
   * STORAGE_FAILURES_TO_STOP in a row, or one that leaves a lane unable to go on (`fatal`), stop the
   * run with one `storage.unavailable` event. Returns true when the run is (now or already) stopped.
   */
  noteStorageFailure(error: StorageError, operation: string, options: { fatal?: boolean } = {}): boolean {
    if (this.stopped) return true;
    this.storageFailuresInARow++;
    if (!options.fatal && this.storageFailuresInARow < STORAGE_FAILURES_TO_STOP) return false;
    this.stop({ code: STORAGE_UNAVAILABLE, message: error.message, error });
    this.log.error(
      'storage.unavailable',
      storageUnavailableEvent(this.feedId, operation, error, this.storageFailuresInARow),
    );
    return true;
  }

  now(): string {
    return toUtcIso(this.deps.now().getTime());
  }

  outOfTime(extraMs = 0): boolean {
    return performance.now() + extraMs > this.budgetEndsAt;
  }

  /** The row an operation works on: as this run last wrote it, else as the plan found it (or a new one). */
  current(op: PlannedOperation): MeetingRecord {
    const written = this.written.get(operationKey(op));
    if (written) return written;
    if (op.kind === 'create')
      return op.record ?? newMeetingRow(this.feedId, op.desired, op.externalId, op.generation);
    // A move's row is re-keyed before any lane starts (move.ts); until then it is the old row.
    return op.record;
  }

  /** Re-keys a moved session's row (one transaction) and remembers both rows as written. */
  async saveMove(vacated: MeetingRecord, moved: MeetingRecord): Promise<MeetingRecord> {
    const stored = await this.deps.store.meetings.move(vacated, moved);
    this.noteStorageSuccess();
    this.written.set(stored.vacated.key, stored.vacated);
    this.written.set(stored.moved.key, stored.moved);
    return stored.moved;
  }

  async save(record: MeetingRecord): Promise<MeetingRecord> {
    const stored = await this.deps.store.meetings.put(record);
    this.noteStorageSuccess();
    this.written.set(record.key, stored);
    return stored;
  }

  /** Saves rows in batches; a row another run changed meanwhile is left to that run. */
  async saveMany(records: MeetingRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      for (const stored of await this.deps.store.meetings.putMany(records))
        this.written.set(stored.key, stored);
      this.noteStorageSuccess();
    } catch (error) {
      this.noteWriteFailure(error);
    }
  }

  /** A conditional write lost to another run counts as raced; anything else is the run's failure. */
  noteWriteFailure(error: unknown): void {
    if (error instanceof ConcurrencyError) {
      this.counters.raced++;
      return;
    }
    throw error;
  }

  /** The stored rows after this run: the rows the plan read, with every row this run wrote. */
  latestRecords(initial: readonly MeetingRecord[]): MeetingRecord[] {
    const byKey = new Map(initial.map((r) => [r.key, r]));
    for (const [key, record] of this.written) byKey.set(key, record);
    return [...byKey.values()];
  }
}
