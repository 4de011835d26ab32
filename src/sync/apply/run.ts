// The state one application of a plan shares between its units: the rows written so far (each unit
// writes conditionally on the row it last saw), the run's counters, its clock and its time budget.
import { performance } from 'node:perf_hooks';

import { toUtcIso } from '../../core/identity.js';
import type { PlannedOperation } from '../../core/plan.js';
import type { MeetingRecord } from '../../core/state.js';
import { newMeetingRow, operationKey } from '../../core/transitions.js';
import type { AppConfig } from '../../config.js';
import type { EventLogger } from '../../events.js';
import type { GraphAccess } from '../../graph/client.js';
import { ConcurrencyError } from '../../storage/errors.js';
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
}

export class ApplyRun {
  readonly counters: ApplyCounters = {
    created: 0,
    updated: 0,
    cancelled: 0,
    blocked: 0,
    failed: 0,
    raced: 0,
  };
  /** The time budget ran out before every operation was tried. */
  stoppedEarly = false;
  /** Graph refused the app itself: nothing more is sent in this run. */
  abortReason: string | null = null;
  /** Organizer refusals and monthly budgets, shared by every lane of the run. */
  readonly organizers: OrganizerLedger = new OrganizerLedger(this);
  private readonly written = new Map<string, MeetingRecord>();

  constructor(
    readonly deps: ApplyDeps,
    readonly feedId: string,
    /** performance.now() after which no new operation starts. */
    private readonly budgetEndsAt: number,
  ) {}

  get log(): EventLogger {
    return this.deps.logger;
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  /** Every operation was tried and no row was lost to another run. */
  get complete(): boolean {
    return !this.stoppedEarly && !this.aborted && this.counters.raced === 0;
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
    return op.record;
  }

  async save(record: MeetingRecord): Promise<MeetingRecord> {
    const stored = await this.deps.store.meetings.put(record);
    this.written.set(record.key, stored);
    return stored;
  }

  /** Saves rows in batches; a row another run changed meanwhile is left to that run. */
  async saveMany(records: MeetingRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      for (const stored of await this.deps.store.meetings.putMany(records))
        this.written.set(stored.key, stored);
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
