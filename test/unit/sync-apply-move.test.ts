// The re-key of moved sessions (src/sync/apply/move.ts) on the in-memory store: before the lanes, one
// transaction per move; a row another run changed is left to it, and a run out of time re-keys nothing
// more (the next run plans those moves again).
import { describe, expect, it } from 'vitest';

import { contentHash, externalIdFor } from '../../src/core/identity.js';
import type { DesiredSession } from '../../src/core/desired.js';
import { planSync, type PlannedOperation } from '../../src/core/plan.js';
import type { MeetingRecord } from '../../src/core/state.js';
import { loadConfig } from '../../src/config.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import { createMemoryStateStore } from '../../src/storage/index.js';
import { ApplyRun } from '../../src/sync/apply/index.js';
import { rekeyMoves } from '../../src/sync/apply/move.js';
import { createLimiter } from '../../src/sync/limiter.js';

const FEED = 'cs';
const NOW = '2027-01-04T08:00:00Z';

function session(i: number, hour: number): DesiredSession {
  const start = `2027-01-${String(11 + i).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
  const draft = {
    key: `k${i}-${hour}`,
    uid: 'lab@uni',
    recurrenceId: start,
    subject: 'Lab',
    start,
    end: start.replace(/T(\d\d)/, (_, h: string) => `T${String(Number(h) + 1).padStart(2, '0')}`),
    organizerEmail: 'ada@uni.example',
    cancelled: false,
    location: '',
  };
  return { ...draft, contentHash: contentHash(draft) };
}

async function setup(budgetEndsAt: number) {
  const store = createMemoryStateStore();
  const before = [0, 1, 2].map((i) => session(i, 9));
  for (const d of before) {
    const row: MeetingRecord = {
      feedId: FEED,
      key: d.key,
      uid: d.uid,
      recurrenceId: d.recurrenceId,
      organizerEmail: d.organizerEmail,
      organizerId: 'oid-ada',
      externalId: externalIdFor(d.key, 0),
      generation: 0,
      meetingId: `m-${d.key}`,
      joinWebUrl: `https://teams.example/${d.key}`,
      subject: d.subject,
      start: d.start,
      end: d.end,
      location: d.location,
      contentHash: d.contentHash,
      state: 'active',
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    };
    await store.meetings.put(row);
  }
  const records = await store.meetings.listByFeed(FEED);
  const plan = planSync({
    desired: [0, 1, 2].map((i) => session(i, 10)),
    records,
    now: NOW,
    windowEnd: '2027-07-01T00:00:00Z',
    settings: { maxCancelShare: 0.2, guardMinCancels: 3, cancellationsConfirmed: false },
    skippedKeys: [],
    guardHeldBefore: false,
  });
  const { sink, events } = memorySink();
  const run = new ApplyRun(
    {
      store,
      graph: {} as never, // the re-key calls no Graph
      limiter: createLimiter({ initial: 1, min: 1, max: 1, perKeyMax: 1 }),
      logger: createEventLogger(sink),
      config: loadConfig({}),
      now: () => new Date(NOW),
      sleep: () => Promise.resolve(),
      policyRetryWaitsMs: [],
    },
    FEED,
    budgetEndsAt,
  );
  return { store, plan, run, events };
}

const kinds = (ops: PlannedOperation[]) => ops.map((op) => op.kind);

describe('rekeyMoves', () => {
  it('re-keys every move before the lanes; a row another run changed is that run’s', async () => {
    const { store, plan, run } = await setup(Number.POSITIVE_INFINITY);
    expect(kinds(plan.operations)).toEqual(['move', 'move', 'move']);
    // Another run writes the second session's row after this plan read it.
    const [, second] = await store.meetings.listByFeed(FEED);
    await store.meetings.put({ ...second!, subject: 'changed elsewhere' });
    const left = await rekeyMoves(run, plan.operations);
    expect(left).toHaveLength(2);
    expect(run.counters.raced).toBe(1);
    const rows = await store.meetings.listByFeed(FEED);
    expect(
      rows
        .filter((r) => r.state === 'active')
        .map((r) => r.key)
        .sort(),
    ).toEqual(['k0-10', 'k1-9', 'k2-10']);
    expect(
      rows
        .filter((r) => r.state === 'cancelled')
        .map((r) => r.key)
        .sort(),
    ).toEqual(['k0-9', 'k2-9']);
    // The lanes then see the re-keyed rows (same meeting, old hash: a PATCH is due).
    expect(run.current(left[0]!)).toMatchObject({
      key: 'k0-10',
      meetingId: 'm-k0-9',
      externalId: externalIdFor('k0-9', 0),
    });
  });

  it('out of time: nothing more is re-keyed, the run ends early, the next plan has the same moves', async () => {
    const { store, plan, run } = await setup(0);
    expect(await rekeyMoves(run, plan.operations)).toEqual([]);
    expect(run.stoppedEarly).toBe(true);
    expect(
      (await store.meetings.listByFeed(FEED)).every((r) => r.state === 'active' && r.key.endsWith('-9')),
    ).toBe(true);
  });
});
