// Removing a feed (HTTP DELETE /api/feeds/{id}, `feeds remove`): under the feed's lease, so it cannot
// interleave with a sync of the same feed. When a sync holds the feed, the removal is recorded as a
// request that the sync honours (it stops starting new work and removes the feed itself) and is queued.
import type { AppServices } from '../compose.js';
import { createEventLogger, type EventLogger } from '../events.js';
import { applyFeedRemoval, GraphNotConfiguredError } from '../sync/feedRemoval.js';
import { FeedBusyError, withFeedLease } from '../sync/fence.js';
import { requireFeed, type AdminDeps } from './feeds.js';
import { problems } from './problems.js';

export type RemovalResult =
  | { status: 'removed'; cancelled: number; kept: number }
  /** A sync holds the feed: it removes the feed when it sees the request (within a minute). */
  | { status: 'queued'; until: string };

/**
 * Stops syncing a feed. Its future meetings are kept unless `cancelFutureMeetings`: then each one is
 * cancelled through the sync's cancel path first, and the feed is removed only once all of them are
 * (otherwise it stays, with the rows that still hold meetings, and the removal can be retried).
 */
export async function removeFeed(
  deps: AdminDeps & Pick<AppServices, 'graph' | 'limiter'> & { logger?: EventLogger },
  feedId: string,
  options: { cancelFutureMeetings: boolean },
): Promise<RemovalResult> {
  await requireFeed(deps, feedId);
  const logger = deps.logger ?? createEventLogger();
  try {
    return await withFeedLease({ store: deps.store, logger }, feedId, 'remove', async (fence) => {
      const outcome = await applyFeedRemoval({ ...deps, logger }, feedId, options, fence);
      if (!outcome.removed) {
        const total = outcome.left + outcome.cancelled;
        throw problems.conflict(
          `feed '${feedId}' was not removed: ${outcome.left} of ${total} future meetings could not be cancelled yet` +
            ` (${outcome.reason ?? 'see the graph.error events'}); ` +
            'the feed and its remaining meetings are kept: fix the cause and remove it again',
        );
      }
      return { status: 'removed' as const, cancelled: outcome.cancelled, kept: outcome.kept };
    });
  } catch (error) {
    if (error instanceof GraphNotConfiguredError) throw problems.unavailable(error.message);
    if (!(error instanceof FeedBusyError)) throw error;
    if (error.heldBy.purpose === 'remove')
      throw problems.conflict(`feed '${feedId}' is already being removed; check again in a minute`);
    // A sync is running: it removes the feed itself when it sees this (and a queued sync does, should it die).
    await deps.store.feedLeases.requestRemoval({
      feedId,
      requestedAt: deps.now().toISOString(),
      cancelFutureMeetings: options.cancelFutureMeetings,
    });
    await deps.store.syncQueue.enqueue({
      feedId,
      reason: 'removal',
      requestedAt: deps.now().toISOString(),
      force: true,
    });
    logger.info('feed.removal.queued', {
      feedId,
      cancelFutureMeetings: options.cancelFutureMeetings,
      leaseUntil: error.heldBy.expiresAt,
    });
    return { status: 'queued', until: error.heldBy.expiresAt };
  }
}
