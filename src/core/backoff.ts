// Per-operation retry delays across runs (a failed create/update/cancel gets `nextAttemptAt`).
// Pure: the jitter comes from a hash of (seed, attempt), so the same record replanned gives the same
// time, and different records (different seeds) spread out instead of retrying in lock-step.

import { createHash } from 'node:crypto';

import { toUtcIso } from './identity.js';

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Upper bound of any delay (before jitter is subtracted). */
  maxMs: number;
  /** 0..1: share of the delay that may be taken off at random (0 = none, 1 = "full jitter"). */
  jitter?: number;
  /** What to spread on, e.g. the occurrence key. */
  seed?: string;
}

/** A number in [0, 1) derived from the seed and attempt. */
function unitFromHash(seed: string, attempt: number): number {
  const digest = createHash('sha256').update(`${seed}\u0000${attempt}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/**
 * Delay before attempt `attempt + 1`, where `attempt` is the number of failures so far (1 after the
 * first failure; values below 1 count as 1): min(maxMs, baseMs · 2^(attempt−1)), minus up to
 * `jitter` of it. Never more than maxMs, never less than (1 − jitter) of the exponential value.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs } = options;
  const jitter = options.jitter ?? 0;
  if (!(baseMs >= 0) || !(maxMs >= 0) || !Number.isFinite(baseMs) || !Number.isFinite(maxMs)) {
    throw new RangeError(`baseMs and maxMs must be finite and >= 0 (got ${baseMs}, ${maxMs})`);
  }
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be within 0..1, got ${jitter}`);
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2 ** 1100 is Infinity; Math.min turns that into maxMs.
  const exponential = Math.min(maxMs, baseMs * 2 ** (n - 1));
  if (jitter === 0) return Math.round(exponential);
  const cut = exponential * jitter * unitFromHash(options.seed ?? '', n);
  return Math.round(exponential - cut);
}

/** `now` + backoffDelayMs, as the UTC ISO string stored in `nextAttemptAt`. */
export function nextAttemptAt(now: string, attempt: number, options: BackoffOptions): string {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new RangeError(`now is not an ISO instant: ${now}`);
  return toUtcIso(nowMs + backoffDelayMs(attempt, options));
}
