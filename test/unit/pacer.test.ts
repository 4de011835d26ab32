import { describe, expect, it } from 'vitest';
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
