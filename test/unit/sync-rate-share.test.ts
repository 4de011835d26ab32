import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createEventLogger, memorySink } from '../../src/events.js';
import type { PacerShare } from '../../src/graph/index.js';
import { createMemoryStateStore } from '../../src/storage/memory.js';
import type { GraphRateRepository } from '../../src/storage/index.js';
import { createRateShare } from '../../src/sync/rateShare.js';

const INTERVAL_MS = 2_000;

/** A pacer as the rate share sees it: the ceiling it learned from its own 429s. */
function learnedPacer(ceiling: number | null) {
  const state = { ceiling, growthShare: 1, forgotten: false };
  const pacing: PacerShare = {
    stats: () => ({
      rate: state.ceiling === null ? null : state.ceiling * 0.9,
      ceiling: state.ceiling,
      pausedUntil: 0,
    }),
    raiseCeiling: (next) => {
      if (state.ceiling !== null && next > state.ceiling) state.ceiling = next;
    },
    setGrowthShare: (share) => {
      state.growthShare = share;
    },
    forget: () => {
      state.ceiling = null;
      state.forgotten = true;
    },
  };
  return { state, pacing };
}

function instance(
  rates: GraphRateRepository,
  name: string,
  ceiling: number | null,
  clock: () => number = () => Date.now(),
) {
  const pacer = learnedPacer(ceiling);
  const { sink, events } = memorySink();
  const share = createRateShare({
    rates,
    pacing: pacer.pacing,
    clock,
    intervalMs: INTERVAL_MS,
    instance: name,
  });
  /** Starts a sync that runs until `finish()`. */
  const sync = () => {
    let finish: () => void = () => undefined;
    const done = share.during(
      createEventLogger(sink),
      () => new Promise<string>((resolve) => (finish = () => resolve('synced'))),
    );
    return { done, finish: () => finish() };
  };
  return { pacer: pacer.state, events, sync };
}

