// Applies a plan's operations: one lane per organizer, lanes in parallel, every Graph call through the
// shared limiter. A lane resolves its organizer, passes the policy gate, and probes with one operation
// when the policy is not known to work, so an organizer without a policy costs one 403, not hundreds.
import { nextAttemptAt } from '../../core/backoff.js';
import type { PlannedOperation } from '../../core/plan.js';
import { SHORT_RETRY_BACKOFF, UNKNOWN_ORGANIZER_RETRY_MS } from '../../core/transitions.js';
import { toUtcIso } from '../../core/identity.js';
import { monthOf } from '../../core/organizer.js';
import type { OrganizerRefusal } from '../../core/state.js';
import { errorMessage } from '../../errors.js';
import { isStorageFailure } from '../../storage/errors.js';
import { createOrganizerResolver, type OrganizerResolver } from '../organizers.js';
import { cancelMeeting, cancelWithoutMeeting } from './cancel.js';
import { createMeeting, type Organizer } from './create.js';
import { blockOperations, createsMeeting, handleFailure, type OperationOutcome } from './failures.js';
import { rekeyMoves } from './move.js';
import { PolicyLedger } from './policyLedger.js';
import { replaceMeeting } from './replace.js';
import { STORAGE_UNAVAILABLE, type ApplyRun } from './run.js';
import { updateMeeting } from './update.js';

