// Steps 1 and 2 of a sync: the feed's body (or the fast path), its desired sessions, and the plan over
// the stored rows, logged as `sync.planned`.
import type { SyncPlan } from '../core/plan.js';
import type { MeetingRecord } from '../core/state.js';
import type { FeedRecord } from '../storage/types.js';
import { loadFeed, type FeedWindow, type LoadedFeed } from './loadFeed.js';
import { preparePlan } from './preparePlan.js';
import { logGuards } from './recordRun.js';
import type { SyncDeps } from './syncFeed.js';

export type PlannedRun =
  | Exclude<LoadedFeed, { status: 'loaded' }>
  | {
      status: 'planned';
      /** Its unchanged rows are only counted (plan.counts), not kept. */
      plan: SyncPlan;
      /** The stored rows with a retry time (the rest cannot give the feed's next retry). */
      retryRows: MeetingRecord[];
      window: FeedWindow;
      loaded: { contentHash: string | null; feedUpdate: Partial<FeedRecord>; skipped: number };
    };

/**
 * Steps 1 and 2. What the apply needs is returned, and nothing else: the desired sessions and the
 * stored rows (200,000+ each for a semester) are garbage before the first Graph request.
 */
export async function loadAndPlan(deps: SyncDeps, feed: FeedRecord, force: boolean): Promise<PlannedRun> {
  const loaded = await loadFeed(deps, feed, deps.now().getTime(), { force });
  if (loaded.status !== 'loaded') return loaded;
  const { desired, window } = loaded;
  const { plan, records } = await preparePlan(deps, feed.id, feed, desired, window, {
    unchanged: 'counted',
  });
  deps.logger.info('sync.planned', {
    feedId: feed.id,
    ...plan.counts,
    // Series that moved, by shift: "10 sessions moved +1 h" (each keeps its meeting and link).
    moves: plan.moves.map((m) => m.text),
    sessions: desired.sessions.length,
    skipped: desired.skipped.length,
  });
  logGuards(deps.logger, feed.id, plan);
  return {
    status: 'planned',
    plan: { ...plan, unchanged: [] },
    retryRows: records.filter((r) => r.state !== 'cancelled' && r.nextAttemptAt !== null),
    window,
    loaded: {
      contentHash: loaded.contentHash,
      feedUpdate: loaded.feedUpdate,
      skipped: desired.skipped.length,
    },
  };
}
