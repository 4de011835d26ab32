// Applies a plan's operations: one lane per organizer, lanes in parallel, every Graph call through the
// shared limiter. A lane resolves its organizer, passes the policy gate, and probes with one operation
// when the policy is not known to work, so an organizer without a policy costs one 403, not hundreds.
import { nextAttemptAt } from '../../core/backoff.js';
import type { PlannedOperation } from '../../core/plan.js';
import { SHORT_RETRY_BACKOFF, UNKNOWN_ORGANIZER_RETRY_MS } from '../../core/transitions.js';
import { toUtcIso } from '../../core/identity.js';
import { createOrganizerResolver, type OrganizerResolver } from '../organizers.js';
import { cancelMeeting, cancelWithoutMeeting } from './cancel.js';
import { createMeeting, type Organizer } from './create.js';
import { blockOperations, handleFailure, type OperationOutcome } from './failures.js';
import { PolicyLedger } from './policyLedger.js';
import { replaceMeeting } from './replace.js';
import type { ApplyRun } from './run.js';
import { updateMeeting } from './update.js';

export async function applyOperations(run: ApplyRun, operations: readonly PlannedOperation[]): Promise<void> {
  if (operations.length === 0) return;
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
  await Promise.all([...lanes].map(([email, ops]) => lane.runLane(email, ops)));
}

class LaneRunner {
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
      if (resolution.status === 'unresolved') {
        run.log.error('organizer.unresolved', {
          feedId: run.feedId,
          email,
          reason: resolution.reason,
          sessions: ops.length,
        });
        const retryAt = resolution.retryable
          ? nextAttemptAt(run.now(), 1, SHORT_RETRY_BACKOFF)
          : toUtcIso(Date.parse(run.now()) + UNKNOWN_ORGANIZER_RETRY_MS);
        // Cancels of meetings that already exist need no look-up: they go ahead below.
        const needOrganizer = ops.filter((op) => op.kind !== 'cancel');
        await blockOperations(
          run,
          needOrganizer,
          { code: 'organizerUnresolved', message: resolution.reason, at: run.now() },
          retryAt,
        );
        ops = ops.filter((op) => op.kind === 'cancel');
      } else {
        organizerId = resolution.objectId;
      }
    }
    const byOrganizer = new Map<string, PlannedOperation[]>();
    for (const op of ops) {
      const id = op.kind === 'cancel' ? op.record.organizerId : organizerId;
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
    const { run, policies } = this;
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
    await policies.noteProbe(organizer.objectId);
    const waits = [...run.deps.policyRetryWaitsMs];
    for (;;) {
      if (policies.state(organizer.objectId) === 'active') {
        await this.runAll(organizer, ops);
        return;
      }
      const [first, ...rest] = ops;
      if (!first) return;
      if ((await this.runOne(organizer, first, { probe: true })) !== 'policyDenied') {
        await this.runAll(organizer, rest);
        return;
      }
      const wait = waits.shift();
      if (wait === undefined || policies.state(organizer.objectId) !== 'propagating' || run.outOfTime(wait)) {
        await this.blockAfterDenial(organizer.objectId, ops);
        return;
      }
      // A grant is propagating: a short wait may be enough (the gate's back-off covers longer ones).
      run.log.info('policy.propagating.waiting', {
        feedId: run.feedId,
        objectId: organizer.objectId,
        waitMs: wait,
      });
      await run.deps.sleep(wait);
    }
  }

  private async runAll(organizer: Organizer, ops: PlannedOperation[]): Promise<void> {
    const results = await Promise.all(ops.map((op) => this.runOne(organizer, op)));
    const denied = ops.filter((_, i) => results[i] === 'policyDenied');
    if (denied.length > 0) await this.blockAfterDenial(organizer.objectId, denied);
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

  /** One operation through the limiter; 'policyDenied' for a policy 403 (the lane blocks the rest). */
  private async runOne(
    organizer: Organizer,
    op: PlannedOperation,
    options: { probe?: boolean } = {},
  ): Promise<OperationOutcome> {
    const { run, policies } = this;
    if (run.aborted) return 'failed';
    if (run.outOfTime()) {
      run.stoppedEarly = true;
      return 'failed';
    }
    return run.deps.limiter.run(organizer.objectId, async () => {
      if (run.aborted) return 'failed';
      // Refused earlier in this run (e.g. a revoked policy whose operations all went to the limiter at once).
      if (!options.probe && policies.isDenied(organizer.objectId)) return 'policyDenied';
      if (run.outOfTime()) {
        run.stoppedEarly = true;
        return 'failed';
      }
      try {
        await applyOperation(run, organizer, op);
        run.deps.limiter.onSuccess();
        await policies.noteSuccess(organizer.objectId);
        return 'ok';
      } catch (error) {
        return handleFailure(run, policies, organizer.objectId, op, error);
      }
    });
  }
}

function applyOperation(run: ApplyRun, organizer: Organizer, op: PlannedOperation): Promise<void> {
  const record = run.current(op);
  switch (op.kind) {
    case 'create':
      return createMeeting(run, organizer, op.desired, record, op.externalId, op.generation);
    case 'update':
      return updateMeeting(run, organizer, op.desired, record);
    case 'cancel':
      return cancelMeeting(run, record);
    case 'replace':
      return replaceMeeting(run, organizer, op.desired, record, op.externalId, op.generation);
  }
}
