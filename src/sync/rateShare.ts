// Shares the tenant's Graph ceiling between the instances of the app that sync at the same time (the
// rule is src/core/rateShare.ts). While this process runs a sync, every `intervalMs` it writes the
// ceiling its pacer learned to its row and reads the others'; a share freed by an instance that left
// goes to the pacer at once, instead of being crept back to over minutes. When its last sync ends (and
// no other starts within an interval), its pacer forgets its share and it writes that it left.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import { shareFreedCeilings } from '../core/rateShare.js';
import type { EventLogger } from '../events.js';
import type { PacerShare } from '../graph/index.js';
import type { GraphRateRepository } from '../storage/index.js';

export interface RateShareOptions {
  rates: GraphRateRepository;
  pacing: PacerShare;
  /** This machine's clock in ms: report stamps, and how long a peer's report has not changed. */
  clock: () => number;
  /** How often a syncing instance reports and reads the others; default 2 s. */
  intervalMs?: number;
  /** This process's id; default host-pid-random. */
  instance?: string;
}

export interface RateShare {
  /** Runs `work` (one feed's sync or attendance run) as part of this instance's time using Graph. */
  during<T>(logger: EventLogger, work: () => Promise<T>): Promise<T>;
}

/** A peer whose report has not changed for this many intervals (on this clock) died without saying so. */
const STALE_INTERVALS = 5;
/** Rows of instances gone this long are deleted by whichever instance sees them. */
const DELETE_AFTER_MS = 3_600_000;

export function createRateShare(options: RateShareOptions): RateShare {
  const { rates, pacing, clock } = options;
  const intervalMs = options.intervalMs ?? 2_000;
  const staleAfterMs = STALE_INTERVALS * intervalMs;
  const instance = options.instance ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  /** Each peer's last report time stamp, and when (on this clock) it last changed. */
  const seen = new Map<string, { at: number; changedAt: number }>();
  /** Peers seen syncing whose departure has not been shared out yet (src/core/rateShare.ts). */
  const watching = new Set<string>();
  /** When this instance's last report was written (this clock); null before the first. */
  let lastReportedAt: number | null = null;
  const loggers: EventLogger[] = [];
  let timer: NodeJS.Timeout | undefined;
  let leaving: NodeJS.Timeout | undefined;
  let beat: Promise<void> = Promise.resolve();

  const heartbeat = async (): Promise<void> => {
    const now = clock();
    const own = pacing.stats().ceiling;
    // Between its last sync and leaving, an instance takes nothing: it is about to give its share up.
    const syncing = loggers.length > 0;
    await rates.report({ instance, ceiling: own, at: now, left: false, idle: !syncing });
    // Its reports landed too far apart (a blocked event loop, a slow storage): the others may have
    // taken its share meanwhile, so it gives it up too and relearns from Graph's next 429.
    const reportedAt = clock();
    if (lastReportedAt !== null && reportedAt - lastReportedAt > staleAfterMs - 2 * intervalMs)
      pacing.forget();
    lastReportedAt = reportedAt;
    const reports = await rates.list();
    const peers = reports
      .filter((r) => r.instance !== instance)
      .map((r) => {
        const last = seen.get(r.instance);
        const changedAt = last && last.at === r.at ? last.changedAt : now;
        seen.set(r.instance, { at: r.at, changedAt });
        return { ...r, silentForMs: now - changedAt };
      });
    for (const id of seen.keys()) if (!reports.some((r) => r.instance === id)) seen.delete(id);
    const decision = shareFreedCeilings({ ownCeiling: syncing ? own : null, peers, watching, staleAfterMs });
    for (const peer of decision.active) watching.add(peer.instance);
    if (syncing) {
      for (const peer of decision.taken) watching.delete(peer.instance);
      if (own !== null && decision.ceiling !== null && decision.ceiling > own) {
        pacing.raiseCeiling(decision.ceiling);
        loggers.at(-1)?.info('graph.rate.shared', {
          from: decision.taken.map((p) => p.instance),
          ceilingBefore: round(own),
          ceilingAfter: round(decision.ceiling),
        });
      }
      pacing.setGrowthShare(decision.growthShare);
    }
    // By the writer's stamp (an hour dwarfs any clock skew): a process started later has not seen it change.
    for (const report of reports)
      if (report.instance !== instance && now - report.at > DELETE_AFTER_MS)
        await rates.remove(report.instance);
  };
  // A heartbeat still waiting on a slow storage is not joined by another: beats never pile up.
  let beating = false;
  const tick = () => {
    if (beating) return;
    beating = true;
    // The work does not depend on sharing: a failed report or read (storage trouble the run reports
    // itself) leaves the pacer as it was, learning from its own 429s.
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
    const ceiling = pacing.stats().ceiling;
    // Once it has said it left, its share is the others': it forgets it even if new work started
    // meanwhile (that work relearns its share from Graph's next 429).
    pacing.forget();
    lastReportedAt = null;
    beat = beat
      .then(() => rates.report({ instance, ceiling, at: clock(), left: true, idle: true }))
      .catch(() => undefined);
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
