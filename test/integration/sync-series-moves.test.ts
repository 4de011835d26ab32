// Series-aware identity against Azurite + the Graph emulator: when a timetable moves a whole series
// (its DTSTART: another hour, another weekday, a week later), every session keeps its meeting and join
// link (PATCHed, counted from the emulator's own request counts); a shortened series cancels exactly
// the sessions it lost.
import { describe, expect, it } from 'vitest';

import type { EmulatorHandle } from '../../src/emulator/index.js';
import { createFeedsRoutes } from '../../src/http/index.js';
import { SimulatedKill, killableStore } from '../support/sync-crash.js';
import { eventsNamed, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { KEY, call } from './http-support.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BOB = 'bob@uni.example';
const ROUTE = '/v1.0/users/{id}/onlineMeetings';

/** Requests on one route, whatever they were answered. */
function requests(emulator: EmulatorHandle, route: string): number {
  const byStatus = emulator.control.requestCounts().byRoute[route] ?? {};
  return Object.values(byStatus).reduce((sum, n) => sum + n, 0);
}

function graphWrites(emulator: EmulatorHandle) {
  return {
    creates: requests(emulator, `POST ${ROUTE}/createOrGet`),
    patches: requests(emulator, `PATCH ${ROUTE}/{meetingId}`),
    deletes: requests(emulator, `DELETE ${ROUTE}/{meetingId}`),
  };
}

/** The lab series (and Bob's lecture, which never changes) with the lab starting at `labStart`. */
function timetable(labStart: string, labRule = 'FREQ=WEEKLY;COUNT=10'): string {
  return calendar(
    vevent({ uid: 'cs101-lab@uni', organizer: ADA, summary: 'CS101 Lab', start: labStart, rrule: labRule }),
    vevent({
      uid: 'cs102@uni',
      organizer: BOB,
      summary: 'CS102 Lecture',
      start: '2027-01-12T14:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=10',
    }),
  );
}

async function firstSync(): Promise<World> {
  const world = await harness.world();
  const users = world.seed([ADA, BOB]);
  await world.grant(users.get(ADA)!);
  await world.grant(users.get(BOB)!);
  await world.upload('cs', timetable('2027-01-11T09:00:00Z'));
  expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 20, failed: 0 });
  return world;
}

/** Live meetings as (id, link, start), sorted by start. */
function live(world: World, organizer?: string) {
  return world.emulator.control
    .meetings()
    .filter((m) => organizer === undefined || m.subject.startsWith(organizer))
    .map((m) => ({ id: m.id, link: m.joinWebUrl, start: new Date(m.startDateTime).toISOString() }))
    .sort((a, b) => a.start.localeCompare(b.start));
}

