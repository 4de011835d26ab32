// The summary of a run that left work for the next one says why, so ops do not chase a time budget
// that was never reached.
import { describe, expect, it } from 'vitest';

import { planSync } from '../../src/core/plan.js';
import { loadConfig } from '../../src/config.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import type { GraphAccess } from '../../src/graph/client.js';
import { createMemoryStateStore } from '../../src/storage/index.js';
import { ApplyRun } from '../../src/sync/apply/index.js';
import { createLimiter } from '../../src/sync/limiter.js';
import { RunClock, appliedRunSummary } from '../../src/sync/recordRun.js';

const NOW = '2027-01-04T08:00:00Z';

function emptyRun(): ApplyRun {
  return new ApplyRun(
    {
      store: createMemoryStateStore(),
      graph: {} as Pick<GraphAccess, 'users' | 'meetings'>,
      limiter: createLimiter({ initial: 1, min: 1, max: 1, perKeyMax: 1 }),
      logger: createEventLogger(memorySink().sink),
      config: loadConfig({}),
      now: () => new Date(NOW),
      sleep: () => Promise.resolve(),
      policyRetryWaitsMs: [],
    },
    'cs',
    Number.POSITIVE_INFINITY,
  );
}

const plan = planSync({
  desired: [],
  records: [],
  now: NOW,
  windowEnd: '2027-06-01T00:00:00Z',
  settings: { maxCancelShare: 0.2, guardMinCancels: 3, cancellationsConfirmed: false },
  skippedKeys: [],
  guardHeldBefore: false,
});
const summaryOf = (run: ApplyRun) =>
  appliedRunSummary(
    new RunClock(
      () => new Date(NOW),
      () => ({ requests: 0, throttled: 0 }),
    ),
    'cs',
    plan,
    run,
    0,
  );

describe('a partial run says why it is partial', () => {
  it('names rows lost to another run and failed storage writes, not a time budget nobody reached', () => {
    const run = emptyRun();
    run.counters.raced = 2;
    run.counters.storageFailed = 1;
    const summary = summaryOf(run);
    expect(summary.outcome).toBe('partial');
    expect(summary.message).toBe(
      '2 sessions were being written by another run at the same time; 1 row writes failed in storage; the rest continues next run',
    );
  });

  it('names the time budget when that is what stopped it, and says nothing for a complete run', () => {
    const run = emptyRun();
    run.stoppedEarly = true;
    expect(summaryOf(run).message).toBe('run budget reached; the rest continues next run');
    expect(summaryOf(emptyRun())).toMatchObject({ outcome: 'completed' });
    expect(summaryOf(emptyRun()).message).toBeUndefined();
  });
});
