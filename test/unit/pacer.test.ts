import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/graph/errors.js';
import { createPacer } from '../../src/graph/pacer.js';

function fakeClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('Graph pacer', () => {
  it('paces nothing until Graph throttles', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock);
    for (let i = 0; i < 100; i++) await pacer.acquire();
    expect(clock.now()).toBe(0);
    expect(pacer.stats().rate).toBeNull();
  });

  it('after a 429 waits Retry-After, then sends at 90 % of the rate Graph refused', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock);
    for (let i = 0; i < 50; i++) await pacer.acquire(); // 50 in the last second
    pacer.onThrottled(2000);
    expect(pacer.stats()).toMatchObject({ ceiling: 50, rate: 45 });
    await pacer.acquire();
    expect(clock.now()).toBe(2000);
    const start = clock.now();
    for (let i = 0; i < 45; i++) await pacer.acquire();
    // 45 more requests at 45/s: one second after the first one that went at the end of the pause.
    expect(clock.now() - start).toBeCloseTo(1000, 0);
  });

  it('falls to its floor when throttled before anything was sent', () => {
    const pacer = createPacer(fakeClock());
    pacer.onThrottled();
    expect(pacer.stats().rate).toBe(1);
  });

  it('climbs back fast to just under the refused rate, then only creeps', async () => {
    const clock = fakeClock();
    const p = createPacer(clock);
    for (let i = 0; i < 50; i++) await p.acquire();
    p.onThrottled(1000);
    expect(p.stats().rate).toBe(45);
    let successes = 0;
    while ((p.stats().rate ?? 0) < 48.5) {
      p.onSuccess();
      successes++;
    }
    // About 1 request/s per second: ~3.5 s of successes at ~47/s.
    expect(successes).toBeGreaterThan(120);
    expect(successes).toBeLessThan(200);
    let slow = 0;
    while ((p.stats().rate ?? 0) < 50) {
      p.onSuccess();
      slow++;
    }
    // Ten times slower above 97 %: 1.5 requests/s more take ~15 s of successes.
    expect(slow).toBeGreaterThan(600);
  });

  it('halves nothing twice for one burst: the 429s of the requests in flight are one signal', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock);
    for (let i = 0; i < 40; i++) await pacer.acquire();
    pacer.onThrottled(1000);
    pacer.onThrottled(1000);
    pacer.onThrottled(1000);
    expect(pacer.stats().rate).toBe(36);
  });
});

describe('Graph pacer with a cap on waiting (maxWaitMs)', () => {
  async function refusal(promise: Promise<void>): Promise<GraphError> {
    try {
      await promise;
    } catch (e) {
      if (e instanceof GraphError) return e;
      throw e;
    }
    throw new Error('expected acquire to be refused');
  }

  it('a pause longer than the cap fails requests at once as throttled, with the rest of the pause', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ...clock, maxWaitMs: 30_000 });
    await pacer.acquire();
    pacer.onThrottled(300_000); // Retry-After: 300
    const first = await refusal(pacer.acquire());
    expect(clock.now()).toBe(0); // no sleeping
    expect(first).toMatchObject({ kind: 'throttled', code: 'graph.throttled', retryAfterSeconds: 300 });
    clock.advance(100_000);
    expect((await refusal(pacer.acquire())).retryAfterSeconds).toBe(200);
    clock.advance(100_500);
    expect((await refusal(pacer.acquire())).retryAfterSeconds).toBe(100); // 99.5 s, rounded up
  });

  it('once less than the cap is left of the pause, requests wait it out and go; afterwards they are paced normally', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ...clock, maxWaitMs: 30_000 });
    for (let i = 0; i < 10; i++) await pacer.acquire();
    pacer.onThrottled(60_000);
    await refusal(pacer.acquire());
    clock.advance(40_000);
    await pacer.acquire(); // 20 s left: under the cap, so it waits
    expect(clock.now()).toBe(60_000);
    const before = clock.now();
    for (let i = 0; i < 9; i++) await pacer.acquire();
    // 9 at 9/s (90 % of the 10/s Graph refused): about one second, nothing refused.
    expect(clock.now() - before).toBeCloseTo(1000, -1);
  });

  it('a refused request reserves no slot: the next one is not pushed back by it', async () => {
    const clock = fakeClock();
    const pacer = createPacer({ ...clock, maxWaitMs: 5_000 });
    await pacer.acquire();
    pacer.onThrottled(10_000);
    for (let i = 0; i < 20; i++) await refusal(pacer.acquire());
    clock.advance(6_000);
    await pacer.acquire();
    expect(clock.now()).toBe(10_000);
  });

  it('a request already waiting when Graph asks for a longer pause is refused instead of waiting on', async () => {
    let t = 0;
    const sleeps: Array<() => void> = [];
    const pacer = createPacer({
      now: () => t,
      sleep: (ms) =>
        new Promise<void>((resolve) =>
          sleeps.push(() => {
            t += ms;
            resolve();
          }),
        ),
      maxWaitMs: 30_000,
    });
    await pacer.acquire();
    pacer.onThrottled(10_000);
    const waiting = pacer.acquire(); // 10 s: within the cap, sleeps
    await Promise.resolve();
    pacer.onThrottled(120_000); // a new 429 while it sleeps
    sleeps.shift()?.();
    expect(await refusal(waiting)).toMatchObject({ kind: 'throttled', retryAfterSeconds: 110 });
  });

  it('without a cap it waits the whole pause, as before', async () => {
    const clock = fakeClock();
    const pacer = createPacer(clock);
    pacer.onThrottled(300_000);
    await pacer.acquire();
    expect(clock.now()).toBe(300_000);
  });
});

describe('Graph pacer with other instances of the app', () => {
  /** A pacer that learned a ceiling of 20 requests/s (rate 18). */
  async function pacedAt20() {
    const clock = fakeClock();
    const pacer = createPacer(clock);
    for (let i = 0; i < 20; i++) await pacer.acquire();
    pacer.onThrottled(1000);
    return { clock, pacer };
  }

  it('takes a freed share at once: ceiling and rate grow in proportion', async () => {
    const { pacer } = await pacedAt20();
    expect(pacer.stats()).toMatchObject({ ceiling: 20, rate: 18 });
    pacer.raiseCeiling(40);
    expect(pacer.stats().ceiling).toBe(40);
    expect(pacer.stats().rate).toBeCloseTo(36);
    pacer.raiseCeiling(30); // never lowered this way: only a 429 lowers it
    expect(pacer.stats().ceiling).toBe(40);
  });

  it('with a quarter of the app, grows by a quarter of the step, so four instances probe like one', async () => {
    const alone = (await pacedAt20()).pacer;
    const quarter = (await pacedAt20()).pacer;
    quarter.setGrowthShare(0.25);
    for (let i = 0; i < 18; i++) {
      alone.onSuccess();
      quarter.onSuccess();
    }
    // 18 successes at 18/s: one second of growth.
    expect((alone.stats().rate ?? 0) - 18).toBeCloseTo(1, 1);
    expect((quarter.stats().rate ?? 0) - 18).toBeCloseTo(0.25, 1);
  });

  it('forgets its share when it stops syncing, and ignores a freed share while unpaced', async () => {
    const { clock, pacer } = await pacedAt20();
    clock.advance(1000); // the 429's pause is over
    pacer.forget();
    expect(pacer.stats()).toMatchObject({ rate: null, ceiling: null });
    pacer.raiseCeiling(40);
    expect(pacer.stats().ceiling).toBeNull();
    const start = clock.now();
    for (let i = 0; i < 100; i++) await pacer.acquire();
    expect(clock.now()).toBe(start);
  });
});
