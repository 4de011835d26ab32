// The last step of a sync: the run summary (per feed and for all feeds) and the feed row's run fields,
// written even when the run failed, so status and alerts always see the latest run.
import { performance } from 'node:perf_hooks';

import type { EventLogger } from '../events.js';
import type { GraphStats } from '../graph/client.js';
import { ConcurrencyError } from '../storage/errors.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord, RunSummary } from '../storage/types.js';

export type RunCounts = Omit<RunSummary, 'feedId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'graphCalls' | 'throttled' | 'outcome' | 'message'>;

const NO_COUNTS: RunCounts = { created: 0, updated: 0, cancelled: 0, unchanged: 0, blocked: 0, failed: 0, skipped: 0, held: 0 };

/** Measures one run: started when created, summarised when asked. */
export class RunClock {
  readonly startedAt: Date;
  private readonly started = performance.now();
  private readonly statsBefore: GraphStats;

  constructor(
    private readonly now: () => Date,
    private readonly graphStats: () => GraphStats,
  ) {
    this.startedAt = now();
    this.statsBefore = graphStats();
  }

  /** performance.now() at which a budget of `seconds` that started with the run ends. */
  budgetEnd(seconds: number, reserveMs: number): number {
    return this.started + seconds * 1000 - reserveMs;
  }

  summarize(feedId: string, outcome: RunSummary['outcome'], counts: Partial<RunCounts> = {}, message?: string): RunSummary {
    const stats = this.graphStats();
    return {
      feedId,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.now().toISOString(),
      durationMs: Math.round(performance.now() - this.started),
      ...NO_COUNTS,
      graphCalls: stats.requests - this.statsBefore.requests,
      throttled: stats.throttled - this.statsBefore.throttled,
      outcome,
      ...counts,
      ...(message === undefined ? {} : { message }),
    };
  }
}

/** What an unchanged feed reports: the previous run's counts, nothing done. */
export function unchangedCounts(previous: RunSummary | null): Partial<RunCounts> {
  return {
    unchanged: previous ? previous.created + previous.updated + previous.unchanged : 0,
    blocked: previous?.blocked ?? 0,
    failed: previous?.failed ?? 0,
    skipped: previous?.skipped ?? 0,
    held: previous?.held ?? 0,
  };
}

/** Writes the run summary and the feed's run fields (ETag-conditional, re-read on a conflict). */
export async function recordRun(
  deps: { store: Pick<StateStore, 'runs' | 'feeds'>; logger: EventLogger },
  feed: FeedRecord,
  summary: RunSummary,
  update: Partial<FeedRecord>,
): Promise<RunSummary> {
  await deps.store.runs.add(summary);
  let current: FeedRecord | null = feed;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    // An admin may have uploaded a new version meanwhile: keep their fields, only add the run's.
    const next: FeedRecord = { ...current, ...update, lastRun: summary, updatedAt: summary.finishedAt };
    if (update.lastSyncedHash !== undefined && current.contentHash !== feed.contentHash && current.contentHash !== update.contentHash) {
      next.lastSyncedHash = null;
    }
    try {
      await deps.store.feeds.update(next);
      break;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      current = await deps.store.feeds.get(feed.id);
    }
  }
  const level = summary.outcome === 'failed' ? 'error' : summary.failed > 0 || summary.outcome === 'partial' ? 'warning' : 'info';
  deps.logger[level]('sync.run.completed', { ...summary });
  return summary;
}
