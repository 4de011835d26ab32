// What a refused or failed operation leaves behind: the row records the error and when to try again
// (core/transitions decides both); blocked operations are saved in batches, never silently dropped.
import type { PlannedOperation } from '../../core/plan.js';
import type { MeetingError } from '../../core/state.js';
import { blockedRow, failedRow } from '../../core/transitions.js';
import { classifyGraphError, GraphError } from '../../graph/errors.js';
import { ConcurrencyError, isStorageFailure } from '../../storage/errors.js';
import type { Organizer } from './create.js';
import type { PolicyLedger } from './policyLedger.js';
import { PreviousOrganizerError } from './replace.js';
import type { ApplyRun } from './run.js';

/** What became of one operation; the three refusals are left to the organizer's lane to hold the rest. */
export type OperationOutcome = 'ok' | 'failed' | 'policyDenied' | 'organizerRefused' | 'monthlyLimit';

/** Operations that make a new meeting (and so count against the organizer's monthly limit). */
export function createsMeeting(run: ApplyRun, op: PlannedOperation): boolean {
  if (op.kind === 'create' || op.kind === 'replace') return true;
  return op.kind === 'update' && !run.current(op).meetingId;
}

/**
 * Classifies a failure of one operation and records it. Refusals that concern one organizer (policy,
 * account, monthly limit) are that organizer's; only a rejected token or a missing API permission
 * stops the whole run.
 */
export async function handleFailure(
  run: ApplyRun,
  policies: PolicyLedger,
  organizer: Organizer,
  op: PlannedOperation,
  error: unknown,
): Promise<OperationOutcome> {
  // Storage failed, not Graph: never a graph.error; the lane counts it (a few in a row stop the run).
  if (isStorageFailure(error)) throw error;
  if (error instanceof PreviousOrganizerError && isStorageFailure(error.cause)) throw error.cause;
  if (error instanceof PreviousOrganizerError && !(error.cause instanceof ConcurrencyError))
    return previousOrganizerFailed(run, policies, op, error);
  if (error instanceof ConcurrencyError || error instanceof PreviousOrganizerError) {
    // Another run (a second queue message) is applying this row right now; it owns the operation.
    run.counters.raced++;
    run.log.warning('meeting.write.conflict', { feedId: run.feedId, key: run.current(op).key });
    return 'failed';
  }
  // 429s are the Graph layer's: the SDK retried them and the pacer slowed down; here one is a failure.
  const graphError = classifyGraphError(error);
  switch (graphError.kind) {
    case 'policyMissing':
      await policies.noteDenied(organizer.objectId);
      return 'policyDenied';
    case 'monthlyLimit':
      await run.organizers.noteMonthlyLimit(organizer.objectId);
      return 'monthlyLimit';
    case 'userForbidden':
    case 'notFound':
      // A 403 that is not the policy's, or a 404 for the organizer itself (a meeting that vanished is
      // handled by its unit): this organizer's account (guest, licence, disabled, deleted).
      await run.organizers.noteRefused(organizer.objectId, organizer.email, graphError);
      return 'organizerRefused';
    case 'unauthorized':
    case 'forbidden':
      if (!run.aborted) {
        run.abortReason = `Graph refused the app itself: ${graphError.message}`;
        run.log.error('graph.credential.rejected', {
          feedId: run.feedId,
          status: graphError.status,
          code: graphError.graphCode,
          requestId: graphError.requestId,
          message: graphError.message,
          action:
            'check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and the credential (expired secret or certificate), and that OnlineMeetings.ReadWrite.All and User.Read.All have admin consent',
        });
      }
      break;
    default:
      break;
  }
  await recordFailure(run, op, graphError);
  return 'failed';
}

/**
 * A replace could not remove the previous organizer's meeting: the refusal is recorded against that
 * organizer (its alert names them), and only this row waits; the new organizer's lane goes on.
 */
async function previousOrganizerFailed(
  run: ApplyRun,
  policies: PolicyLedger,
  op: PlannedOperation,
  error: PreviousOrganizerError,
): Promise<OperationOutcome> {
  const cause = classifyGraphError(error.cause);
  if (cause.kind === 'policyMissing') await policies.noteDenied(error.organizerId);
  if (cause.kind === 'userForbidden' || cause.kind === 'notFound')
    await run.organizers.noteRefused(error.organizerId, error.organizerEmail, cause);
  await recordFailure(
    run,
    op,
    new GraphError({
      kind: cause.kind,
      message: `the previous organizer's (${error.organizerEmail}) meeting could not be removed first: ${cause.message}`,
      status: cause.status,
      graphCode: cause.graphCode,
      requestId: cause.requestId,
      retryAfterSeconds: cause.retryAfterSeconds,
    }),
  );
  return 'failed';
}

async function recordFailure(run: ApplyRun, op: PlannedOperation, error: GraphError): Promise<void> {
  const record = run.current(op);
  const { row, retryAt, needsAction } = failedRow(record, op.kind, error, run.now(), op.record);
  run.counters.failed++;
  run.log[needsAction ? 'error' : 'warning']('graph.error', {
    feedId: run.feedId,
    key: record.key,
    operation: op.kind,
    status: error.status,
    code: error.graphCode,
    kind: error.kind,
    requestId: error.requestId,
    message: error.message,
    retryAt,
  });
  await run.save(row).catch((e: unknown) => run.noteWriteFailure(e));
}

/** Holds operations back (organizer unknown, policy missing or propagating) until `retryAt`. */
export async function blockOperations(
  run: ApplyRun,
  ops: readonly PlannedOperation[],
  error: MeetingError,
  retryAt: string,
  organizerId: string | null = null,
): Promise<void> {
  // A stopped run writes nothing more for operations it holds back: the next run plans them again.
  if (ops.length === 0 || run.stopped) return;
  run.counters.blocked += ops.length;
  await run.saveMany(ops.map((op) => blockedRow(op, run.current(op), error, retryAt, organizerId)));
}
