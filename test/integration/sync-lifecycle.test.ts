// The sync engine's steady state against Azurite + the Graph emulator: what a first run creates and
// skips, and how moved, renamed, cancelled and removed sessions reach Teams on later runs.
import { describe, expect, it } from 'vitest';

import {
  allDayEvent,
  countStatus,
  eventsNamed,
  meetingsByStart,
  utc,
  vevent,
} from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('first sync', () => {
  it('creates one meeting per future timed session, skips all-day, organizer-less and past ones with reasons, and costs no Graph call when unchanged', async () => {
    // The clock: Monday 2027-01-04 08:00Z.
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload(
      'cs',
      calendar(
        vevent({
          uid: 'cs101@uni',
          organizer: ADA,
          summary: 'CS101 Lecture',
          start: '2027-01-11T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=3',
        }),
        // Yesterday, inside the expansion window (now - 24 h) but over: never created.
        vevent({ uid: 'past@uni', organizer: ADA, summary: 'Yesterday', start: '2027-01-03T10:00:00Z' }),
        // Earlier this morning and already over.
        vevent({ uid: 'early@uni', organizer: ADA, summary: 'Early', start: '2027-01-04T06:00:00Z' }),
        allDayEvent('open-day@uni', ADA, 'Open day', '2027-01-15'),
        vevent({
          uid: 'noorg@uni',
          organizer: null,
          summary: 'Orphan tutorial',
          start: '2027-01-12T10:00:00Z',
        }),
        vevent({
          uid: 'off@uni',
          organizer: ADA,
          summary: 'Cancelled talk',
          start: '2027-01-13T10:00:00Z',
          status: 'CANCELLED',
        }),
      ),
    );

    const first = await world.sync('cs');
    expect(first).toMatchObject({ outcome: 'completed', created: 3, failed: 0, blocked: 0, skipped: 2 });
    expect([...meetingsByStart(world.emulator).keys()].sort()).toEqual([
      '2027-01-11T09:00:00Z',
      '2027-01-18T09:00:00Z',
      '2027-01-25T09:00:00Z',
    ]);
    expect(
      world.emulator.control
        .meetings()
        .every((m) => m.subject === 'CS101 Lecture' && m.organizerId === ada.id),
    ).toBe(true);

    const skipped = eventsNamed(world.events, 'session.skipped');
    const byReason = new Map(skipped.map((e) => [e.properties.reason, e]));
    expect([...byReason.keys()].sort()).toEqual(['allDay', 'noOrganizer']);
    expect(byReason.get('allDay')).toMatchObject({
      level: 'info',
      properties: { count: 1, examples: [expect.objectContaining({ uid: 'open-day@uni' })] },
    });
    expect(byReason.get('noOrganizer')).toMatchObject({
      level: 'error',
      properties: { count: 1, examples: [expect.objectContaining({ uid: 'noorg@uni' })] },
    });
    expect(
      String((byReason.get('noOrganizer')!.properties.examples as Array<{ detail: string }>)[0]!.detail),
    ).toMatch(/no ORGANIZER/);

    const graphBefore = world.emulator.control.requestCounts().graph;
    const second = await world.sync('cs');
    expect(second).toMatchObject({ created: 0, updated: 0, cancelled: 0, graphCalls: 0 });
    expect(world.emulator.control.requestCounts().graph).toBe(graphBefore);
    expect(world.emulator.control.meetings()).toHaveLength(3);
  });
});

