// preparePlan reads a feed's rows without their meeting ids and join links (a planning read), plans,
// and reads in full only the rows the plan names. The plan must be the one a full read gives.
import { describe, expect, it } from 'vitest';

import type { DesiredSession } from '../../src/core/desired.js';
import type { SyncPlan } from '../../src/core/plan.js';
import type { MeetingRecord } from '../../src/core/state.js';
import { loadConfig } from '../../src/config.js';
import type { StateStore } from '../../src/storage/index.js';
import { createMemoryStateStore } from '../../src/storage/memory.js';
import { NOT_READ } from '../../src/storage/meetings.js';
import { feedWindow } from '../../src/sync/loadFeed.js';
import { preparePlan } from '../../src/sync/preparePlan.js';
import { meetingRecord } from '../support/records.js';

const NOW = '2027-01-04T08:00:00Z';
const FEED = 'cs-101';
const LECTURER = 'lecturer@uni.ac.uk';

function session(key: string, overrides: Partial<DesiredSession> = {}): DesiredSession {
  return {
    key,
    uid: `uid-${key}`,
    recurrenceId: null,
    subject: `Session ${key}`,
    start: '2027-01-11T09:00:00Z',
    end: '2027-01-11T10:00:00Z',
    organizerEmail: LECTURER,
    cancelled: false,
    contentHash: `h-${key}`,
    location: 'R1',
    description: '',
    ...overrides,
  };
}

function row(key: string, overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  return meetingRecord(key, {
    organizerEmail: LECTURER,
    organizerId: 'oid-lecturer',
    meetingId: `meeting-${key}`,
    joinWebUrl: `https://teams.example/join/${key}`,
    start: '2027-01-11T09:00:00Z',
    end: '2027-01-11T10:00:00Z',
    contentHash: `h-${key}`,
    location: 'R1',
    state: 'active',
    ...overrides,
  });
}

/** Rows for an update, a move, a cancel, a waiting retry, a revival, a room change and one unchanged. */
async function storeWithRows(): Promise<StateStore> {
  const store = createMemoryStateStore();
  await store.meetings.putMany([
    row('same'),
    row('changed', { contentHash: 'h-old' }),
    row('moved-from', { uid: 'series', start: '2027-01-12T09:00:00Z', end: '2027-01-12T10:00:00Z' }),
    row('gone'),
    row('retry', {
      state: 'failed',
      contentHash: 'h-old',
      nextAttemptAt: '2027-01-04T09:00:00Z',
      lastError: { code: 'graphError', message: 'Graph answered 500', at: NOW },
    }),
    row('revived', { state: 'cancelled', generation: 1 }),
    row('new-room'),
    row('begun', { start: '2027-01-03T09:00:00Z', end: '2027-01-03T10:00:00Z' }),
    row('new-organizer'),
  ]);
  return store;
}

const desired = {
  sessions: [
    session('same'),
    session('changed'),
    session('moved-to', { uid: 'series', start: '2027-01-12T10:00:00Z', end: '2027-01-12T11:00:00Z' }),
    session('retry'),
    session('revived'),
    session('new-room', { location: 'R2' }),
    session('begun', { start: '2027-01-03T09:00:00Z', end: '2027-01-03T10:00:00Z' }),
    session('new-organizer', { organizerEmail: 'successor@uni.ac.uk' }),
  ],
  skipped: [],
};

async function plan(store: StateStore, unchanged: 'listed' | 'counted' = 'listed') {
  const deps = { store, config: loadConfig({}) };
  return preparePlan(deps, FEED, null, desired, feedWindow(Date.parse(NOW), 180), { unchanged });
}

/** The same store, its partition always read in full (every column of every row). */
function fullReads(store: StateStore): StateStore {
  return { ...store, meetings: { ...store.meetings, listByFeed: (id) => store.meetings.listByFeed(id) } };
}

function withUnchangedKeys(plan: SyncPlan) {
  return { ...plan, unchanged: plan.unchanged.map((r) => r.key) };
}

