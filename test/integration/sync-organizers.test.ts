// Organizers through a real sync: an e-mail the directory does not know blocks only its sessions (with
// a reason), and a session whose ORGANIZER changes moves to the new lecturer (old meeting gone).
import { describe, expect, it } from 'vitest';

import { countStatus, eventsNamed, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BOB = 'bob@uni.example';
const NOBODY = 'nobody@uni.example';

describe('organizers', () => {
  it('blocks the sessions of an unknown organizer e-mail with organizer.unresolved and creates the others', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload(
      'cs',
      calendar(
        vevent({
          uid: 'cs101@uni',
          organizer: ADA,
          summary: 'CS101',
          start: '2027-01-11T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=3',
        }),
        vevent({
          uid: 'ghost@uni',
          organizer: 'Nobody@Uni.Example',
          summary: 'Ghost lecture',
          start: '2027-01-12T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=2',
        }),
      ),
    );

    const run = await world.sync('cs');
    expect(run).toMatchObject({ outcome: 'completed', created: 3, blocked: 2, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(3);
    const unresolved = eventsNamed(world.events, 'organizer.unresolved');
    expect(unresolved).toHaveLength(1);
    expect(unresolved[0]).toMatchObject({ level: 'error', properties: { email: NOBODY, sessions: 2 } });
    expect(String(unresolved[0]!.properties.reason)).toContain(`no user with e-mail or UPN ${NOBODY}`);
    const rows = (await world.services.store.meetings.listByFeed('cs')).filter(
      (r) => r.organizerEmail === NOBODY,
    );
    expect(rows).toHaveLength(2);
    expect(
      rows.every(
        (r) =>
          r.state === 'blocked' && r.lastError?.code === 'organizerUnresolved' && r.nextAttemptAt !== null,
      ),
    ).toBe(true);
    // Nothing was sent to onlineMeetings for the unknown user.
    expect(countStatus(world.emulator, 404, 'onlineMeetings')).toBe(0);

    // Once the account exists (and is granted), the rows are retried after their back-off.
    const nobody = world.seed([NOBODY]).get(NOBODY)!;
    await world.grant(nobody);
    world.advance(2 * 3_600_000);
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 2, blocked: 0 });
    expect(world.emulator.control.meetings().filter((m) => m.organizerId === nobody.id)).toHaveLength(2);
  });

  it('moves a session to its new ORGANIZER: the old meeting is deleted, a new one is created under the new lecturer', async () => {
    const world = await harness.world();
    const users = world.seed([ADA, BOB]);
    const ada = users.get(ADA)!;
    const bob = users.get(BOB)!;
    await world.grant(ada);
    await world.grant(bob);
    const lecture = {
      uid: 'cs101@uni',
      summary: 'CS101',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=5',
    };
    const lab = { uid: 'lab@uni', summary: 'CS101 Lab', start: '2027-01-12T13:00:00Z', organizer: ADA };
    await world.upload('cs', calendar(vevent({ ...lecture, organizer: ADA }), vevent(lab)));
    expect(await world.sync('cs')).toMatchObject({ created: 6 });
    const adaLab = world.emulator.control.meetings().find((m) => m.subject === 'CS101 Lab');

    // Bob takes over the lab (same UID, new ORGANIZER).
    await world.upload(
      'cs',
      calendar(vevent({ ...lecture, organizer: ADA }), vevent({ ...lab, organizer: BOB })),
    );
    const run = await world.sync('cs');
    expect(run).toMatchObject({ outcome: 'completed', created: 1, cancelled: 1, failed: 0, blocked: 0 });

    const labs = world.emulator.control.meetings().filter((m) => m.subject === 'CS101 Lab');
    expect(labs).toHaveLength(1);
    expect(labs[0]!.organizerId).toBe(bob.id);
    expect(labs[0]!.id).not.toBe(adaLab!.id);
    expect(world.emulator.control.meetings().filter((m) => m.organizerId === ada.id)).toHaveLength(5);
    const row = (await world.services.store.meetings.listByFeed('cs')).find((r) => r.uid === 'lab@uni');
    expect(row).toMatchObject({
      state: 'active',
      organizerId: bob.id,
      organizerEmail: BOB,
      meetingId: labs[0]!.id,
      generation: 1,
    });

    // Stable afterwards.
    expect(await world.sync('cs')).toMatchObject({ created: 0, cancelled: 0, graphCalls: 0 });
  });
});
