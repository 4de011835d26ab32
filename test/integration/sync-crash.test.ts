// Idempotence under failure: a create whose response is lost, and a worker killed between createOrGet
// and the state write, both end with exactly one meeting per session after the rerun.
import { describe, expect, it } from 'vitest';

import { SimulatedKill, killableStore } from '../support/sync-crash.js';
import { countStatus, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';

async function adaWorld(): Promise<World> {
  const world = await harness.world();
  await world.grant(world.seed([ADA]).get(ADA)!);
  return world;
}

const lectures = (count: number) =>
  calendar(
    vevent({
      uid: 'cs101@uni',
      organizer: ADA,
      summary: 'CS101',
      start: '2027-01-11T09:00:00Z',
      rrule: `FREQ=WEEKLY;COUNT=${count}`,
    }),
  );

/** Every live meeting matches a stored active row and vice versa. */
async function expectRowsMatchMeetings(world: World, feedId: string): Promise<void> {
  const rows = await world.services.store.meetings.listByFeed(feedId);
  const live = world.emulator.control.meetings();
  expect(rows.every((r) => r.state === 'active')).toBe(true);
  expect(new Set(rows.map((r) => r.meetingId))).toEqual(new Set(live.map((m) => m.id)));
}

describe('lost responses', () => {
  it('a create that commits but loses its response is recorded as a failure; the rerun after nextAttemptAt leaves exactly one meeting', async () => {
    const world = await adaWorld();
    await world.upload('cs', lectures(1));
    world.emulator.control.setFaults({ failAfterCommitNext: 1, failAfterCommitMode: 'reset' });

    const first = await world.sync('cs');
    expect(first).toMatchObject({ created: 0, failed: 1 });
    expect(world.emulator.control.meetings()).toHaveLength(1); // committed in Teams, unknown to us
    const [row] = await world.services.store.meetings.listByFeed('cs');
    expect(row).toMatchObject({ state: 'failed', meetingId: null });
    expect(row?.lastError?.code).toBe('transient');
    expect(row!.nextAttemptAt).not.toBeNull();
    expect((await world.services.store.feeds.get('cs'))?.nextDueRetryAt).toBe(row!.nextAttemptAt);

    // Before nextAttemptAt: nothing happens.
    expect(await world.sync('cs')).toMatchObject({ created: 0, graphCalls: 0 });

    world.advance(Date.parse(row!.nextAttemptAt!) - world.now().getTime() + 1_000);
    const rerun = await world.sync('cs');
    expect(rerun).toMatchObject({ outcome: 'completed', created: 1, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(1);
    expect(world.emulator.control.duplicates()).toBe(0);
    // The committed create lost its response; the rerun found that meeting (200) and made none (201).
    expect(countStatus(world.emulator, 'reset', 'createOrGet')).toBe(1);
    expect(countStatus(world.emulator, 200, 'createOrGet')).toBe(1);
    expect(countStatus(world.emulator, 201, 'createOrGet')).toBe(0);
    await expectRowsMatchMeetings(world, 'cs');
  });

  it('a third of all writes losing their response: reruns converge to exactly one meeting per session', async () => {
    const world = await adaWorld();
    await world.upload('cs', lectures(12));
    world.emulator.control.setFaults({ failAfterCommitRate: 0.34, seed: 7 });
    const first = await world.sync('cs');
    expect(first.failed).toBeGreaterThan(0);
    world.emulator.control.setFaults(null);

    for (let run = 0; run < 4; run++) {
      world.advance(7 * 3_600_000);
      const summary = await world.sync('cs');
      if (summary.outcome === 'completed' && summary.failed === 0) break;
    }
    expect(world.emulator.control.meetings()).toHaveLength(12);
    expect(world.emulator.control.duplicates()).toBe(0);
    await expectRowsMatchMeetings(world, 'cs');
  });
});

describe('a worker killed mid-create', () => {
  it('between createOrGet and the state write: the rerun leaves exactly one meeting per session', async () => {
    const world = await adaWorld();
    await world.upload('cs', lectures(3));
    // Dies when the first create tries to store its meeting id (Teams already has the meeting).
    const kill = killableStore(
      world.services.store,
      (row) => row.state === 'active' && row.meetingId !== null,
    );

    await expect(world.sync('cs', { deps: { store: kill.store } })).rejects.toBeInstanceOf(SimulatedKill);
    expect(kill.killed()).toBe(true);
    const live = world.emulator.control.meetings();
    expect(live.length).toBeGreaterThanOrEqual(1);
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(rows.some((r) => r.state === 'creating' && r.meetingId === null)).toBe(true);
    expect(rows.every((r) => r.state !== 'active')).toBe(true);

    const rerun = await world.sync('cs');
    expect(rerun).toMatchObject({ outcome: 'completed', created: 3, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(3);
    expect(world.emulator.control.duplicates()).toBe(0);
    // Meetings made before the kill were found again, not made twice.
    for (const m of live) expect(world.emulator.control.meetings().map((x) => x.id)).toContain(m.id);
    await expectRowsMatchMeetings(world, 'cs');
  });

  it('between the creating row and createOrGet: the rerun creates the meeting once', async () => {
    const world = await adaWorld();
    await world.upload('cs', lectures(1));
    // Dies right after the `creating` row is stored, before Graph is called.
    const kill = killableStore(world.services.store, (row) => row.state === 'creating', { when: 'after' });
    await expect(world.sync('cs', { deps: { store: kill.store } })).rejects.toBeInstanceOf(SimulatedKill);
    expect(world.emulator.control.meetings()).toHaveLength(0);
    expect(await world.services.store.meetings.listByFeed('cs')).toEqual([
      expect.objectContaining({ state: 'creating', meetingId: null }),
    ]);

    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 1, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(1);
    await expectRowsMatchMeetings(world, 'cs');
  });
});
