// Removing a feed, by whoever holds its lease (the admin's request, or the sync that was running when
// the admin asked): a planned cancel of every future row that may have a meeting, applied by the same
// code as any cancel, then the feed's rows, bodies and feed row are deleted — only once every cancel
// went through, so a meeting is never left without the row that knows it.
import { performance } from 'node:perf_hooks';

import { toUtcIso } from '../core/identity.js';
import { mayHaveMeeting } from '../core/transitions.js';
import { NotFoundError } from '../storage/index.js';
import type { ApplyDeps } from './apply/index.js';
import { cancelMeetings } from './cancelMeetings.js';
import type { Fence } from './fence.js';
import { recordRun, type RunClock } from './recordRun.js';
import type { FeedRecord, RunSummary } from '../storage/index.js';
import type { SyncDeps } from './syncFeed.js';

export interface RemovalOutcome {
  /** The feed, its rows and bodies are gone. */
  removed: boolean;
  cancelled: number;
  /** Future meetings left in Teams on purpose (cancelFutureMeetings false). */
  kept: number;
  /** Future meetings still to cancel when `removed` is false. */
  left: number;
  /** Why not everything could be cancelled, when it could not. */
  reason: string | null;
}

export type RemovalDeps = Omit<ApplyDeps, 'sleep' | 'policyRetryWaitsMs' | 'graph'> & {
  graph: ApplyDeps['graph'] | null;
};

export class GraphNotConfiguredError extends Error {
  override name = 'GraphNotConfiguredError';
}

/** Runs under the feed's lease (`fence`). */
export async function applyFeedRemoval(
  deps: RemovalDeps,
  feedId: string,
  options: { cancelFutureMeetings: boolean },
  fence: Fence,
): Promise<RemovalOutcome> {
  const records = await deps.store.meetings.listByFeed(feedId);
  const nowIso = toUtcIso(deps.now().getTime());
  // Sessions that have started are never touched; a row that may have a meeting counts as one.
  const future = records.filter((r) => r.state !== 'cancelled' && r.start > nowIso && mayHaveMeeting(r));
  let cancelled = 0;
  if (options.cancelFutureMeetings && future.length > 0) {
    if (!deps.graph)
      throw new GraphNotConfiguredError(
        'Graph is not configured, so future meetings cannot be cancelled; remove with cancel=false to keep them',
      );
    const outcome = await cancelMeetings(
      { ...deps, graph: deps.graph },
      feedId,
      future,
      performance.now() + deps.config.sync.runBudgetSeconds * 1000,
      fence,
    );
    cancelled = outcome.counters.cancelled;
    if (!outcome.complete) {
      return {
        removed: false,
        cancelled,
        kept: 0,
        left: future.length - cancelled,
        reason:
          outcome.abortReason ??
          fence.lostReason ??
          'see the policy.missing, organizer.refused and graph.error events',
      };
    }
  }
  await deps.store.meetings.deleteByFeed(feedId);
  await deps.store.feedBodies.deleteAll(feedId);
  await deps.store.feeds.delete(feedId).catch((error: unknown) => {
    // Already gone (a second removal finished first): what was asked for is done.
    if (!(error instanceof NotFoundError)) throw error;
  });
  await deps.store.feedLeases.clearRemovalRequest(feedId);
  deps.logger.info('feed.removed', {
    feedId,
    cancelled,
    kept: options.cancelFutureMeetings ? 0 : future.length,
  });
  return {
    removed: true,
    cancelled,
    kept: options.cancelFutureMeetings ? 0 : future.length,
    left: 0,
    reason: null,
  };
}

/** An admin asked for the feed's removal while a sync held it: that sync removes it. */
export async function removeOnRequest(
  deps: SyncDeps,
  clock: RunClock,
  feed: FeedRecord,
  fence: Fence,
): Promise<RunSummary> {
  const request = fence.removal as NonNullable<Fence['removal']>;
  const outcome = await applyFeedRemoval(
    deps,
    feed.id,
    { cancelFutureMeetings: request.cancelFutureMeetings },
    fence,
  );
  if (outcome.removed)
    return clock.summarize(
      feed.id,
      'completed',
      { cancelled: outcome.cancelled },
      `feed removed at an admin's request of ${request.requestedAt}`,
    );
  deps.logger.warning('feed.removal.incomplete', {
    feedId: feed.id,
    cancelled: outcome.cancelled,
    left: outcome.left,
    reason: outcome.reason,
    action: 'fix the cause; every run of this feed retries the removal until it is done',
  });
  return recordRun(
    deps,
    feed,
    clock.summarize(
      feed.id,
      'partial',
      { cancelled: outcome.cancelled, failed: outcome.left },
      `removal requested: ${outcome.left} future meetings still to cancel (${outcome.reason ?? 'see graph.error'})`,
    ),
    { lastSyncedHash: null },
  );
}
