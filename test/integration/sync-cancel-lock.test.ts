// CANCEL_MODE=lock: a cancelled session's meeting is kept (a deleted meeting does not stop people who
// already have the link from joining, a locked lobby does), renamed "Cancelled: …" and locked.
import { describe, expect, it } from 'vitest';

import { vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';

describe('cancel mode lock', () => {
  it('locks the lobby and prefixes the subject instead of deleting, and a revived session gets a fresh meeting', async () => {
    const world = await harness.world({ settings: { CANCEL_MODE: 'lock' } });
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    const talk = vevent({
      uid: 'talk@uni',
      organizer: ADA,
      summary: 'Guest talk',
      start: '2027-01-12T10:00:00Z',
    });
    const lecture = vevent({
      uid: 'lec@uni',
      organizer: ADA,
      summary: 'Lecture',
      start: '2027-01-13T10:00:00Z',
    });
    await world.upload('cs', calendar(talk, lecture));
    expect(await world.sync('cs')).toMatchObject({ created: 2 });

    await world.upload('cs', calendar(lecture));
    expect(await world.sync('cs')).toMatchObject({ cancelled: 1, failed: 0 });
    const meetings = world.emulator.control.meetings();
    expect(meetings).toHaveLength(2);
    const locked = meetings.find((m) => m.subject.includes('Guest talk'));
    expect(locked).toMatchObject({ subject: 'Cancelled: Guest talk', lobbyLocked: true });
    expect(meetings.find((m) => m.subject === 'Lecture')?.lobbyLocked).toBe(false);

    // The talk is back on: it gets a new, open meeting; the locked one stays as it was.
    await world.upload('cs', calendar(talk, lecture));
    expect(await world.sync('cs')).toMatchObject({ created: 1 });
    const after = world.emulator.control.meetings().filter((m) => m.subject.includes('Guest talk'));
    expect(after.map((m) => [m.subject, m.lobbyLocked]).sort()).toEqual([
      ['Cancelled: Guest talk', true],
      ['Guest talk', false],
    ]);
  });
});

describe('room (LOCATION) of a session', () => {
  it('is kept for the published calendar, and a room change is saved without a Graph call', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    const lecture = (room: string) => [
      ...vevent({ uid: 'lec@uni', organizer: ADA, summary: 'Lecture', start: '2027-01-13T10:00:00Z' }),
      `LOCATION:${room}`,
    ];
    await world.upload('cs', calendar(lecture('Room 101')));
    expect(await world.sync('cs')).toMatchObject({ created: 1 });
    expect((await world.services.store.meetings.listByFeed('cs'))[0]?.location).toBe('Room 101');

    await world.upload('cs', calendar(lecture('Hall B')));
    const graphBefore = world.emulator.control.requestCounts().graph;
    expect(await world.sync('cs')).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect(world.emulator.control.requestCounts().graph).toBe(graphBefore);
    expect((await world.services.store.meetings.listByFeed('cs'))[0]?.location).toBe('Hall B');
  });
});
