// The last step of a sync: the run summary (per feed and for all feeds) and the feed row's run fields,
// written even when the run failed, so status and alerts always see the latest run.
import { performance } from 'node:perf_hooks';

import { creationGuardWarning, type CreationGuard } from '../core/creationGuard.js';
import { forDisplay } from '../core/limits.js';
import type { DeletionGuard, SyncPlan } from '../core/plan.js';
import type { MeetingRecord } from '../core/state.js';
import type { EventLogger } from '../events.js';
import type { GraphStats } from '../graph/client.js';
import { ConcurrencyError } from '../storage/errors.js';
import type { StateStore } from '../storage/index.js';
import type { FeedCreationGuard, FeedRecord, RunSummary } from '../storage/types.js';
import type { ApplyRun } from './apply/index.js';

export type RunCounts = Omit<
  RunSummary,
  'feedId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'graphCalls' | 'throttled' | 'outcome' | 'message'
>;

const NO_COUNTS: RunCounts = {
  created: 0,
  updated: 0,
  cancelled: 0,
  unchanged: 0,
  blocked: 0,
  failed: 0,
  skipped: 0,
  held: 0,
};

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

  summarize(
    feedId: string,
    outcome: RunSummary['outcome'],
    counts: Partial<RunCounts> = {},
    message?: string,
  ): RunSummary {
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
    if (
      update.lastSyncedHash !== undefined &&
      current.contentHash !== feed.contentHash &&
      current.contentHash !== update.contentHash
    ) {
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
  const level =
    summary.outcome === 'failed'
      ? 'error'
      : summary.failed > 0 || summary.outcome === 'partial'
        ? 'warning'
        : 'info';
  deps.logger[level]('sync.run.completed', { ...summary });
  return summary;
}

/** The summary of a run that applied its plan: what it did, and what waits (blocked or failed earlier). */
export function appliedRunSummary(
  clock: RunClock,
  feedId: string,
  plan: SyncPlan,
  run: ApplyRun,
  skipped: number,
): RunSummary {
  const counts = run.counters;
  const waitingBlocked = plan.waiting.filter((r) => r.state === 'blocked').length;
  const outcome = run.aborted ? 'failed' : run.complete ? 'completed' : 'partial';
  const message = run.abortReason ?? (run.complete ? undefined : whyIncomplete(run));
  return clock.summarize(
    feedId,
    outcome,
    {
      created: counts.created,
      updated: counts.updated,
      cancelled: counts.cancelled,
      unchanged: plan.counts.unchanged,
      blocked: counts.blocked + waitingBlocked,
      failed: counts.failed + plan.waiting.length - waitingBlocked,
      skipped,
      held: plan.held.length,
    },
    message,
  );
}

/** Why a run that was not aborted left work for the next one. */
function whyIncomplete(run: ApplyRun): string {
  const reasons: string[] = [];
  if (run.stoppedEarly) reasons.push('run budget reached');
  if (run.counters.raced > 0)
    reasons.push(`${run.counters.raced} sessions were being written by another run at the same time`);
  if (run.counters.storageFailed > 0)
    reasons.push(`${run.counters.storageFailed} row writes failed in storage`);
  if (run.stopReason && reasons.length === 0) reasons.push('the run was stopped');
  return `${reasons.join('; ') || 'not every operation was tried'}; the rest continues next run`;
}

/** What the feed row keeps for the next run: the guard, the fast path's fingerprint, the earliest retry. */
export function nextRunFields(
  feed: FeedRecord,
  plan: SyncPlan,
  run: ApplyRun,
  /** The rows the plan read; those with a retry time are enough (the others cannot be the next retry). */
  records: readonly MeetingRecord[],
  synced: { contentHash: string | null; now: string },
): Partial<FeedRecord> {
  return {
    ...guardFields(feed, plan.guard, synced.now),
    ...creationGuardFields(feed, plan.creationGuard, run.complete, synced.now),
    // A row lost to a concurrent run is that run's to finish; if it dies, only a full re-plan notices.
    ...(run.complete
      ? { lastSyncedHash: synced.contentHash, lastSyncedHorizonDay: synced.now.slice(0, 10) }
      : { lastSyncedHash: null }),
    nextDueRetryAt: earliestRetry(run.latestRecords(records)),
  };
}

/** A held guard is kept (sticky until confirmed); a confirmation is used up once the cancels went out. */
function guardFields(feed: FeedRecord, guard: DeletionGuard, now: string): Partial<FeedRecord> {
  if (guard.held) {
    const { reason, wouldCancel, futureMeetings } = guard;
    return { guard: { held: true, reason, wouldCancel, futureMeetings, at: now } };
  }
  return {
    guard: null,
    ...(guard.overridden || feed.cancellationsConfirmedAt ? { cancellationsConfirmedAt: null } : {}),
  };
}

/** Events (and lecturers) a feed row and a log event name: the most held first. */
const TOP_OFFENDERS = 5;

/**
 * A held creation guard is kept (sticky until confirmed, with what it holds). A confirmation stays until
 * a complete run has given every confirmed create a row (a run cut short by its time budget leaves some
 * without one: they are still new, and would be held again); one that nothing needed is dropped.
 */
function creationGuardFields(
  feed: FeedRecord,
  guard: CreationGuard,
  runComplete: boolean,
  now: string,
): Partial<FeedRecord> {
  if (guard.held) return { creationGuard: storedCreationGuard(guard, now) };
  const confirmationUsed = !guard.overridden || runComplete;
  return {
    creationGuard: null,
    ...(confirmationUsed && (feed.creationsConfirmedAt ?? null) !== null
      ? { creationsConfirmedAt: null }
      : {}),
  };
}

function storedCreationGuard(guard: CreationGuard, at: string): FeedCreationGuard {
  return {
    held: guard.held,
    reasons: [...guard.reasons],
    wouldCreate: guard.wouldCreate,
    heldCreates: guard.heldCreates,
    futureMeetings: guard.futureMeetings,
    events: topEvents(guard).map(({ uid, summary, organizerEmail, sessions, reason }) => ({
      uid,
      summary,
      organizerEmail,
      sessions,
      reason,
    })),
    organizers: guard.organizers.slice(0, TOP_OFFENDERS),
    scope: { all: guard.scope.all, uids: [...guard.scope.uids], organizers: [...guard.scope.organizers] },
    at,
  };
}

/** The events holding the most sessions, UID and summary cut for display (a UID may be 16,384 characters). */
function topEvents(guard: CreationGuard): CreationGuard['events'] {
  return guard.events
    .slice(0, TOP_OFFENDERS)
    .map((e) => ({ ...e, uid: forDisplay(e.uid), summary: forDisplay(e.summary) }));
}

/** What a run's guards held, as warnings that say how to confirm (guard.cancellations.held, guard.creations.held). */
export function logGuards(log: EventLogger, feedId: string, plan: SyncPlan): void {
  if (plan.guard.held) {
    log.warning('guard.cancellations.held', {
      feedId,
      reason: plan.guard.reason,
      wouldCancel: plan.guard.wouldCancel,
      futureMeetings: plan.guard.futureMeetings,
      // Moves are not cancels: they go ahead (same meeting, same link) and are shown as moves.
      moves: plan.moves.map((m) => m.text),
      action: `review the feed, then confirm: timetable-sync feeds confirm ${feedId} (or POST /api/feeds/${feedId}/confirm-cancellations)`,
    });
  }
  const creation = plan.creationGuard;
  if (creation.held) {
    log.warning('guard.creations.held', {
      feedId,
      reason: creation.reasons[0] ?? null,
      reasons: creation.reasons,
      wouldCreate: creation.wouldCreate,
      heldCreates: creation.heldCreates,
      futureMeetings: creation.futureMeetings,
      events: topEvents(creation),
      organizers: creation.organizers.slice(0, TOP_OFFENDERS),
      message: creationGuardWarning(feedId, creation),
      action:
        creation.reasons.length === 1 && creation.reasons[0] === 'cancellationsHeld'
          ? `they wait for the held cancellations: review the feed (timetable-sync plan --feed ${feedId}), then confirm: timetable-sync feeds confirm ${feedId} (or POST /api/feeds/${feedId}/confirm-cancellations)`
          : `review the feed (timetable-sync plan --feed ${feedId}), then confirm: timetable-sync feeds confirm ${feedId} --creations (or POST /api/feeds/${feedId}/confirm-creations)`,
    });
  }
}

function earliestRetry(rows: readonly MeetingRecord[]): string | null {
  let earliest: string | null = null;
  for (const r of rows) {
    if (r.state === 'cancelled' || r.nextAttemptAt === null) continue;
    if (earliest === null || r.nextAttemptAt < earliest) earliest = r.nextAttemptAt;
  }
  return earliest;
}