describe('instances sharing the Graph ceiling while they sync', () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.parse('2026-12-01T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('when one instance finishes, the others take its share within a few seconds, in proportion', async () => {
    const { graphRates } = createMemoryStateStore();
    const a = instance(graphRates, 'a', 10);
    const b = instance(graphRates, 'b', 30);
    const c = instance(graphRates, 'c', 20);
    const runs = [a.sync(), b.sync(), c.sync()];
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(a.pacer.growthShare).toBeCloseTo(10 / 60);
    expect(b.pacer.growthShare).toBeCloseTo(30 / 60);

    runs[2]?.finish();
    expect(await runs[2]?.done).toBe('synced');
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(c.pacer.forgotten).toBe(true);
    expect(a.pacer.ceiling).toBeCloseTo(15);
    expect(b.pacer.ceiling).toBeCloseTo(45);
    expect(a.events.find((e) => e.name === 'graph.rate.shared')?.properties).toEqual({
      from: ['c'],
      ceilingBefore: 10,
      ceilingAfter: 15,
    });
    // Taken once: more intervals give nothing more.
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(a.pacer.ceiling).toBeCloseTo(15);
    for (const run of runs.slice(0, 2)) run.finish();
  });

  it('keeps its share through a gap between two syncs shorter than an interval', async () => {
    const { graphRates } = createMemoryStateStore();
    const a = instance(graphRates, 'a', 20);
    const b = instance(graphRates, 'b', 20);
    const other = b.sync();
    const first = a.sync();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    first.finish();
    await first.done;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 2);
    const second = a.sync();
    await vi.advanceTimersByTimeAsync(4 * INTERVAL_MS);
    expect(a.pacer.forgotten).toBe(false);
    expect(b.pacer.ceiling).toBe(20);
    second.finish();
    other.finish();
  });

  it('an instance that stops reporting (it died) frees its share too', async () => {
    const { graphRates } = createMemoryStateStore();
    await graphRates.report({ instance: 'dead', ceiling: 25, at: Date.now(), left: false, idle: false });
    const a = instance(graphRates, 'a', 25);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(a.pacer.ceiling).toBe(25);
    await vi.advanceTimersByTimeAsync(6 * INTERVAL_MS);
    expect(a.pacer.ceiling).toBe(50);
    run.finish();
  });

  it('a sync goes on when the rows cannot be written: the pacer keeps what it learned alone', async () => {
    const failing: GraphRateRepository = {
      report: () => Promise.reject(new Error('storage unavailable')),
      list: () => Promise.reject(new Error('storage unavailable')),
      remove: () => Promise.reject(new Error('storage unavailable')),
    };
    const a = instance(failing, 'a', 20);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    run.finish();
    expect(await run.done).toBe('synced');
    expect(a.pacer.ceiling).toBe(20);
  });

  it('a report slower than the interval is not joined by more: no backlog bursts out when the storage recovers', async () => {
    const { graphRates } = createMemoryStateStore();
    let slow = true;
    const calledAt: number[] = [];
    const slowRates: GraphRateRepository = {
      ...graphRates,
      report: async (report) => {
        calledAt.push(Date.now());
        if (slow) await new Promise((resolve) => setTimeout(resolve, 5 * INTERVAL_MS));
        await graphRates.report(report);
      },
    };
    const a = instance(slowRates, 'a', 20);
    const start = Date.now();
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS - 1);
    slow = false;
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    // Two slow reports (at 0 and 5 intervals), then one per interval: not the ten ticks that came meanwhile.
    const perInterval = (k: number) =>
      calledAt.filter((t) => t >= start + k * INTERVAL_MS && t < start + (k + 1) * INTERVAL_MS).length;
    expect(calledAt.length).toBeLessThanOrEqual(6);
    expect(perInterval(10)).toBeLessThanOrEqual(2);
    run.finish();
  });

  it('judges a peer silent on its own clock: a live peer whose clock is 11 s behind keeps its share', async () => {
    const { graphRates } = createMemoryStateStore();
    const skewed = setInterval(
      () =>
        void graphRates.report({
          instance: 'behind',
          ceiling: 20,
          at: Date.now() - 11_000,
          left: false,
          idle: false,
        }),
      INTERVAL_MS,
    );
    const a = instance(graphRates, 'a', 20);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(30 * INTERVAL_MS);
    expect(a.pacer.ceiling).toBe(20);
    expect(a.events.filter((e) => e.name === 'graph.rate.shared')).toEqual([]);
    clearInterval(skewed);
    run.finish();
  });

  it('never takes the share of a row it did not see syncing (one left behind long ago)', async () => {
    const { graphRates } = createMemoryStateStore();
    await graphRates.report({
      instance: 'old',
      ceiling: 40,
      at: Date.now() - 600_000,
      left: true,
      idle: true,
    });
    const a = instance(graphRates, 'a', 20);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(a.pacer.ceiling).toBe(20);
    run.finish();
  });

  it('an instance between its last sync and leaving takes nothing: it leaves with its own share', async () => {
    const { graphRates } = createMemoryStateStore();
    const a = instance(graphRates, 'a', 20);
    const b = instance(graphRates, 'b', 20);
    const c = instance(graphRates, 'c', 20);
    const [runA, runB, runC] = [a.sync(), b.sync(), c.sync()];
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    runC.finish(); // c leaves one interval later
    await vi.advanceTimersByTimeAsync(INTERVAL_MS + 1);
    runA.finish(); // a's heartbeat in its last interval sees that c left
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(a.pacer).toMatchObject({ forgotten: true });
    expect((await graphRates.list()).find((r) => r.instance === 'a')).toMatchObject({
      left: true,
      ceiling: 20,
    });
    // b alone is left: it holds what the three had learned, never more.
    expect(b.pacer.ceiling).toBeCloseTo(60);
    runB.finish();
  });

  it('gives its own share up when it could not report for longer than the others wait (its loop was blocked)', async () => {
    const { graphRates } = createMemoryStateStore();
    let blockedMs = 0;
    const a = instance(graphRates, 'a', 20, () => Date.now() + blockedMs);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(a.pacer.forgotten).toBe(false);
    blockedMs = 12_000; // the next heartbeat comes 12 s after the last report, on its own clock
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(a.pacer.forgotten).toBe(true);
    run.finish();
  });

  it('gives its own share up when one of its reports took longer than the others wait (a slow storage)', async () => {
    const { graphRates } = createMemoryStateStore();
    let slowNext = false;
    const rates: GraphRateRepository = {
      ...graphRates,
      report: async (report) => {
        if (slowNext) {
          slowNext = false;
          await new Promise((resolve) => setTimeout(resolve, 6 * INTERVAL_MS));
        }
        await graphRates.report(report);
      },
    };
    const a = instance(rates, 'a', 20);
    const run = a.sync();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(a.pacer.forgotten).toBe(false);
    slowNext = true; // the next report lands 12 s after the one before: a peer would call it gone
    await vi.advanceTimersByTimeAsync(8 * INTERVAL_MS);
    expect(a.pacer.forgotten).toBe(true);
    run.finish();
  });
});
