// A world for the attendance tests: the sync harness with the emulator's clock running with the sync
// clock, the attendance permission granted, a weekly lecture of four sessions uploaded with attendance
// on and synced, and the collector wired to an in-memory event sink.
import { expect } from 'vitest';
import { collectAttendance } from '../../src/attendance/collect.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import { attendanceDepsFor } from '../../src/handlers/attendance.js';
import { vevent } from './sync-feeds.js';
import { calendar, type Harness } from './sync-harness.js';

const MINUTE = 60_000;
export const ROLES = ['OnlineMeetings.ReadWrite.All', 'User.Read.All', 'OnlineMeetingArtifact.Read.All'];
/** Tokens must outlive the weeks the emulator clock is moved forward (MSAL keeps them by real time). */
export const ATTENDANCE_EMULATOR = { tokenLifetimeSeconds: 120 * 24 * 3600 };

export interface LectureOptions {
  roles?: string[];
  settings?: Record<string, string>;
  /** Feeds to upload (each the same weekly lecture under its own UID); default ['cs101']. */
  feeds?: string[];
}

/** A world whose emulator clock runs with the sync clock, a weekly lecture of four sessions, synced. */
export async function startLectureWorld(harness: Harness, options: LectureOptions = {}) {
  const start = '2027-01-04T08:00:00Z';
  // The emulator's clock first (the world's policy is made at its time), then the world's.
  const control = harness.emulator().control;
  control.advanceTime(Date.parse(start) - control.now());
  const world = await harness.world({
    start,
    settings: { ATTENDANCE_DELAY_MINUTES: '15', ATTENDANCE_WINDOW_HOURS: '48', ...options.settings },
  });
  control.setAppRoles(world.emulator.clientId, options.roles ?? ROLES);
  control.setAttendance({ reportDelayMs: 10 * MINUTE, pageSize: 7 });
  const ada = world.seed(['ada@uni.example']).get('ada@uni.example')!;
  await world.grant(ada);
  const feeds = options.feeds ?? ['cs101'];
  for (const feed of feeds) {
    await world.upload(
      feed,
      calendar(
        vevent({
          uid: `${feed}@uni.example`,
          organizer: 'ada@uni.example',
          summary: `${feed.toUpperCase()} Lecture`,
          start: '2027-01-11T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=4',
        }),
      ),
      { attendance: true },
    );
    expect(await world.sync(feed)).toMatchObject({ created: 4, failed: 0 });
  }
  const { sink, events } = memorySink();
  const deps = attendanceDepsFor(world.services, createEventLogger(sink));
  const meetings = control.meetings().sort((a, b) => a.startDateTime.localeCompare(b.startDateTime));
  return {
    world,
    control,
    ada,
    events,
    meetings,
    /** Moves both clocks to `iso`. */
    at(iso: string) {
      const ms = Date.parse(iso) - world.now().getTime();
      world.advance(ms);
      control.advanceTime(ms);
    },
    collect: (feed = 'cs101') => collectAttendance(deps, feed),
    collectWith: (overrides: Partial<typeof deps>, feed = 'cs101') =>
      collectAttendance({ ...deps, ...overrides }, feed),
    sessions: () => world.services.store.attendance.listSessions('cs101'),
    records: () => world.services.store.attendance.listRecords('cs101'),
  };
}