describe('later syncs', () => {
  it('PATCHes moved and renamed sessions in place and cancels EXDATEd, STATUS:CANCELLED and removed ones', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    // 15 weekly lectures + 3 seminars: 3 cancels stay under the deletion guard's 20 %.
    const lecture = {
      uid: 'cs101@uni',
      organizer: ADA,
      summary: 'CS101 Lecture',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=15',
    };
    const seminarA = {
      uid: 'sem-a@uni',
      organizer: ADA,
      summary: 'Seminar A',
      start: '2027-01-12T14:00:00Z',
    };
    const seminarB = {
      uid: 'sem-b@uni',
      organizer: ADA,
      summary: 'Seminar B',
      start: '2027-01-13T14:00:00Z',
    };
    const seminarC = {
      uid: 'sem-c@uni',
      organizer: ADA,
      summary: 'Seminar C',
      start: '2027-01-14T14:00:00Z',
    };
    await world.upload('cs', calendar(vevent(lecture), vevent(seminarA), vevent(seminarB), vevent(seminarC)));
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 18 });
    const before = meetingsByStart(world.emulator);
    expect(before.size).toBe(18);

    await world.upload(
      'cs',
      calendar(
        vevent({ ...lecture, exdates: ['2027-01-25T09:00:00Z'] }),
        // The 18 January lecture moves to 11:00–12:30 (RECURRENCE-ID keeps its identity).
        vevent({
          ...lecture,
          rrule: undefined,
          recurrenceId: '2027-01-18T09:00:00Z',
          start: '2027-01-18T11:00:00Z',
          end: '2027-01-18T12:30:00Z',
          sequence: 1,
        }),
        vevent({ ...seminarA, summary: 'Seminar A: Graphs' }),
        vevent({ ...seminarB, status: 'CANCELLED' }),
        // Seminar C is gone from the feed.
      ),
    );
    const second = await world.sync('cs');
    expect(second).toMatchObject({
      outcome: 'completed',
      created: 0,
      updated: 2,
      cancelled: 3,
      failed: 0,
      held: 0,
    });

    const after = meetingsByStart(world.emulator);
    expect(after.size).toBe(15);
    // Moved: the same meeting, new times.
    const moved = after.get('2027-01-18T11:00:00Z');
    expect(moved?.id).toBe(before.get('2027-01-18T09:00:00Z')!.id);
    expect(utc(moved!.endDateTime)).toBe('2027-01-18T12:30:00Z');
    expect(after.has('2027-01-18T09:00:00Z')).toBe(false);
    // Renamed: the same meeting, new subject.
    const renamed = after.get('2027-01-12T14:00:00Z');
    expect(renamed).toMatchObject({
      id: before.get('2027-01-12T14:00:00Z')!.id,
      subject: 'Seminar A: Graphs',
    });
    // EXDATE, STATUS:CANCELLED and removed: gone from Teams.
    for (const gone of ['2027-01-25T09:00:00Z', '2027-01-13T14:00:00Z', '2027-01-14T14:00:00Z'])
      expect(after.has(gone)).toBe(false);
    // Everything else untouched (its one PATCH is the options' at creation: createOrGet ignores them).
    const untouched = [...after.values()].filter((m) => m.id !== moved!.id && m.id !== renamed!.id);
    expect(untouched.every((m) => m.patchCount === 1)).toBe(true);
    expect(countStatus(world.emulator, 204, 'DELETE')).toBe(3);
    expect(world.emulator.control.duplicates()).toBe(0);

    // A third run of the same feed changes nothing.
    const third = await world.sync('cs');
    expect(third).toMatchObject({ created: 0, updated: 0, cancelled: 0, graphCalls: 0 });
  });

  it('leaves past sessions alone when their event changes or disappears', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    const lecture = {
      uid: 'cs101@uni',
      organizer: ADA,
      summary: 'CS101 Lecture',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=12',
    };
    const lab = {
      uid: 'lab@uni',
      organizer: ADA,
      summary: 'CS101 Lab',
      start: '2027-01-11T13:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=3',
    };
    await world.upload('cs', calendar(vevent(lecture), vevent(lab)));
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 15 });
    const before = meetingsByStart(world.emulator);

    // Wednesday 20 January: the lectures and labs of 11 and 18 January are past.
    world.advance(16 * DAY);
    expect(world.now().toISOString()).toBe('2027-01-20T08:00:00.000Z');
    await world.upload('cs', calendar(vevent({ ...lecture, summary: 'CS101 Lecture (room change)' })));
    const run = await world.sync('cs');
    expect(run).toMatchObject({
      outcome: 'completed',
      created: 0,
      updated: 10,
      cancelled: 1,
      failed: 0,
      held: 0,
    });

    const after = meetingsByStart(world.emulator);
    // Past labs stay; the one future lab is cancelled.
    expect(after.get('2027-01-11T13:00:00Z')?.id).toBe(before.get('2027-01-11T13:00:00Z')!.id);
    expect(after.get('2027-01-18T13:00:00Z')?.id).toBe(before.get('2027-01-18T13:00:00Z')!.id);
    expect(after.has('2027-01-25T13:00:00Z')).toBe(false);
    // Past lectures keep their old subject and were never PATCHed again after their creation (whose one
    // PATCH set the options); future ones were renamed.
    for (const past of ['2027-01-11T09:00:00Z', '2027-01-18T09:00:00Z']) {
      expect(after.get(past)).toMatchObject({ subject: 'CS101 Lecture', patchCount: 1 });
    }
    const future = [...after.values()].filter(
      (m) => Date.parse(m.startDateTime) > world.now().getTime() && m.subject.startsWith('CS101 Lecture'),
    );
    expect(future).toHaveLength(10);
    expect(future.every((m) => m.subject === 'CS101 Lecture (room change)' && m.patchCount === 2)).toBe(true);
    expect(after.size).toBe(14);
  });
});
