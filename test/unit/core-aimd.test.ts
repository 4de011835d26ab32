import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { initialAimdState, nextConcurrency, type AimdState } from '../../src/core/aimd.js';

const state = (concurrency: number): AimdState => ({ concurrency, successes: 0 });

describe('nextConcurrency', () => {
  it.each([
    [8, 1, 4],
    [5, 1, 2],
    [1, 1, 1],
    [4, 3, 3], // halving would go below min
  ])('halves %i on a 429 (min %i) → %i', (current, min, expected) => {
    expect(nextConcurrency(state(current), 'throttled', { min, max: 16 }).concurrency).toBe(expected);
  });

  it('adds one per `increaseEvery` successes', () => {
    let s = state(4);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      s = nextConcurrency(s, 'success', { min: 1, max: 16, increaseEvery: 3 });
      seen.push(s.concurrency);
    }
    expect(seen).toEqual([4, 4, 5, 5, 5, 6]);
  });

  it('by default needs a full window of successes per step', () => {
    let s = state(4);
    for (let i = 0; i < 3; i++) s = nextConcurrency(s, 'success', { min: 1, max: 16 });
    expect(s.concurrency).toBe(4);
    s = nextConcurrency(s, 'success', { min: 1, max: 16 });
    expect(s.concurrency).toBe(5);
  });

  it('a 429 resets the success count', () => {
    let s = state(8);
    s = nextConcurrency(s, 'success', { min: 1, max: 16, increaseEvery: 2 });
    s = nextConcurrency(s, 'throttled', { min: 1, max: 16, increaseEvery: 2 });
    s = nextConcurrency(s, 'success', { min: 1, max: 16, increaseEvery: 2 });
    expect(s.concurrency).toBe(4);
  });

  it('never leaves [min, max]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.constantFrom<'success' | 'throttled'>('success', 'throttled'), { maxLength: 200 }),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        (min, extra, initial, events, increaseEvery) => {
          const settings = { min, max: min + extra, increaseEvery };
          let s = initialAimdState(initial, settings);
          for (const event of events) {
            const next = nextConcurrency(s, event, settings);
            expect(next.concurrency).toBeGreaterThanOrEqual(min);
            expect(next.concurrency).toBeLessThanOrEqual(min + extra);
            if (event === 'throttled')
              expect(next.concurrency).toBeLessThanOrEqual(Math.max(min, s.concurrency));
            else expect(next.concurrency - s.concurrency).toBeLessThanOrEqual(1);
            s = next;
          }
        },
      ),
    );
  });
});
