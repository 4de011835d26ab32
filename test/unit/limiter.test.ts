import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createLimiter, type Limiter } from '../../src/sync/limiter.js';

/** A task the test finishes by hand. */
interface Gate {
  started: boolean;
  finish: () => void;
  fail: (error: Error) => void;
}

function gatedTask(limiter: Limiter, key: string, log?: string[]): { gate: Gate; done: Promise<string> } {
  const gate: Gate = { started: false, finish: () => undefined, fail: () => undefined };
  const done = limiter.run(key, () => {
    gate.started = true;
    log?.push(key);
    return new Promise<string>((resolve, reject) => {
      gate.finish = () => resolve(key);
      gate.fail = reject;
    });
  });
  return { gate, done };
}

/** Lets queued promise callbacks run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

afterEach(() => {
  vi.useRealTimers();
});

describe('createLimiter', () => {
  it('runs at most the global limit at once', async () => {
    const limiter = createLimiter({ initial: 3, min: 1, max: 10, perKeyMax: 10 });
    const tasks = Array.from({ length: 7 }, (_, i) => gatedTask(limiter, `org-${i}`));
    await settle();
    expect(tasks.filter((t) => t.gate.started)).toHaveLength(3);
    tasks[0]?.gate.finish();
    await settle();
    expect(tasks.filter((t) => t.gate.started)).toHaveLength(4);
    expect(limiter.stats()).toMatchObject({ peak: 3, inFlight: 3, queued: 3 });
  });

  it('runs at most perKeyMax per key, in FIFO order within the key', async () => {
    const limiter = createLimiter({ initial: 10, min: 1, max: 10, perKeyMax: 2 });
    const log: string[] = [];
    const tasks = Array.from({ length: 5 }, () => gatedTask(limiter, 'ada', log));
    await settle();
    expect(tasks.map((t) => t.gate.started)).toEqual([true, true, false, false, false]);
    tasks[1]?.gate.finish();
    await settle();
    expect(tasks.map((t) => t.gate.started)).toEqual([true, true, true, false, false]);
  });

  it("does not let one organizer's backlog starve another", async () => {
    const limiter = createLimiter({ initial: 4, min: 1, max: 10, perKeyMax: 2 });
    const busy = Array.from({ length: 50 }, () => gatedTask(limiter, 'busy'));
    const other = gatedTask(limiter, 'other');
    await settle();
    expect(other.gate.started).toBe(true);
    expect(busy.filter((t) => t.gate.started)).toHaveLength(2);
  });

  it('hands a free slot to the oldest waiting task whose organizer has room', async () => {
    const limiter = createLimiter({ initial: 2, min: 1, max: 10, perKeyMax: 1 });
    const log: string[] = [];
    const a1 = gatedTask(limiter, 'a', log);
    gatedTask(limiter, 'a', log);
    const b1 = gatedTask(limiter, 'b', log);
    gatedTask(limiter, 'c', log);
    gatedTask(limiter, 'b', log);
    await settle();
    expect(log).toEqual(['a', 'b']);
    b1.gate.finish(); // a is still busy: the oldest eligible is c, then b's second task
    await settle();
    expect(log).toEqual(['a', 'b', 'c']);
    a1.gate.finish();
    await settle();
    expect(log).toEqual(['a', 'b', 'c', 'a']);
  });

  it('passes results and errors through and frees the slot either way', async () => {
    const limiter = createLimiter({ initial: 1, min: 1, max: 1, perKeyMax: 1 });
    const failing = limiter.run('a', () => Promise.reject(new Error('boom')));
    const throwing = limiter.run('a', () => {
      throw new Error('sync boom');
    });
    const ok = limiter.run('a', () => Promise.resolve(42));
    await expect(failing).rejects.toThrow('boom');
    await expect(throwing).rejects.toThrow('sync boom');
    await expect(ok).resolves.toBe(42);
    expect(limiter.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('halves on a throttle, once per burst, and grows back with successes', () => {
    let clock = 0;
    const limiter = createLimiter({
      initial: 8,
      min: 1,
      max: 8,
      perKeyMax: 4,
      increaseEvery: 2,
      decreaseCooldownMs: 1000,
      now: () => clock,
    });
    limiter.onThrottled();
    expect(limiter.stats().concurrency).toBe(4);
    limiter.onThrottled(); // the rest of the same burst of 429s
    expect(limiter.stats()).toMatchObject({ concurrency: 4, throttles: 2 });
    clock = 1000;
    limiter.onThrottled();
    expect(limiter.stats().concurrency).toBe(2);
    for (let i = 0; i < 4; i++) limiter.onSuccess();
    expect(limiter.stats().concurrency).toBe(4);
    for (let i = 0; i < 100; i++) limiter.onSuccess();
    expect(limiter.stats().concurrency).toBe(8);
  });

  it('runs the backlog at the lowered limit after a throttle, and at the raised one after successes', async () => {
    const limiter = createLimiter({
      initial: 4,
      min: 1,
      max: 4,
      perKeyMax: 10,
      increaseEvery: 1,
      decreaseCooldownMs: 0,
    });
    const tasks = Array.from({ length: 12 }, () => gatedTask(limiter, 'ada'));
    await settle();
    limiter.onThrottled(); // 4 → 2 while 4 are in flight
    for (const t of tasks.slice(0, 4)) t.gate.finish();
    await settle();
    expect(tasks.filter((t) => t.gate.started)).toHaveLength(6); // 4 done + 2 running
    limiter.onSuccess(); // 2 → 3: one more starts at once
    await settle();
    expect(tasks.filter((t) => t.gate.started)).toHaveLength(7);
  });

  it('never halves below min', () => {
    const limiter = createLimiter({ initial: 3, min: 2, max: 8, perKeyMax: 4, decreaseCooldownMs: 0 });
    for (let i = 0; i < 5; i++) limiter.onThrottled();
    expect(limiter.stats().concurrency).toBe(2);
  });

  it("keeps starting work after a throttle: waiting out Retry-After is the Graph pacer's job", async () => {
    const limiter = createLimiter({ initial: 4, min: 1, max: 8, perKeyMax: 4 });
    const first = gatedTask(limiter, 'a');
    await settle();
    limiter.onThrottled(); // 4 → 2
    first.gate.finish();
    const second = gatedTask(limiter, 'b');
    await settle();
    expect(second.gate.started).toBe(true);
  });

  it('never exceeds perKeyMax per key nor the limit in force when a task starts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          initial: fc.integer({ min: 1, max: 8 }),
          max: fc.integer({ min: 1, max: 8 }),
          perKeyMax: fc.integer({ min: 1, max: 3 }),
        }),
        fc.array(
          fc.record({
            key: fc.constantFrom('ada', 'bob', 'cy', 'dee'),
            ticks: fc.integer({ min: 0, max: 3 }),
            outcome: fc.constantFrom('success', 'throttled', 'error'),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        async (options, tasks) => {
          const max = Math.max(options.max, options.initial);
          const limiter = createLimiter({ ...options, min: 1, max, decreaseCooldownMs: 0 });
          const perKey = new Map<string, number>();
          let inFlight = 0;
          let peakSeen = 0;
          const results = tasks.map((task) =>
            limiter.run(task.key, async () => {
              inFlight += 1;
              peakSeen = Math.max(peakSeen, inFlight);
              const mine = (perKey.get(task.key) ?? 0) + 1;
              perKey.set(task.key, mine);
              expect(mine).toBeLessThanOrEqual(options.perKeyMax);
              expect(inFlight).toBeLessThanOrEqual(limiter.stats().concurrency);
              for (let i = 0; i < task.ticks; i++) await Promise.resolve();
              inFlight -= 1;
              perKey.set(task.key, (perKey.get(task.key) ?? 1) - 1);
              if (task.outcome === 'throttled') limiter.onThrottled();
              else limiter.onSuccess();
              if (task.outcome === 'error') throw new Error('request failed');
              return task.key;
            }),
          );
          const settled = await Promise.allSettled(results);
          expect(settled.filter((r) => r.status === 'rejected')).toHaveLength(
            tasks.filter((t) => t.outcome === 'error').length,
          );
          const stats = limiter.stats();
          expect(stats).toMatchObject({ inFlight: 0, queued: 0 });
          // The limiter holds a slot until the task's promise settles, a little longer than the body runs.
          expect(stats.peak).toBeGreaterThanOrEqual(peakSeen);
          expect(stats.peak).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});
