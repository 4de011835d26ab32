import { describe, expect, it } from 'vitest';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();

const weekly = (uid: string, organizer: string, summary: string) => [
  `UID:${uid}`,
  `ORGANIZER;CN=Lecturer:mailto:${organizer}`,
  `SUMMARY:${summary}`,
  'DTSTART:20270111T090000Z',
  'DTEND:20270111T100000Z',
  'RRULE:FREQ=WEEKLY;COUNT=4',
];

describe('first sync of a feed', () => {
  it('creates one meeting per future session and nothing on an unchanged second run', async () => {
    const world = await harness.world();
    const users = world.seed(['ada@uni.example']);
    await world.grant(users.get('ada@uni.example')!);
    await world.upload('cs', calendar(weekly('cs101@uni.example', 'ada@uni.example', 'CS101 Lecture')));

    const first = await world.sync('cs');
    expect(first).toMatchObject({ outcome: 'completed', created: 4, failed: 0, blocked: 0 });
    const meetings = world.emulator.control.meetings();
    expect(meetings.map((m) => new Date(m.startDateTime).toISOString().replace('.000', '')).sort()).toEqual([
      '2027-01-11T09:00:00Z',
      '2027-01-18T09:00:00Z',
      '2027-01-25T09:00:00Z',
      '2027-02-01T09:00:00Z',
    ]);
    expect(new Set(meetings.map((m) => m.organizerId))).toEqual(new Set([users.get('ada@uni.example')!.id]));

    const graphBefore = world.emulator.control.requestCounts().graph;
    const second = await world.sync('cs');
    expect(second).toMatchObject({ created: 0, graphCalls: 0 });
    expect(world.emulator.control.requestCounts().graph).toBe(graphBefore);
  });
});