describe('preparePlan', () => {
  it('plans from a planning read exactly what it plans from full rows, with every row it acts on in full', async () => {
    const store = await storeWithRows();
    const { plan: planned, records } = await plan(store);
    const { plan: fromFullRows } = await plan(fullReads(store));

    // Unchanged rows are only counted: they stay as the planning read has them.
    expect(withUnchangedKeys(planned)).toEqual(withUnchangedKeys(fromFullRows));
    expect(planned.counts).toMatchObject({
      create: 1,
      update: 1,
      move: 1,
      cancel: 1,
      waiting: 1,
      replace: 1,
      roomChanges: 1,
      unchanged: 3, // the room change too
    });
    const update = planned.operations.find((op) => op.kind === 'update');
    expect(update?.record).toMatchObject({ meetingId: 'meeting-changed', externalId: 'ext-changed' });
    expect(planned.waiting[0]?.joinWebUrl).toBe('https://teams.example/join/retry');
    expect(planned.roomChanges[0]).toMatchObject({ meetingId: 'meeting-new-room', location: 'R2' });
    // The rows the plan was made from keep no meeting ids: they are for planning only.
    expect(records.find((r) => r.key === 'same')?.meetingId).toBe(NOT_READ);
  });

  it('plans the same when it only counts the unchanged rows, as a sync does', async () => {
    const store = await storeWithRows();
    const { plan: listed } = await plan(store, 'listed');
    const { plan: counted, records } = await plan(store, 'counted');

    expect({ ...counted, unchanged: [] }).toEqual({ ...listed, unchanged: [] });
    expect(counted.counts.unchanged).toBe(3);
    expect(counted.guard.futureMeetings).toBe(listed.guard.futureMeetings);
    // The active rows whose session is unchanged were counted as read, not kept.
    expect(records.map((r) => r.key)).not.toContain('same');
    expect(records.map((r) => r.key)).not.toContain('begun');
  });

  it('plans again over a full read when a row it acts on changed between the two reads', async () => {
    const store = await storeWithRows();
    const [changed] = (await store.meetings.listByFeed(FEED)).filter((r) => r.key === 'changed');
    // Another writer brings the row up to date after the planning read.
    const racing: StateStore = {
      ...store,
      meetings: {
        ...store.meetings,
        getMany: async (id, keys) => {
          await store.meetings.put({ ...(changed as MeetingRecord), contentHash: 'h-changed' });
          return store.meetings.getMany(id, keys);
        },
      },
    };

    const { plan: planned } = await plan(racing);

    expect(withUnchangedKeys(planned)).toEqual(withUnchangedKeys((await plan(fullReads(store))).plan));
    expect(planned.counts.update).toBe(0);
  });

  it('when the plan names most rows (a meeting option changed), plans over one full read instead of two', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    const seeded = async (changed: number) => {
      const store = createMemoryStateStore();
      await store.meetings.putMany(keys.map((k, i) => row(k, i < changed ? { contentHash: 'h-old' } : {})));
      const reads: number[] = [];
      const counting: StateStore = {
        ...store,
        meetings: {
          ...store.meetings,
          getMany: (id, wanted) => {
            reads.push(wanted.size);
            return store.meetings.getMany(id, wanted);
          },
        },
      };
      const deps = { store: counting, config: loadConfig({}) };
      const all = { sessions: keys.map((k) => session(k)), skipped: [] };
      const window = feedWindow(Date.parse(NOW), 180);
      const { plan: planned } = await preparePlan(deps, FEED, null, all, window, { unchanged: 'counted' });
      return { planned, reads };
    };

    const every = await seeded(200);
    expect(every.reads).toEqual([]); // no second read of 200 rows beside the first
    expect(every.planned.counts.update).toBe(200);
    expect(every.planned.operations.every((op) => op.record?.meetingId?.startsWith('meeting-'))).toBe(true);

    const few = await seeded(10);
    expect(few.reads).toEqual([10]); // a normal run reads only what it acts on again
    expect(few.planned.counts).toMatchObject({ update: 10, unchanged: 190 });
  });
});
