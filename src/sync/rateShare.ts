// Shares the tenant's Graph ceiling between the instances of the app that sync at the same time (the
// rule is src/core/rateShare.ts). While this process runs a sync, every `intervalMs` it writes the
// ceiling its pacer learned to its row and reads the others'; a share freed by an instance that left
// goes to the pacer at once, instead of being crept back to over minutes. When its last sync ends (and
// no other starts within an interval), it writes that it left and its pacer forgets its share.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import { reportKey, shareFreedCeilings } from '../core/rateShare.js';
import type { EventLogger } from '../events.js';
import type { PacerShare } from '../graph/index.js';
import type { GraphRateRepository } from '../storage/index.js';

export interface RateShareOptions {
  rates: GraphRateRepository;
  pacing: PacerShare;
  /** Wall-clock ms (reports of several machines are compared). */
  clock: () => number;
  /** How often a syncing instance reports and reads the others; default 2 s. */
  intervalMs?: number;
  /** This process's id; default host-pid-random. */
  instance?: string;
}

export interface RateShare {
  /** Runs `work` (one feed's sync) as part of this instance's syncing time. */
  during<T>(logger: EventLogger, work: () => Promise<T>): Promise<T>;
}

/** A report this much older than its interval is an instance that died without saying it left. */
const STALE_INTERVALS = 5;
/** A share freed longer ago than this is not taken: every instance has relearned its ceiling since. */
const FORGET_FREED_MS = 60_000;
/** Rows of instances gone this long are deleted by whichever instance sees them. */
const DELETE_AFTER_MS = 3_600_000;

export function createRateShare(options: RateShareOptions): RateShare {
  const { rates, pacing, clock } = options;
  const intervalMs = options.intervalMs ?? 2_000;
  const instance = options.instance ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const consumed = new Set<string>();
  const loggers: EventLogger[] = [];
  let timer: NodeJS.Timeout | undefined;
  let leaving: NodeJS.Timeout | undefined;
  let beat: Promise<void> = Promise.resolve();

  const heartbeat = async (): Promise<void> => {
    const now = clock();
    const own = pacing.stats().ceiling;
    await rates.report({ instance, ceiling: own, at: now, left: false });
    const reports = await rates.list();
    const decision = shareFreedCeilings({
      self: instance,
      ownCeiling: own,
      reports,
      consumed,
      now,
      staleAfterMs: STALE_INTERVALS * intervalMs,
      forgetAfterMs: FORGET_FREED_MS,
    });
    for (const report of decision.taken) consumed.add(reportKey(report));
    if (own !== null && decision.ceiling !== null && decision.ceiling > own) {
      pacing.raiseCeiling(decision.ceiling);
      loggers.at(-1)?.info('graph.rate.shared', {
        from: decision.taken.map((r) => r.instance),
        ceilingBefore: round(own),
        ceilingAfter: round(decision.ceiling),
      });
    }
    pacing.setGrowthShare(decision.growthShare);
    for (const report of reports)
      if (report.instance !== instance && now - report.at > DELETE_AFTER_MS)
        await rates.remove(report.instance);
  };
  // The sync does not depend on sharing: a failed report or read (storage trouble the run reports
  // itself) leaves the pacer as it was, learning from its own 429s.
  // A heartbeat still waiting on a slow storage is not joined by another: beats never pile up.
  let beating = false;
  const tick = () => {
    if (beating) return;
    beating = true;
    beat = beat
      .then(heartbeat)
      .catch(() => undefined)
      .finally(() => {
        beating = false;
      });
  };
  const leave = () => {
    leaving = undefined;
    clearInterval(timer);
    timer = undefined;
    beat = beat
      .then(async () => {
        await rates.report({ instance, ceiling: pacing.stats().ceiling, at: clock(), left: true });
      })
      .catch(() => undefined)
      .finally(() => {
        if (loggers.length === 0) pacing.forget();
      });
  };

  return {
    async during(logger, work) {
      loggers.push(logger);
      clearTimeout(leaving);
      leaving = undefined;
      if (!timer) {
        tick();
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
      try {
        return await work();
      } finally {
        loggers.splice(loggers.indexOf(logger), 1);
        if (loggers.length === 0) {
          leaving = setTimeout(leave, intervalMs);
          leaving.unref();
        }
      }
    },
  };
}

const round = (rate: number) => Math.round(rate * 10) / 10;
