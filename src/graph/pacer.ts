// Paces Graph requests once Graph has throttled the app: after a 429, every request (the SDK's own
// retries included) waits for Retry-After, then goes out no faster than an estimated sustainable rate.
// Bounding concurrency alone does not bound the rate when responses are fast: four requests in flight
// at 5 ms each are 800 requests/s. Until the first 429 nothing is paced.
//
// The rate follows the ceiling Graph revealed, in the spirit of TCP CUBIC rather than plain AIMD: a 429
// marks the rate it came at as the ceiling and drops to 90 % of it; the rate then climbs back at about
// 1 request/s per second up to 97 % of that ceiling, and only creeps (0.1 request/s per second) above
// it. Halving instead (AIMD) spent half of each cycle far below the ceiling and measured 83 % of a
// 50 requests/s limit; every 429 also costs a full Retry-After pause, so fewer, later probes pay.
// https://learn.microsoft.com/graph/throttling#best-practices-to-handle-throttling
//
// Several instances of the app share one ceiling but each pacer learns only its own part of it:
// src/sync/rateShare.ts hands an instance the part of one that stopped (raiseCeiling) and scales each
// one's growth to its part (setGrowthShare), so that together they probe as fast as one instance would.
//
// A pause longer than `maxWaitMs` is not slept through: a request that would wait longer fails at once
// with a `throttled` GraphError whose retryAfterSeconds is the rest of the wait, so a run whose Graph
// asked for 300 s ends within its budget and its rows carry a retry time. The pause itself still holds:
// once less than maxWaitMs of it is left, requests wait it out and go.
import { GraphError } from './errors.js';

export interface PacerOptions {
  /** Clock in ms; default performance.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Lowest rate (requests/s) the pacer falls to; default 1. */
  minRate?: number;
  /** Pause when a 429 carries no Retry-After; default 1000 ms. */
  defaultRetryAfterMs?: number;
  /** Back to unpaced after this long without a 429; default 5 minutes. */
  forgetAfterMs?: number;
  /** Longest wait acquire() accepts; a longer one throws a `throttled` GraphError. Default: no limit. */
  maxWaitMs?: number;
  /**
   * Longest pause one 429 imposes on every request (default 5 minutes): Graph's throttling asks for
   * seconds, so a longer Retry-After is not taken as a reason to stop the whole app for longer.
   */
  maxPauseMs?: number;
}

export interface PacerStats {
  /** Requests per second currently allowed; null while unpaced. */
  rate: number | null;
  /** The rate the last 429 came at; null while unpaced. */
  ceiling: number | null;
  pausedUntil: number;
}

export interface Pacer {
  /**
   * Resolves when the next request may go out; rejects at once with a `throttled` GraphError when that
   * is more than maxWaitMs away.
   */
  acquire(): Promise<void>;
  onThrottled(retryAfterMs?: number): void;
  onSuccess(): void;
  stats(): PacerStats;
  /**
   * Another instance of the app stopped syncing and this one takes part of its share: the ceiling
   * becomes `ceiling` and the rate grows in proportion. Ignored while unpaced or for a lower ceiling.
   */
  raiseCeiling(ceiling: number): void;
  /**
   * This instance's part of the app's rate (its ceiling / all syncing instances' ceilings): the rate
   * grows by that part of the step, so that N instances together probe the ceiling as fast as one.
   */
  setGrowthShare(share: number): void;
  /** Back to unpaced: this instance stopped syncing and gave its share to the others. */
  forget(): void;
}

function tooLong(waitMs: number, paused: boolean, maxWaitMs: number): GraphError {
  const seconds = Math.ceil(waitMs / 1000);
  const why = paused ? 'Graph asked this app to pause (Retry-After)' : 'requests are paced after a 429';
  return new GraphError({
    kind: 'throttled',
    message: `Not sent: ${why} and this request would wait ${seconds} s more, over the ${Math.round(maxWaitMs / 1000)} s cap; try again after that`,
    retryAfterSeconds: seconds,
  });
}

/** After a 429: this share of the rate Graph refused. */
const DECREASE_TO = 0.9;
/** Fast growth up to this share of the last refused rate, slow probing above it. */
const CRUISE_BELOW = 0.97;

export function createPacer(options: PacerOptions = {}): Pacer {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const minRate = options.minRate ?? 1;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  const forgetAfterMs = options.forgetAfterMs ?? 300_000;
  const maxWaitMs = options.maxWaitMs ?? Infinity;
  const maxPauseMs = options.maxPauseMs ?? 300_000;

  let rate = Infinity;
  /** The rate of the last 429: what Graph would not take. */
  let ceiling = Infinity;
  let nextAt = 0;
  let pausedUntil = 0;
  let lastThrottleAt = -Infinity;
  let lastDecreaseAt = -Infinity;
  /** Changes with every 429, so a request that reserved its slot before it re-checks the pause. */
  let epoch = 0;
  /** Send times of the last second while unpaced: the first estimate of what Graph accepts. */
  const recent: number[] = [];
  let growthShare = 1;

  const interval = () => (Number.isFinite(rate) ? 1000 / rate : 0);

  return {
    async acquire() {
      for (;;) {
        const t = now();
        if (Number.isFinite(rate) && t - lastThrottleAt > forgetAfterMs) rate = ceiling = Infinity;
        const slot = Math.max(t, pausedUntil, nextAt);
        if (slot - t > maxWaitMs) throw tooLong(slot - t, pausedUntil > t, maxWaitMs);
        nextAt = slot + interval();
        const seen = epoch;
        if (slot > t) await sleep(slot - t);
        if (epoch !== seen && pausedUntil > now()) continue; // throttled while waiting: queue again
        if (!Number.isFinite(rate)) {
          const sentAt = now();
          recent.push(sentAt);
          while (recent.length > 0 && (recent[0] ?? 0) <= sentAt - 1000) recent.shift();
        }
        return;
      }
    },

    onThrottled(retryAfterMs) {
      const t = now();
      const wait = Math.min(
        maxPauseMs,
        retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0
          ? retryAfterMs
          : defaultRetryAfterMs,
      );
      epoch++;
      lastThrottleAt = t;
      pausedUntil = Math.max(pausedUntil, t + wait);
      // The requests in flight when Graph started refusing all come back 429: one signal per pause.
      if (t - lastDecreaseAt >= wait) {
        const sentLastSecond = recent.filter((s) => s > t - 1000).length;
        ceiling = Math.max(minRate, Number.isFinite(rate) ? rate : sentLastSecond);
        rate = Math.max(minRate, ceiling * DECREASE_TO);
        recent.length = 0;
        lastDecreaseAt = t;
      }
      nextAt = pausedUntil;
    },

    onSuccess() {
      if (!Number.isFinite(rate)) return;
      // Per success, so that the rate grows by about `step` requests/s per second.
      const step = rate < ceiling * CRUISE_BELOW ? 1 : 0.1;
      rate += (step * growthShare) / rate;
    },

    raiseCeiling(next) {
      if (!Number.isFinite(ceiling) || !(next > ceiling)) return;
      rate *= next / ceiling;
      ceiling = next;
    },

    setGrowthShare(share) {
      if (share > 0 && share <= 1) growthShare = share;
    },

    forget() {
      rate = ceiling = Infinity;
      growthShare = 1;
    },

    stats: () => ({
      rate: Number.isFinite(rate) ? rate : null,
      ceiling: Number.isFinite(ceiling) ? ceiling : null,
      pausedUntil,
    }),
  };
}
