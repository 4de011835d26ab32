// Bounds the Graph requests in flight: one global limit that adapts to 429s (AIMD, src/core/aimd.ts)
// and a small per-organizer limit (Graph also throttles per user), with fairness between organizers.
// A 429 has one owner, the Graph layer: the SDK's RetryHandler retries it and the pacer (src/graph/
// pacer.ts) waits out Retry-After and slows the rate. The limiter only hears one signal per 429 that
// reaches the wire (compose.ts wires it) and halves how many operations it lets run at once.
//
// A small queue rather than p-limit: p-limit has one FIFO and one limit, so a per-organizer cap would
// need a second layer that feeds it. Here each organizer has its own FIFO; a free slot goes to the oldest waiting task
// whose organizer is under its cap, so one organizer's backlog never blocks the others, and picking is
// O(organizers), not O(tasks).

import { initialAimdState, nextConcurrency, type AimdSettings, type AimdState } from '../core/aimd.js';

export interface LimiterOptions {
  /** Global concurrency to start with. */
  initial: number;
  min: number;
  max: number;
  /** At most this many tasks in flight per key (organizer). */
  perKeyMax: number;
  /** Successes per +1 (see AimdSettings.increaseEvery; default: the current concurrency). */
  increaseEvery?: number;
  /**
   * Throttles within this long after a decrease do not halve again: the requests already in flight
   * when Graph started throttling all come back 429, and that is one signal, not many. Default 1000.
   */
  decreaseCooldownMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export interface LimiterStats {
  concurrency: number;
  /** Most tasks ever in flight at once. */
  peak: number;
  /** onThrottled calls. */
  throttles: number;
  inFlight: number;
  queued: number;
}

export interface Limiter {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Graph answered 429: halve the limit (once per burst: see decreaseCooldownMs). */
  onThrottled(): void;
  /** A request completed without throttling. */
  onSuccess(): void;
  stats(): LimiterStats;
}

interface QueuedTask {
  seq: number;
  start: () => void;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { min, max, perKeyMax } = options;
  if (!(Number.isInteger(min) && min >= 1 && Number.isInteger(max) && max >= min)) {
    throw new RangeError(`need integers 1 <= min <= max (got ${min}, ${max})`);
  }
  if (!(Number.isInteger(perKeyMax) && perKeyMax >= 1))
    throw new RangeError(`perKeyMax must be >= 1, got ${perKeyMax}`);
  const now = options.now ?? Date.now;
  const cooldownMs = options.decreaseCooldownMs ?? 1000;
  const aimdSettings: AimdSettings = { min, max, increaseEvery: options.increaseEvery };

  let aimd: AimdState = initialAimdState(options.initial, aimdSettings);
  let inFlight = 0;
  let peak = 0;
  let throttles = 0;
  let queued = 0;
  let seq = 0;
  let lastDecreaseAt = -Infinity;
  const inFlightByKey = new Map<string, number>();
  /** Insertion-ordered; a key is deleted when its queue empties. */
  const queues = new Map<string, QueuedTask[]>();

  function pickNext(): { key: string; queue: QueuedTask[] } | null {
    let best: { key: string; queue: QueuedTask[]; seq: number } | null = null;
    for (const [key, queue] of queues) {
      const head = queue[0];
      if (head === undefined || (inFlightByKey.get(key) ?? 0) >= perKeyMax) continue;
      if (best === null || head.seq < best.seq) best = { key, queue, seq: head.seq };
    }
    return best;
  }

  function pump(): void {
    while (inFlight < aimd.concurrency) {
      const next = pickNext();
      if (next === null) return;
      const task = next.queue.shift();
      if (task === undefined) return;
      if (next.queue.length === 0) queues.delete(next.key);
      queued -= 1;
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      inFlightByKey.set(next.key, (inFlightByKey.get(next.key) ?? 0) + 1);
      task.start();
    }
  }

  function release(key: string): void {
    inFlight -= 1;
    const left = (inFlightByKey.get(key) ?? 1) - 1;
    if (left === 0) inFlightByKey.delete(key);
    else inFlightByKey.set(key, left);
    pump();
  }

  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const task: QueuedTask = {
          seq: seq++,
          start: () => {
            let result: Promise<T>;
            try {
              result = fn();
            } catch (error) {
              result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
            }
            result.then(
              (value) => {
                release(key);
                resolve(value);
              },
              (error: unknown) => {
                release(key);
                reject(error instanceof Error ? error : new Error(String(error)));
              },
            );
          },
        };
        const queue = queues.get(key);
        if (queue === undefined) queues.set(key, [task]);
        else queue.push(task);
        queued += 1;
        pump();
      });
    },

    onThrottled(): void {
      throttles += 1;
      const at = now();
      if (at - lastDecreaseAt >= cooldownMs) {
        aimd = nextConcurrency(aimd, 'throttled', aimdSettings);
        lastDecreaseAt = at;
      }
    },

    onSuccess(): void {
      aimd = nextConcurrency(aimd, 'success', aimdSettings);
      pump();
    },

    stats(): LimiterStats {
      return { concurrency: aimd.concurrency, peak, throttles, inFlight, queued };
    },
  };
}
