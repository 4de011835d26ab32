// Removing a feed with its meetings goes through the sync's one cancel path: a meeting whose create
// answer was lost is found and removed too, CANCEL_MODE is honoured, and a feed whose meetings could not
// all be cancelled is kept (with them) instead of leaving meetings nobody knows about.
import { describe, expect, it } from 'vitest';

import { removeFeed } from '../../src/admin/feedRemoval.js';
import type { EmulatorUser } from '../../src/emulator/index.js';
import { vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BEA = 'bea@uni.example';

const lectures = (organizer: string, uid: string, count: number) =>
  vevent({
    uid,
    organizer,
    summary: uid,
    start: '2027-01-11T09:00:00Z',
    rrule: `FREQ=WEEKLY;COUNT=${count}`,
  });

async function worldWith(
  settings: Record<string, string> = {},
): Promise<{ world: World; bea: EmulatorUser }> {
  const world = await harness.world({ settings });
  const users = world.seed([ADA, BEA]);
  await world.grant(users.get(ADA)!);
  return { world, bea: users.get(BEA)! };
}

describe('removing a feed with cancelMeetings', () => {
  it('cancels every future meeting, including one whose create answer was lost, and leaves no orphan', async () => {
    const { world } = await worldWith();
    await world.upload('cs', calendar(lectures(ADA, 'cs101@uni', 3)));
    world.emulator.control.setFaults({ failAfterCommitNext: 1, failAfterCommitMode: 'reset' });
    expect(await world.sync('cs')).toMatchObject({ created: 2, failed: 1 });
    expect(world.emulator.control.meetings()).toHaveLength(3); // one of them unknown to our rows

    const result = await removeFeed(world.services, 'cs', { cancelFutureMeetings: true });
    expect(result).toEqual({ status: 'removed', cancelled: 3, kept: 0 });
    expect(world.emulator.control.meetings()).toEqual([]);
    expect(await world.services.store.feeds.get('cs')).toBeNull();
    expect(await world.services.store.meetings.listByFeed('cs')).toEqual([]);
  });

  it('locks instead of deleting with CANCEL_MODE=lock', async () => {
    const { world } = await worldWith({ CANCEL_MODE: 'lock' });
    await world.upload('cs', calendar(lectures(ADA, 'cs101@uni', 2)));
    await world.sync('cs');
    await removeFeed(world.services, 'cs', { cancelFutureMeetings: true });
    const meetings = world.emulator.control.meetings();
    expect(meetings.map((m) => [m.subject, m.lobbyLocked])).toEqual([
      ['Cancelled: cs101@uni', true],
      ['Cancelled: cs101@uni', true],
    ]);
  });

  it('keeps the feed and the meetings it could not cancel, and says why', async () => {
    const { world, bea } = await worldWith();
    await world.grant(bea);
    await world.upload('cs', calendar(lectures(ADA, 'cs101@uni', 2), lectures(BEA, 'ma201@uni', 2)));
    expect(await world.sync('cs')).toMatchObject({ created: 4 });
    // Bea's policy is revoked in Teams: her meetings cannot be deleted by the app any more.
    world.emulator.control.grantPolicy(null, { userId: bea.id }, { delayMs: 0 });

    const failure = await removeFeed(world.services, 'cs', { cancelFutureMeetings: true }).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ status: 409 });
    expect((failure as Error).message).toMatch(
      /feed 'cs' was not removed: 2 of 4 future meetings could not be cancelled/,
    );
    expect(await world.services.store.feeds.get('cs')).not.toBeNull();
    const live = world.emulator.control.meetings();
    expect(live.map((m) => m.organizerId)).toEqual([bea.id, bea.id]);
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(
      rows
        .filter((r) => r.state !== 'cancelled')
        .map((r) => r.meetingId)
        .sort(),
    ).toEqual(live.map((m) => m.id).sort());
  });
});
