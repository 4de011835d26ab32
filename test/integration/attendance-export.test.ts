// What admins get out of the collected attendance, over the admin API: per session and per student, as
// JSON and CSV (formula-looking cells neutralised), admin-only; and the right to erasure removing one
// person from every feed.
import { describe, expect, it } from 'vitest';
import { createAttendanceRoutes } from '../../src/http/attendance.js';
import { createFeedsRoutes } from '../../src/http/feeds.js';
import { ATTENDANCE_EMULATOR, startLectureWorld } from '../support/attendance.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';
import { vevent } from '../support/sync-feeds.js';
import { call, KEY } from './http-support.js';

const harness = useSyncHarness(ATTENDANCE_EMULATOR);

/** Two courses taught by Ada, their first week held with the same roster (plus a hostile display name). */
async function heldWorld() {
  const t = await startLectureWorld(harness, { feeds: ['cs101', 'ma201'] });
  t.at('2027-01-11T10:20:00Z');
  const first = t.meetings.filter((m) => m.startDateTime.startsWith('2027-01-11'));
  expect(first).toHaveLength(2);
  const start = Date.parse('2027-01-11T09:00:00Z');
  for (const m of first) {
    const report = t.control.holdMeeting(m.id, { attendees: 6, seed: 3 })!;
    // One more participant whose name a spreadsheet would run as a formula.
    t.control.holdMeeting(m.id, {
      start: start + 30 * 60_000,
      end: start + 60 * 60_000,
      attendees: [
        ...report.attendees.slice(0, 1),
        {
          id: 'cccccccc-0000-4000-8000-000000000001',
          displayName: '=HYPERLINK("https://evil.example","x")',
          email: '+evil@partner.example',
          role: 'Attendee',
          intervals: [{ join: start + 40 * 60_000, leave: start + 50 * 60_000 }],
        },
      ],
    });
  }
  t.at('2027-01-11T10:40:00Z');
  expect(await t.collect('cs101')).toMatchObject({ collected: 1 });
  expect(await t.collect('ma201')).toMatchObject({ collected: 1 });
  const routes = createAttendanceRoutes({
    services: () => Promise.resolve(t.world.services),
    requireKey: KEY,
  });
  return { t, routes };
}

describe('attendance export and erasure', () => {
  it('per session and per student, JSON and CSV, admin only; CSV cells that look like formulas stay text', async () => {
    const { t, routes } = await heldWorld();
    const denied = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
      key: false,
    });
    expect(denied.status).toBe(401);

    const bySession = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
    });
    expect(bySession.status).toBe(200);
    const view = bySession.json() as {
      sessionsHeld: number;
      sessions: Array<{ state: string; attendees: Array<{ displayName: string; minutes: number }> }>;
    };
    expect(view.sessionsHeld).toBe(1);
    expect(view.sessions).toHaveLength(1);
    const stored = await t.world.services.store.attendance.listRecords('cs101');
    expect(view.sessions[0]!.attendees).toHaveLength(stored.length);
    // The organizer was in both reports of the session: one attendee, time added up.
    const organizer = stored.find((r) => r.role === 'Organizer')!;
    expect(organizer.intervals).toHaveLength(2);

    const csv = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
      query: { format: 'csv', by: 'student' },
    });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="attendance-cs101-student.csv"');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '"name","email","role","sessions_attended","sessions_held","total_minutes","first_join","last_leave"',
    );
    expect(lines).toHaveLength(stored.length + 1);
    const hostile = lines.find((l) => l.includes('HYPERLINK'))!;
    expect(hostile).toContain(`"'=HYPERLINK(""https://evil.example"",""x"")","'+evil@partner.example"`);
    for (const line of lines.slice(1))
      for (const cell of line.split('","')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t\r]/);

    const period = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
      query: { from: '2027-01-12', to: '2027-02-28' },
    });
    expect(period.json()).toMatchObject({ sessionsHeld: 0, records: 0, sessions: [] });
    const bad = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
      query: { from: 'last week' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json().detail).toMatch(/^from 'last week' is not a date/);
  });

  it('erasing one student removes them from every feed and leaves everyone else', async () => {
    const { t, routes } = await heldWorld();
    const before = await t.world.services.store.attendance.listRecords('ma201');
    const student = before.find((r) => r.role === 'Attendee' && r.email?.startsWith('student'))!;
    expect((await t.world.services.store.attendance.listRecords('cs101')).map((r) => r.email)).toContain(
      student.email,
    );
    const erased = await call(routes, 'attendanceErase', 'DELETE', 'attendance/participants', {
      query: { email: student.email!.toUpperCase() },
    });
    expect(erased.json()).toEqual({ records: 2, feeds: 2 });
    for (const feed of ['cs101', 'ma201']) {
      const left = await t.world.services.store.attendance.listRecords(feed);
      expect(left.map((r) => r.email)).not.toContain(student.email);
      expect(left.length).toBe(before.length - 1);
    }
    const view = await call(routes, 'attendanceFeed', 'GET', 'feeds/cs101/attendance', {
      params: { id: 'cs101' },
      query: { by: 'student' },
    });
    expect(JSON.stringify(view.json())).not.toContain(student.email!);
    const neither = await call(routes, 'attendanceErase', 'DELETE', 'attendance/participants', {});
    expect(neither.status).toBe(400);
  });

  it('attendance is off for a new feed and is set per feed on the upload (?attendance=) or in the JSON settings', async () => {
    const world = await harness.world();
    const routes = createFeedsRoutes({ services: () => Promise.resolve(world.services), requireKey: KEY });
    const ics = calendar(
      vevent({
        uid: 'x@uni.example',
        organizer: 'ada@uni.example',
        summary: 'X',
        start: '2027-02-01T09:00:00Z',
      }),
    );
    const upload = (id: string, query: Record<string, string>) =>
      call(routes, 'feedsPut', 'PUT', `feeds/${id}`, {
        params: { id },
        query,
        body: ics,
        headers: { 'content-type': 'text/calendar' },
      });
    expect((await upload('plain', {})).status).toBe(201);
    expect((await world.services.store.feeds.get('plain'))?.attendance).toBeUndefined();
    expect((await upload('tracked', { attendance: 'true' })).status).toBe(201);
    expect((await world.services.store.feeds.get('tracked'))?.attendance).toBe(true);
    const settings = (body: unknown) =>
      call(routes, 'feedsPut', 'PUT', 'feeds/tracked', {
        params: { id: 'tracked' },
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await settings({ attendance: false })).status).toBe(200);
    expect((await world.services.store.feeds.get('tracked'))?.attendance).toBeUndefined();
    const bad = await settings({ attendance: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('attendance');
    expect((await upload('odd', { attendance: 'maybe' })).status).toBe(400);
  });
});