export async function applyOperations(run: ApplyRun, planned: readonly PlannedOperation[]): Promise<void> {
  if (planned.length === 0) return;
  // Moves re-key their rows first (storage only): the lanes then treat them as updates of those rows.
  const operations = await rekeyMoves(run, planned);
  const policies = new PolicyLedger(run);
  await policies.load();
  const resolver = createOrganizerResolver({
    store: run.deps.store,
    users: run.deps.graph.users,
    now: run.deps.now,
    cacheHours: run.deps.config.sync.organizerCacheHours,
  });
  const lanes = new Map<string, PlannedOperation[]>();
  for (const op of operations) {
    // Cancels run under the organizer who owns the meeting; creates/updates under the desired one.
    const email = op.kind === 'cancel' ? op.record.organizerEmail : op.desired.organizerEmail;
    const lane = lanes.get(email);
    if (lane) lane.push(op);
    else lanes.set(email, [op]);
  }
  const lane = new LaneRunner(run, policies, resolver);
  // Every lane runs to its end (a stopped run's lanes end quickly: no operation starts after the stop),
  // so nothing of this run is still calling Graph or writing rows once it returns or throws.
  const settled = await Promise.allSettled(
    [...lanes].map(([email, ops]) =>
      lane.runLane(email, ops).catch((error: unknown) => {
        // A lane that cannot go on stops the others too: storage (one storage.unavailable), or a fault.
        if (isStorageFailure(error)) run.noteStorageFailure(error, 'organizer lane', { fatal: true });
        else run.stop({ code: 'failed', message: errorMessage(error), error: asError(error) });
        throw error;
      }),
    ),
  );
  const stop = run.stopCause;
  const failed = settled.find((result) => result.status === 'rejected');
  if (stop || failed) {
    // Give back what can be given back, then report why the run stopped. Not when the storage is what
    // failed: that would only wait out the SDK's retries once more, and the run's leases on the
    // organizers' monthly budgets lapse by themselves (organizerLedger.ts).
    if (stop?.code !== STORAGE_UNAVAILABLE) await run.organizers.settle().catch(() => undefined);
    throw stop ? stop.error : (failed as PromiseRejectedResult).reason;
  }
  // Reservations not used (failed, held, out of time) go back to the organizers' monthly budgets.
  await run.organizers.settle();
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

class LaneRunner {
  /** Sessions held for each organizer's monthly limit in this run: one organizer.monthlyLimit each. */
  private readonly monthlyLimitHeld = new Map<string, { sessions: number; retryAt: string }>();

  constructor(
    private readonly run: ApplyRun,
    private readonly policies: PolicyLedger,
    private readonly resolver: OrganizerResolver,
  ) {}

  /** One e-mail: resolve it (unless only cancels), then one sub-lane per organizer object id. */
  async runLane(email: string, ops: PlannedOperation[]): Promise<void> {
    const { run } = this;
    let organizerId: string | null = null;
    if (ops.some((op) => op.kind !== 'cancel')) {
      const resolution = await this.resolver.resolve(email);
      // Cancels of meetings that already exist need no look-up: they go ahead below.
      const needOrganizer = ops.filter((op) => op.kind !== 'cancel');
      if (resolution.status === 'unresolved') {
        run.log.error('organizer.unresolved', {
          feedId: run.feedId,
          email,
          displayName: null,
          objectId: null,
          reason: resolution.reason,
          sessions: needOrganizer.length,
        });
        const retryAt = resolution.retryable
          ? nextAttemptAt(run.now(), 1, SHORT_RETRY_BACKOFF)
          : toUtcIso(Date.parse(run.now()) + UNKNOWN_ORGANIZER_RETRY_MS);
        await blockOperations(
          run,
          needOrganizer,
          { code: 'organizerUnresolved', message: resolution.reason, at: run.now() },
          retryAt,
        );
        ops = ops.filter((op) => op.kind === 'cancel');
      } else if (resolution.status === 'refused') {
        // The directory already says Teams would refuse this account: tell ops, send nothing.
        run.noteLecturer(resolution.objectId, email, resolution.displayName);
        run.log.error('organizer.refused', {
          feedId: run.feedId,
          ...run.lecturer(resolution.objectId),
          status: null,
          message: resolution.reason,
          sessions: needOrganizer.length,
          retryAt: resolution.recheckAt,
          action:
            'fix the account in Entra ID or the ORGANIZER in the timetable; the account is looked up again at retryAt',
        });
        await blockOperations(
          run,
          needOrganizer,
          { code: 'organizerRefused', message: resolution.reason, at: run.now() },
          resolution.recheckAt,
          resolution.objectId,
        );
        ops = ops.filter((op) => op.kind === 'cancel');
      } else {
        organizerId = resolution.objectId;
        run.noteLecturer(organizerId, email, resolution.displayName);
      }
    }
    const byOrganizer = new Map<string, PlannedOperation[]>();
    for (const op of ops) {
      const id = op.kind === 'cancel' ? op.record.organizerId : organizerId;
      if (id) run.noteLecturer(id, email, null);
      if (!id) {
        if (op.kind === 'cancel') await cancelWithoutMeeting(run, op.record);
        continue;
      }
      const list = byOrganizer.get(id);
      if (list) list.push(op);
      else byOrganizer.set(id, [op]);
    }
    await Promise.all(
      [...byOrganizer].map(([objectId, list]) => this.runOrganizer({ objectId, email }, list)),
    );
  }

  private async runOrganizer(organizer: Organizer, ops: PlannedOperation[]): Promise<void> {
    try {
      await this.runOrganizerOps(organizer, ops);
    } finally {
      this.reportMonthlyLimit(organizer);
    }
  }

  private async runOrganizerOps(organizer: Organizer, ops: PlannedOperation[]): Promise<void> {
    const { run, policies } = this;
    if (run.stopped) return;
    const decision = policies.decide(organizer.objectId);
    if (!decision.allow) {
      const code = decision.state === 'propagating' ? 'policyPropagating' : 'policyMissing';
      await blockOperations(
        run,
        ops,
        { code, message: decision.reason, at: run.now() },
        decision.retryAt,
        organizer.objectId,
      );
      return;
    }
    const standing = await run.organizers.standing(organizer.objectId);
    if (standing) {
      await this.blockRefused(organizer.objectId, ops, standing);
      return;
    }
    ops = nearestFirst(ops);
    await policies.noteProbe(organizer.objectId);
    const refusedBefore = await run.organizers.needsProbe(organizer.objectId);
    const waits = [...run.deps.policyRetryWaitsMs];
    for (;;) {
      if (policies.state(organizer.objectId) === 'active' && !refusedBefore) {
        await this.runAll(organizer, ops);
        return;
      }
      const [first, ...rest] = ops;
      if (!first) return;
      const outcome = await this.runOne(organizer, first, { probe: true });
      if (outcome !== 'policyDenied') {
        // The probe settled it: either the rest goes ahead, or it is held for the same reason.
        await this.hold(organizer.objectId, outcome, [first]);
        await this.runAll(organizer, rest);
        return;
      }
      const wait = waits.shift();
      if (run.stopped) return;
      if (wait === undefined || policies.state(organizer.objectId) !== 'propagating' || run.outOfTime(wait)) {
        await this.blockAfterDenial(organizer.objectId, ops);
        return;
      }
      // A grant is propagating: a short wait may be enough (the gate's back-off covers longer ones).
      run.log.info('policy.propagating.waiting', {
        feedId: run.feedId,
        ...run.lecturer(organizer.objectId),
        waitMs: wait,
      });
      await run.deps.sleep(wait);
    }
  }

  private async runAll(organizer: Organizer, ops: PlannedOperation[]): Promise<void> {
    // Each operation ends before the lane does, even when one of them throws (a fault, not a refusal).
    const settled = await Promise.allSettled(ops.map((op) => this.runOne(organizer, op)));
    const fault = settled.find((result) => result.status === 'rejected');
    if (fault) throw fault.reason;
    const results = settled.map((result) => (result.status === 'fulfilled' ? result.value : 'failed'));
    for (const outcome of ['policyDenied', 'organizerRefused', 'monthlyLimit'] as const)
      await this.hold(
        organizer.objectId,
        outcome,
        ops.filter((_, i) => results[i] === outcome),
      );
  }

  /** Holds operations an organizer's refusal stopped (outcomes 'ok' and 'failed' need nothing more). */
  private async hold(organizerId: string, outcome: OperationOutcome, ops: PlannedOperation[]): Promise<void> {
    if (ops.length === 0) return;
    const { run } = this;
    switch (outcome) {
      case 'policyDenied':
        return this.blockAfterDenial(organizerId, ops);
      case 'organizerRefused': {
        const refusal = run.organizers.refusedInRun(organizerId);
        if (refusal) await this.blockRefused(organizerId, ops, refusal);
        return;
      }
      case 'monthlyLimit': {
        const retryAt = run.organizers.limitRetryAt(organizerId);
        const held = this.monthlyLimitHeld.get(organizerId) ?? { sessions: 0, retryAt };
        held.sessions += ops.length;
        held.retryAt = retryAt;
        this.monthlyLimitHeld.set(organizerId, held);
        await blockOperations(
          run,
          ops,
          { code: 'organizerMonthlyLimit', message: monthlyLimitMessage(run, retryAt), at: run.now() },
          retryAt,
          organizerId,
        );
        return;
      }
      default:
        return;
    }
  }

  private reportMonthlyLimit(organizer: Organizer): void {
    const { run } = this;
    const held = this.monthlyLimitHeld.get(organizer.objectId);
    if (!held) return;
    this.monthlyLimitHeld.delete(organizer.objectId);
    run.log.error('organizer.monthlyLimit', {
      feedId: run.feedId,
      ...run.lecturer(organizer.objectId),
      limit: run.organizers.limit,
      month: monthOf(run.now()),
      sessions: held.sessions,
      retryAt: held.retryAt,
      reportedBy: run.organizers.monthFull(organizer.objectId) ? 'graph' : 'budget',
      action: 'shorten HORIZON_DAYS or split the sessions across per-lecturer organizers',
    });
  }

  private blockRefused(
    organizerId: string,
    ops: PlannedOperation[],
    refusal: OrganizerRefusal,
  ): Promise<void> {
    return blockOperations(
      this.run,
      ops,
      {
        code: 'organizerRefused',
        message: refusal.message,
        ...(refusal.requestId ? { requestId: refusal.requestId } : {}),
        at: this.run.now(),
      },
      refusal.retryAt,
      organizerId,
    );
  }

  private async blockAfterDenial(organizerId: string, ops: PlannedOperation[]): Promise<void> {
    const { run, policies } = this;
    const decision = policies.decide(organizerId);
    const retryAt = decision.allow ? nextAttemptAt(run.now(), 1, SHORT_RETRY_BACKOFF) : decision.retryAt;
    const code = policies.state(organizerId) === 'propagating' ? 'policyPropagating' : 'policyMissing';
    await blockOperations(
      run,
      ops,
      { code, message: policies.denialMessage(organizerId), at: run.now() },
      retryAt,
      organizerId,
    );
  }

  /** One operation through the limiter; a refusal outcome tells the lane to hold the organizer's rest. */
  private async runOne(
    organizer: Organizer,
    op: PlannedOperation,
    options: { probe?: boolean } = {},
  ): Promise<OperationOutcome> {
    const { run, policies } = this;
    if (run.aborted || run.stopped) return 'failed';
    if (run.outOfTime()) {
      run.stoppedEarly = true;
      return 'failed';
    }
    return run.deps.limiter.run(organizer.objectId, async () => {
      // Checked again as the operation leaves the queue: the run may have been stopped meanwhile.
      if (run.aborted || run.stopped) return 'failed';
      // Refused earlier in this run (e.g. a revoked policy whose operations all went to the limiter at once).
      if (!options.probe && policies.isDenied(organizer.objectId)) return 'policyDenied';
      if (run.organizers.refusedInRun(organizer.objectId)) return 'organizerRefused';
      if (run.outOfTime()) {
        run.stoppedEarly = true;
        return 'failed';
      }
      try {
        // The month's budget is taken just before sending, so the nearest sessions (queued first) get it.
        if (createsMeeting(run, op) && !(await run.organizers.take(organizer.objectId)))
          return 'monthlyLimit';
        try {
          await applyOperation(run, organizer, op);
          run.deps.limiter.onSuccess();
          await policies.noteSuccess(organizer.objectId);
          await run.organizers.noteAccepted(organizer.objectId);
          return 'ok';
        } catch (error) {
          return await handleFailure(run, policies, organizer, op, error);
        }
      } catch (error) {
        // A storage failure (never a Graph one): counted across the lanes, it stops the run when the
        // storage is gone. The row is as the plan or this run last stored it; the next run re-plans it.
        if (!isStorageFailure(error)) throw error;
        run.counters.storageFailed++;
        run.noteStorageFailure(error, op.kind);
        return 'failed';
      }
    });
  }
}

/** Why a session waits for the monthly limit, with when it is tried again. */
function monthlyLimitMessage(run: ApplyRun, retryAt: string): string {
  return (
    `The lecturer's monthly limit of new meetings is reached (ORGANIZER_MONTHLY_LIMIT ${run.organizers.limit}; ` +
    `Graph allows 2,000 per user per month; other feeds and apps count too): the session is tried again at ` +
    `${retryAt}. Shorten HORIZON_DAYS or use per-lecturer organizers.`
  );
}

/** Soonest sessions first: they matter first when the time budget or the monthly limit runs out. */
function nearestFirst(ops: PlannedOperation[]): PlannedOperation[] {
  const start = (op: PlannedOperation) => (op.kind === 'cancel' ? op.record.start : op.desired.start);
  return [...ops].sort((a, b) => Date.parse(start(a)) - Date.parse(start(b)));
}

function applyOperation(run: ApplyRun, organizer: Organizer, op: PlannedOperation): Promise<void> {
  const record = run.current(op);
  switch (op.kind) {
    case 'create':
      return createMeeting(run, organizer, op.desired, record, op.externalId, op.generation);
    case 'update':
    case 'move':
      return updateMeeting(run, organizer, op.desired, record);
    case 'cancel':
      return cancelMeeting(run, record);
    case 'replace':
      return replaceMeeting(run, organizer, op.desired, record, op.externalId, op.generation);
  }
}
