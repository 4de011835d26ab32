// Additive-increase / multiplicative-decrease of the number of Graph requests in flight (as TCP does
// with its congestion window): grow slowly while requests succeed, halve on a 429 so the app gets back
// under Graph's per-app limit quickly. Pure; the limiter in src/sync holds the state.

export interface AimdSettings {
  min: number;
  max: number;
  /**
   * Successes needed for +1. Defaults to the current concurrency, i.e. one step per "window" of
   * requests, so growth is about +1 per round of requests however large the window is.
   */
  increaseEvery?: number;
}

export interface AimdState {
  concurrency: number;
  /** Successes counted towards the next increase. */
  successes: number;
}

export type AimdEvent = 'success' | 'throttled';

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function initialAimdState(concurrency: number, settings: AimdSettings): AimdState {
  return { concurrency: clamp(Math.floor(concurrency), settings.min, settings.max), successes: 0 };
}

/**
 * The next state after one request outcome. Takes and returns a state rather than a bare number because
 * "+1 per N successes" needs the count of successes so far.
 */
export function nextConcurrency(current: AimdState, event: AimdEvent, settings: AimdSettings): AimdState {
  const { min, max } = settings;
  if (!(min >= 1) || !(max >= min)) throw new RangeError(`need 1 <= min <= max (got ${min}, ${max})`);
  const concurrency = clamp(current.concurrency, min, max);
  if (event === 'throttled') {
    return { concurrency: Math.max(min, Math.floor(concurrency / 2)), successes: 0 };
  }
  const every = Math.max(1, Math.floor(settings.increaseEvery ?? concurrency));
  const successes = current.successes + 1;
  if (successes < every) return { concurrency, successes };
  return { concurrency: Math.min(max, concurrency + 1), successes: 0 };
}