describe('a series that moves keeps its meetings and join links', () => {
  it.each([
    { what: 'one hour later', start: '2027-01-11T10:00:00Z', moved: 10, shift: '+1 h' },
    { what: 'to Thursday', start: '2027-01-14T09:00:00Z', moved: 10, shift: '+3 d' },
    // The same time a week later: nine sessions keep their RECURRENCE-ID, the first moves to week 11.
    { what: 'a week later', start: '2027-01-18T09:00:00Z', moved: 1, shift: '+70 d' },
  ])('moved $what: PATCH count = moved sessions, no create, no delete', async ({ start, moved, shift }) => {
    const world = await firstSync();
    const before = live(world, 'CS101');
    const untouched = live(world, 'CS102');
    const writesBefore = graphWrites(world.emulator);

    await world.upload('cs', timetable(start));
    // The dry run shows them as moves, with how far they moved.
    const dry = await call(
      createFeedsRoutes({ services: () => Promise.resolve(world.services), requireKey: KEY }),
      'feedsPlan',
      'GET',
      'feeds/cs/plan',
      { params: { id: 'cs' } },
    );
    expect(dry.json()).toMatchObject({
      counts: { move: moved, create: 0, cancel: 0 },
      moves: [{ sessions: moved, text: `${moved} session${moved === 1 ? '' : 's'} moved ${shift}` }],
    });
    const dryOps = dry.json().operations as Array<{ kind: string; was: { start: string } }>;
    expect(dryOps.map((op) => op.kind)).toEqual(Array(moved).fill('move'));
    expect(
      dryOps
        .map((op) => op.was.start)
        .every((was) => before.some((m) => m.start === new Date(was).toISOString())),
    ).toBe(true);
    const run = await world.sync('cs');
    expect(run).toMatchObject({ outcome: 'completed', created: 0, cancelled: 0, failed: 0, updated: moved });
    const writes = graphWrites(world.emulator);
    expect({
      creates: writes.creates - writesBefore.creates,
      patches: writes.patches - writesBefore.patches,
      deletes: writes.deletes - writesBefore.deletes,
    }).toEqual({ creates: 0, patches: moved, deletes: 0 });

    // Every meeting id and join link of the series is still live, at the new times.
    const after = live(world, 'CS101');
    expect(after.map((m) => m.id).sort()).toEqual(before.map((m) => m.id).sort());
    expect(after.map((m) => m.link).sort()).toEqual(before.map((m) => m.link).sort());
    const weekly = Array.from({ length: 10 }, (_, i) =>
      new Date(Date.parse(start) + i * 7 * 86_400_000).toISOString(),
    );
    expect(after.map((m) => m.start)).toEqual(weekly);
    expect(live(world, 'CS102')).toEqual(untouched);

    const planned = eventsNamed(world.events, 'sync.planned').at(-1);
    expect(planned?.properties).toMatchObject({ move: moved, create: 0, cancel: 0 });
    expect(planned?.properties.moves).toEqual([`${moved} session${moved === 1 ? '' : 's'} moved ${shift}`]);
    // The next run plans nothing.
    await world.sync('cs', { force: true });
    expect(eventsNamed(world.events, 'sync.planned').at(-1)?.properties).toMatchObject({
      create: 0,
      update: 0,
      move: 0,
      cancel: 0,
    });
  });

  it('a series shortened by two weeks cancels exactly those two', async () => {
    const world = await firstSync();
    const before = live(world, 'CS101');
    await world.upload('cs', timetable('2027-01-11T09:00:00Z', 'FREQ=WEEKLY;COUNT=8'));
    expect(await world.sync('cs')).toMatchObject({ created: 0, updated: 0, cancelled: 2, failed: 0 });
    expect(live(world, 'CS101')).toEqual(before.slice(0, 8));
  });

  it('moved one hour later and shortened by two weeks: eight moves, the last two cancelled', async () => {
    const world = await firstSync();
    const before = live(world, 'CS101');
    await world.upload('cs', timetable('2027-01-11T10:00:00Z', 'FREQ=WEEKLY;COUNT=8'));
    expect(await world.sync('cs')).toMatchObject({ created: 0, updated: 8, cancelled: 2, failed: 0 });
    expect(live(world, 'CS101').map((m) => m.id)).toEqual(before.slice(0, 8).map((m) => m.id));
  });
});

describe('a worker killed while a series moves', () => {
  const expectConverged = async (world: World, ids: string[], start: string) => {
    expect(await world.sync('cs')).toMatchObject({
      outcome: 'completed',
      created: 0,
      cancelled: 0,
      failed: 0,
    });
    const after = live(world, 'CS101');
    expect(after.map((m) => m.id).sort()).toEqual([...ids].sort());
    expect(after[0]?.start).toBe(new Date(start).toISOString());
    expect(world.emulator.control.duplicates()).toBe(0);
    const rows = (await world.services.store.meetings.listByFeed('cs')).filter((r) => r.meetingId !== null);
    expect(new Set(rows.map((r) => r.meetingId))).toEqual(
      new Set(world.emulator.control.meetings().map((m) => m.id)),
    );
  };

  it('after some re-keys, before any PATCH: the rerun PATCHes every session, nothing orphaned or made twice', async () => {
    const world = await firstSync();
    const ids = live(world, 'CS101').map((m) => m.id);
    await world.upload('cs', timetable('2027-01-11T10:00:00Z'));
    let moves = 0;
    // Both rows of a move are seen together: the third move is stored, then the process dies.
    const kill = killableStore(world.services.store, (row) => row.state === 'cancelled' && ++moves === 3, {
      when: 'after',
    });
    await expect(world.sync('cs', { deps: { store: kill.store } })).rejects.toBeInstanceOf(SimulatedKill);
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(rows.filter((r) => r.state === 'cancelled')).toHaveLength(3);
    expect(live(world, 'CS101').map((m) => m.start)[0]).toBe('2027-01-11T09:00:00.000Z'); // not PATCHed yet
    await expectConverged(world, ids, '2027-01-11T10:00:00Z');
  });

  it('after a PATCH, before its row is written: the rerun PATCHes again, nothing orphaned or made twice', async () => {
    const world = await firstSync();
    const ids = live(world, 'CS101').map((m) => m.id);
    await world.upload('cs', timetable('2027-01-14T09:00:00Z'));
    // The first write of a PATCHed row (a re-key inserts the moved row without an etag; its update has one).
    const kill = killableStore(
      world.services.store,
      (row) => row.state === 'active' && row.uid === 'cs101-lab@uni' && row.etag !== undefined,
    );
    await expect(world.sync('cs', { deps: { store: kill.store } })).rejects.toBeInstanceOf(SimulatedKill);
    expect(world.emulator.control.meetings().some((m) => m.startDateTime.startsWith('2027-01-14'))).toBe(
      true,
    );
    await expectConverged(world, ids, '2027-01-14T09:00:00Z');
  });
});
