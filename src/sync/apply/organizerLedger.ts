// What this run knows of each organizer beyond the access policy (core/organizer.ts decides): a standing
// refusal by Graph (guest, unlicensed, disabled, deleted account) and the month's meeting budget. The
// records are shared by every feed's run, so each write is conditional and retried on a conflict.
import { randomUUID } from 'node:crypto';

import { toUtcIso } from '../../core/identity.js';
import {
  budgetRetryAt,
  exhaustMonth,
  leaseCreations,
  monthOf,
  recordRefusal,
  settleCreations,
  standingRefusal,
  type RefusalCause,
} from '../../core/organizer.js';
import type { OrganizerRefusal, OrganizerStatusRecord } from '../../core/state.js';
import { ConcurrencyError } from '../../storage/errors.js';
import type { ApplyRun } from './run.js';

/** Conditional writes lost to other runs before a status change gives up (it is then the run's error). */
const MAX_WRITE_CONFLICTS = 10;

interface Budget {
  month: string;
  /** Leased to this run and not used yet. */
  allowance: number;
  /** Meetings this run created (201) for the organizer. */
  created: number;
}

/** Creations leased at a time: few round trips, and little budget held by a run that crashes. */
export const LEASE_CHUNK = 25;

export class OrganizerLedger {
  private readonly statuses = new Map<string, OrganizerStatusRecord | null>();
  /** Organizers Graph refused in this run: the rest of their operations are held, not sent. */
  private readonly refusedNow = new Map<string, OrganizerRefusal>();
  private readonly refusing = new Map<string, Promise<OrganizerRefusal>>();
  /** Organizers whose monthly limit Graph reported in this run. */
  private readonly monthFullNow = new Set<string>();
  private readonly budgets = new Map<string, Budget>();
  private readonly takeQueue = new Map<string, Promise<boolean>>();
  /** Names this run's leases. */
  private readonly runId = randomUUID();

  constructor(private readonly run: ApplyRun) {}

  get limit(): number {
    return this.run.deps.config.sync.organizerMonthlyLimit;
  }

  async load(objectId: string): Promise<OrganizerStatusRecord | null> {
    if (!this.statuses.has(objectId))
      this.statuses.set(objectId, await this.run.deps.store.organizers.getStatus(objectId));
    return this.statuses.get(objectId) ?? null;
  }

  /** A refusal recorded by an earlier run whose wait is not over: send nothing for this organizer. */
  async standing(objectId: string): Promise<OrganizerRefusal | null> {
    return standingRefusal(await this.load(objectId), this.run.now());
  }

  /** A refusal whose wait is over: the organizer is probed with one operation first. */
  async needsProbe(objectId: string): Promise<boolean> {
    return (await this.load(objectId))?.refusal != null;
  }

  refusedInRun(objectId: string): OrganizerRefusal | null {
    return this.refusedNow.get(objectId) ?? null;
  }

  monthFull(objectId: string): boolean {
    return this.monthFullNow.has(objectId);
  }

  /** Graph refused the organizer (not the access policy): alert once per run and wait with back-off. */
  noteRefused(objectId: string, email: string, cause: RefusalCause): Promise<OrganizerRefusal> {
    // Operations in flight when the first refusal came back are refused too: one record and alert.
    let pending = this.refusing.get(objectId);
    if (!pending) {
      pending = this.recordRefused(objectId, email, cause);
      this.refusing.set(objectId, pending);
    }
    return pending;
  }

  private async recordRefused(
    objectId: string,
    email: string,
    cause: RefusalCause,
  ): Promise<OrganizerRefusal> {
    const stored = await this.change(objectId, (current) =>
      recordRefusal(current, objectId, email, cause, this.run.now()),
    );
    const refusal = stored.refusal as OrganizerRefusal;
    this.refusedNow.set(objectId, refusal);
    this.run.log.error('organizer.refused', {
      feedId: this.run.feedId,
      ...this.run.lecturer(objectId),
      email,
      status: cause.status,
      code: cause.graphCode,
      requestId: cause.requestId,
      attempts: refusal.attempts,
      retryAt: refusal.retryAt,
      message: refusal.message,
      action:
        'check in Entra ID and the Teams admin centre that the account is a member (not a guest), is enabled and has a Teams licence; the sync tries one session again at retryAt',
    });
    if (cause.status === 404) await this.forgetLookUp(email);
    return refusal;
  }

  /** An operation for the organizer succeeded: any standing refusal is over. */
  async noteAccepted(objectId: string): Promise<void> {
    const current = await this.load(objectId);
    if (!current?.refusal) return;
    const since = current.refusal.firstAt;
    await this.change(objectId, (status) => ({ ...(status ?? current), refusal: null }));
    this.run.log.info('organizer.accepted', {
      feedId: this.run.feedId,
      ...this.run.lecturer(objectId),
      refusedSince: since,
    });
  }

