import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { backoffDelayMs, nextAttemptAt } from '../../src/core/backoff.js';

describe('backoffDelayMs', () => {
  const options = { baseMs: 60_000, maxMs: 3_600_000 };

  it.each([
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [6, 1_920_000],
    [7, 3_600_000], // 3_840_000 capped
    [5000, 3_600_000], // 2^4999 overflows to Infinity: still capped
    [0, 60_000], // "no failure yet" is treated as the first
  ])('attempt %i without jitter → %i ms', (attempt, expected) => {
    expect(backoffDelayMs(attempt, options)).toBe(expected);
  });

  it('is the same for the same seed and attempt (plans are repeatable)', () => {
    const withJitter = { ...options, jitter: 0.5, seed: 'key-1' };
    expect(backoffDelayMs(3, withJitter)).toBe(backoffDelayMs(3, withJitter));
  });

  it('spreads different seeds', () => {
    const delays = new Set(
      Array.from({ length: 50 }, (_, i) => backoffDelayMs(4, { ...options, jitter: 1, seed: `key-${i}` })),
    );
    expect(delays.size).toBeGreaterThan(40);
  });

  it('stays within [(1 − jitter) · exponential, min(max, exponential)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.string(),
        (attempt, baseMs, maxMs, jitter, seed) => {
          const exponential = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
          const delay = backoffDelayMs(attempt, { baseMs, maxMs, jitter, seed });
          expect(delay).toBeLessThanOrEqual(Math.round(exponential));
          expect(delay).toBeGreaterThanOrEqual(Math.floor(exponential * (1 - jitter)));
        },
      ),
    );
  });

  it('never shrinks from one attempt to the next without jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 10_000 }), (attempt, baseMs) => {
        const o = { baseMs, maxMs: 86_400_000 };
        expect(backoffDelayMs(attempt + 1, o)).toBeGreaterThanOrEqual(backoffDelayMs(attempt, o));
      }),
    );
  });

  it('rejects a jitter outside 0..1', () => {
    expect(() => backoffDelayMs(1, { ...options, jitter: 1.5 })).toThrow(RangeError);
    expect(() => backoffDelayMs(1, { ...options, jitter: -0.1 })).toThrow(RangeError);
  });
});

describe('nextAttemptAt', () => {
  it('adds the delay to now, as a UTC ISO instant', () => {
    expect(nextAttemptAt('2025-03-10T12:00:00Z', 2, { baseMs: 60_000, maxMs: 3_600_000 })).toBe(
      '2025-03-10T12:02:00Z',
    );
  });
});
