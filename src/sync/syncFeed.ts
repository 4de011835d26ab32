// One feed sync, top to bottom: load the feed → prepare the plan (pure planner) → apply it → record
// the run. Idempotent and resumable: every meeting row is written as `creating` with its createOrGet
// key before Graph is called, so a crash anywhere is repeated safely by the next run.
import type { AppConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { EventLogger } from '../events.js';
import type { GraphAccess } from '../graph/client.js';
import type { StateStore } from '../storage/index.js';
import type { RunSummary } from '../storage/types.js';
import { ApplyRun } from './apply/index.js';
import type { Limiter } from './limiter.js';
import type { FeedFetcher } from '../feeds/fetch.js';
import { removeOnRequest } from './feedRemoval.js';
import { applyFenced, withFeedLease, type Fence } from './fence.js';
import { loadAndPlan } from './loadAndPlan.js';
import { RunClock, appliedRunSummary, nextRunFields, recordRun, unchangedCounts } from './recordRun.js';

export type { FeedFetcher } from '../feeds/fetch.js';

export interface SyncDeps {
  store: StateStore;
  graph: Pick<GraphAccess, 'users' | 'meetings' | 'stats'>;
  limiter: Limiter;
  logger: EventLogger;
  config: Pick<AppConfig, 'sync' | 'policy' | 'meeting'>;
  /** The sync's clock: sessions before it are past. */
  now: () => Date;
  fetchFeed?: FeedFetcher;
  sleep?: (ms: number) => Promise<void>;
  /** Short waits within one run while a grant propagates (default 2, 4, 8 s); see ApplyDeps. */
  policyRetryWaitsMs?: readonly number[];
  /** How often the feed's lease is renewed and a removal request looked for (default 20 s). */
  leaseRenewMs?: number;
}

export interface SyncOptions {
  /** Skip the unchanged-feed fast path (admin "sync now"). */
  force?: boolean;
}

const DEFAULT_POLICY_WAITS_MS = [2_000, 4_000, 8_000];
/** A run ends this long before its budget so that state and the summary are always written. */
const BUDGET_RESERVE_MS = 5_000;

export class FeedNotFoundError extends AppError {
  override name = 'FeedNotFoundError';
  constructor(readonly feedId: string) {
    super('feedNotFound', `feed '${feedId}' is not registered`, { isUserError: true });
  }
}

export async function syncFeed(
  deps: SyncDeps,
  feedId: string,
  options: SyncOptions = {},
): Promise<RunSummary> {
  if (!(await deps.store.feeds.get(feedId))) throw new FeedNotFoundError(feedId);
  // Fenced: one run per feed at a time (FeedBusyError otherwise), and a removal waits for it.
  return withFeedLease(deps, feedId, 'sync', (fence) => syncHeldFeed(deps, feedId, options, fence));
}

async function syncHeldFeed(
  deps: SyncDeps,
  feedId: string,
  options: SyncOptions,
  fence: Fence,
): Promise<RunSummary> {
  const clock = new RunClock(deps.now, deps.graph.stats);
  const log = deps.logger;
  const feed = await deps.store.feeds.get(feedId);
  if (!feed) throw new FeedNotFoundError(feedId);
  if (await fence.checkRemoval()) return removeOnRequest(deps, clock, feed, fence);
  if (!feed.enabled) {
    log.info('sync.run.skipped', { feedId, reason: 'disabled' });
    return clock.summarize(feedId, 'skipped', {}, 'feed is disabled');
  }

  // 1-2. The body, the fast path, desired sessions, and the plan over the stored rows.
  const planned = await loadAndPlan(deps, feed, options.force === true);
  if (planned.status === 'unchanged') {
    // Not stored (the fast path writes nothing), but logged like any run: a missing summary means a stopped daemon.
    const summary = clock.summarize(
      feedId,
      'unchanged',
      unchangedCounts(feed.lastRun),
      'feed unchanged since the last successful run',
    );
    log.info('sync.run.completed', { ...summary });
    return summary;
  }
  if (planned.status === 'rejected') {
    return recordRun(deps, feed, clock.summarize(feedId, 'failed', {}, planned.reason), planned.feedUpdate);
  }
  const { plan, retryRows, window, loaded } = planned;

  // 3. Apply.
  const run = new ApplyRun(
    {
      ...deps,
      sleep: deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
      policyRetryWaitsMs: deps.policyRetryWaitsMs ?? DEFAULT_POLICY_WAITS_MS,
    },
    feedId,
    clock.budgetEnd(deps.config.sync.runBudgetSeconds, BUDGET_RESERVE_MS),
  );
  await applyFenced(run, plan.operations, fence, { removable: true });
  if (await fence.checkRemoval()) return removeOnRequest(deps, clock, feed, fence);
  await run.saveMany(plan.roomChanges); // rooms only: no Graph call

  // 4. Record the run and what the next one needs.
  const summary = appliedRunSummary(clock, feedId, plan, run, loaded.skipped);
  return recordRun(deps, feed, summary, {
    ...loaded.feedUpdate,
    ...nextRunFields(feed, plan, run, retryRows, { contentHash: loaded.contentHash, now: window.now }),
  });
}