  /**
   * One creation for the organizer may go ahead (false: this month's budget is taken). Called just
   * before each create is sent, in the lane's nearest-first order; leases LEASE_CHUNK at a time.
   */
  take(objectId: string): Promise<boolean> {
    // One lease write at a time per organizer: the lane's parallel operations queue here.
    const previous = this.takeQueue.get(objectId) ?? Promise.resolve(true);
    const next = previous.then(
      () => this.takeOne(objectId),
      () => this.takeOne(objectId),
    );
    this.takeQueue.set(objectId, next);
    return next;
  }

  private async takeOne(objectId: string): Promise<boolean> {
    if (this.monthFullNow.has(objectId)) return false;
    const month = monthOf(this.run.now());
    let budget = this.budgets.get(objectId);
    if (!budget || budget.month !== month) {
      budget = { month, allowance: 0, created: budget?.month === month ? budget.created : 0 };
      this.budgets.set(objectId, budget);
    }
    if (budget.allowance === 0) {
      let granted = 0;
      await this.change(objectId, (current) => {
        const lease = { runId: this.runId, month, expiresAt: this.leaseExpiresAt() };
        const grant = leaseCreations(current, objectId, lease, LEASE_CHUNK, this.limit, this.run.now());
        granted = grant.granted;
        return grant.record;
      });
      budget.allowance = granted;
    }
    if (budget.allowance === 0) return false;
    budget.allowance--;
    return true;
  }

  /** When sessions held for the monthly limit are tried again (next month, or soon if others hold leases). */
  limitRetryAt(objectId: string): string {
    const now = this.run.now();
    if (this.monthFullNow.has(objectId)) return budgetRetryAt(null, monthOf(now), 0, now);
    const month = monthOf(now);
    const budget = this.budgets.get(objectId);
    const createdByRun = budget?.month === month ? budget.created : 0;
    return budgetRetryAt(this.statuses.get(objectId) ?? null, month, this.limit, now, createdByRun);
  }

  /** Graph made a new meeting for the organizer (counted against the month at the end of the run). */
  noteCreated(objectId: string): void {
    const month = monthOf(this.run.now());
    const budget = this.budgets.get(objectId);
    if (budget && budget.month === month) budget.created++;
    else this.budgets.set(objectId, { month, allowance: 0, created: 1 });
  }

  /** Graph said the organizer's monthly limit is reached: hold their creations until the month turns. */
  async noteMonthlyLimit(objectId: string): Promise<void> {
    if (this.monthFullNow.has(objectId)) return;
    this.monthFullNow.add(objectId);
    const month = monthOf(this.run.now());
    await this.change(objectId, (current) => exhaustMonth(current, objectId, month, this.limit));
  }

  /** End of the run: its leases go and what it really created is counted. */
  async settle(): Promise<void> {
    for (const [objectId, budget] of this.budgets) {
      await this.change(objectId, (current) =>
        settleCreations(current, objectId, this.runId, budget.month, budget.created, this.run.now()),
      );
    }
    this.budgets.clear();
  }

  /** A lease outlives its run (budget, plus the slowest operation), then lapses if the run crashed. */
  private leaseExpiresAt(): string {
    const budgetMs = this.run.deps.config.sync.runBudgetSeconds * 1000;
    return toUtcIso(Date.parse(this.run.now()) + budgetMs + 10 * 60_000);
  }

  /** Read-modify-write of one status row, conditional on what was read; re-read and retried on a conflict. */
  private async change(
    objectId: string,
    next: (current: OrganizerStatusRecord | null) => OrganizerStatusRecord,
  ): Promise<OrganizerStatusRecord> {
    const repository = this.run.deps.store.organizers;
    for (let conflicts = 0; ; conflicts++) {
      const current = await this.load(objectId);
      try {
        const stored = await repository.putStatus(next(current));
        this.statuses.set(objectId, stored);
        return stored;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || conflicts >= MAX_WRITE_CONFLICTS) throw error;
        // Several feeds' runs write one organizer's row: spread the retries out.
        await this.run.deps.sleep(Math.floor(Math.random() * 50 * (conflicts + 1)));
        this.statuses.set(objectId, await repository.getStatus(objectId));
      }
    }
  }

  /** The cached e-mail → object id answer led to a 404: look the e-mail up again next run. */
  private async forgetLookUp(email: string): Promise<void> {
    const organizers = this.run.deps.store.organizers;
    const cached = await organizers.get(email);
    if (!cached) return;
    await organizers.put({ ...cached, expiresAt: this.run.now() }).catch((error: unknown) => {
      if (!(error instanceof ConcurrencyError)) throw error;
    });
  }
}
