// Cancelling meetings outside a feed sync (a feed's removal): the same cancel path as a sync — the
// limiter, CANCEL_MODE, the policy gate, and createOrGet for rows whose meeting id was never stored.
import type { MeetingRecord } from '../core/state.js';
import { ApplyRun, type ApplyCounters, type ApplyDeps } from './apply/index.js';
import { applyFenced, type Fence } from './fence.js';

export interface CancelOutcome {
  counters: ApplyCounters;
  /** Every row was cancelled (none failed, was blocked, raced or left for lack of time). */
  complete: boolean;
  /** Why Graph refused the app itself, when it did. */
  abortReason: string | null;
}

export async function cancelMeetings(
  deps: Omit<ApplyDeps, 'sleep' | 'policyRetryWaitsMs'>,
  feedId: string,
  records: readonly MeetingRecord[],
  budgetEndsAt: number,
  /** The feed's lease: a lost lease stops the cancels. */
  fence: Fence,
): Promise<CancelOutcome> {
  // No in-run waits for a propagating grant: an admin is waiting for the answer.
  const run = new ApplyRun(
    { ...deps, sleep: () => Promise.resolve(), policyRetryWaitsMs: [] },
    feedId,
    budgetEndsAt,
  );
  await applyFenced(
    run,
    records.map((record) => ({ kind: 'cancel' as const, record, reason: 'removed' as const })),
    fence,
    { removable: false },
  );
  const { counters } = run;
  const complete =
    run.complete && counters.failed === 0 && counters.blocked === 0 && counters.cancelled === records.length;
  return { counters, complete, abortReason: run.abortReason };
}
