// One feed sync, top to bottom: load the feed → prepare the plan (pure planner) → apply it → record
// the run. Idempotent and resumable: every meeting row is written as `creating` with its createOrGet
// key before Graph is called, so a crash anywhere is repeated safely by the next run.
import type { AppConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { EventLogger } from '../events.js';
import type { GraphAccess } from '../graph/client.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord, RunSummary } from '../storage/types.js';
import type { SyncPlan } from '../core/plan.js';
import type { MeetingRecord } from '../core/state.js';
import { ApplyRun } from './apply/index.js';
import type { Limiter } from './limiter.js';
import type { FeedFetcher } from '../feeds/fetch.js';
import { removeOnRequest } from './feedRemoval.js';
import { applyFenced, withFeedLease, type Fence } from './fence.js';
import { loadFeed, type FeedWindow, type LoadedFeed } from './loadFeed.js';
import { preparePlan } from './preparePlan.js';
import {
  RunClock,
  appliedRunSummary,
  logGuards,
  nextRunFields,
  recordRun,
  unchangedCounts,
} from './recordRun.js';

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
  const planned = await loadAndPlan(deps, feed, options);
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

type PlannedRun =
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
async function loadAndPlan(deps: SyncDeps, feed: FeedRecord, options: SyncOptions): Promise<PlannedRun> {
  const loaded = await loadFeed(deps, feed, deps.now().getTime(), { force: options.force === true });
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
