// Removing a feed: its future meetings are cancelled through the sync's own cancel path (or kept), then
// its rows, bodies and feed row are deleted.
import { performance } from 'node:perf_hooks';

import type { AppServices } from '../compose.js';
import { toUtcIso } from '../core/identity.js';
import { mayHaveMeeting } from '../core/transitions.js';
import { createEventLogger, type EventLogger } from '../events.js';
import { cancelMeetings } from '../sync/cancelMeetings.js';
import { requireFeed, type AdminDeps } from './feeds.js';
import { problems } from './problems.js';

/**
 * Stops syncing a feed. Its future meetings are kept unless `cancelFutureMeetings`: then each one is
 * cancelled through the sync's cancel path first, and the feed is removed only once all of them are
 * (otherwise it stays, with the rows that still hold meetings, and the removal can be retried).
 */
export async function removeFeed(
  deps: AdminDeps & Pick<AppServices, 'graph' | 'limiter'> & { logger?: EventLogger },
  feedId: string,
  options: { cancelFutureMeetings: boolean },
): Promise<{ cancelled: number; kept: number }> {
  await requireFeed(deps, feedId);
  const records = await deps.store.meetings.listByFeed(feedId);
  const nowIso = toUtcIso(deps.now().getTime());
  // Sessions that have started are never touched; a row that may have a meeting counts as one.
  const future = records.filter((r) => r.state !== 'cancelled' && r.start > nowIso && mayHaveMeeting(r));
  let cancelled = 0;
  if (options.cancelFutureMeetings && future.length > 0) {
    if (!deps.graph)
      throw problems.unavailable(
        'Graph is not configured, so future meetings cannot be cancelled; remove with cancel=false to keep them',
      );
    const outcome = await cancelMeetings(
      {
        store: deps.store,
        graph: deps.graph,
        limiter: deps.limiter,
        logger: deps.logger ?? createEventLogger(),
        config: deps.config,
        now: deps.now,
      },
      feedId,
      future,
      performance.now() + deps.config.sync.runBudgetSeconds * 1000,
    );
    cancelled = outcome.counters.cancelled;
    if (!outcome.complete) {
      const left = future.length - cancelled;
      throw problems.conflict(
        `feed '${feedId}' was not removed: ${left} of ${future.length} future meetings could not be cancelled yet` +
          `${outcome.abortReason ? ` (${outcome.abortReason})` : ' (see the policy.missing and graph.error events)'}; ` +
          'the feed and its remaining meetings are kept: fix the cause and remove it again',
      );
    }
  }
  await deps.store.meetings.deleteByFeed(feedId);
  await deps.store.feedBodies.deleteAll(feedId);
  await deps.store.feeds.delete(feedId);
  return { cancelled, kept: options.cancelFutureMeetings ? 0 : future.length };
}
