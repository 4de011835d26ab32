// The attendance collector end to end: real Azurite, the https Graph emulator holding the meetings the
// sync created, the collector's own clock moved past the sessions. Records are collected once per ended
// session and never for future ones; a late report is picked up by a later run; records span several
// pages; one link used twice feeds the right two sessions; a missing permission is reported once with
// its fix; retention deletes old records.
import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { buildStatus } from '../../src/admin/status.js';
import { collectAttendanceFromMessage, fanOutAttendance } from '../../src/handlers/attendance.js';
import { createGraphAccess } from '../../src/graph/client.js';
import { StorageError } from '../../src/storage/index.js';
import { toGraphSettings } from '../../src/compose.js';
import { ATTENDANCE_EMULATOR, ROLES, startLectureWorld, type LectureOptions } from '../support/attendance.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';
import { eventsNamed, vevent } from '../support/sync-feeds.js';

const MINUTE = 60_000;
const RECORDS_ROUTE =
  'GET /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports/{reportId}/attendanceRecords';
const harness = useSyncHarness(ATTENDANCE_EMULATOR);
const lectureWorld = (options?: LectureOptions) => startLectureWorld(harness, options);

describe('attendance collector', () => {
  it('collects each ended session once, none for future ones, and picks up a late report on a later run', async () => {
    const t = await lectureWorld();
    const [first, second] = t.meetings;
    t.at('2027-01-11T10:05:00Z');
    expect(t.control.holdEndedMeetings({ attendees: 20 })).toBe(1);
    // Not yet: the session ended 5 minutes ago (ATTENDANCE_DELAY_MINUTES is 15).
    expect(await t.collect()).toMatchObject({ checked: 0, collected: 0 });

    t.at('2027-01-11T10:20:00Z');
    const pagesBefore = t.control.requestCounts().byRoute[RECORDS_ROUTE]?.['200'] ?? 0;
    const run = await t.collect();
    const report = t.control.attendanceReports(first!.id)[0]!;
    expect(run).toMatchObject({ checked: 1, collected: 1, records: report.attendees.length });
    // Every record, across several pages of 7.
    const pages = (t.control.requestCounts().byRoute[RECORDS_ROUTE]?.['200'] ?? 0) - pagesBefore;
    expect(pages).toBe(Math.ceil(report.attendees.length / 7));
    expect(pages).toBeGreaterThanOrEqual(3);
    const stored = await t.records();
    expect(stored).toHaveLength(report.attendees.length);
    expect(new Set(stored.map((r) => r.email))).toEqual(new Set(report.attendees.map((a) => a.email)));
    const rejoined = report.attendees.find((a) => a.intervals.length === 2)!;
    const row = stored.find((r) => r.email === rejoined.email)!;
    expect(row.intervals).toHaveLength(2);
    expect(row.firstJoin).toBe(new Date(rejoined.intervals[0]!.join).toISOString());
    // The three future sessions: nothing asked, nothing stored.
    expect((await t.sessions()).map((s) => s.state)).toEqual(['collected']);

    // A second run: nothing more for the collected session, no Graph call.
    const graphBefore = t.control.requestCounts().graph;
    expect(await t.collect()).toMatchObject({ checked: 0, records: 0 });
    expect(t.control.requestCounts().graph).toBe(graphBefore);

    // Week 2: the report takes two hours to appear.
    t.control.setAttendance({ reportDelayMs: 120 * MINUTE });
    t.at('2027-01-18T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 5 });
    expect(await t.collect()).toMatchObject({ checked: 1, waiting: 1, collected: 0 });
    const waiting = (await t.sessions()).find((s) => s.meetingId === second!.id)!;
    expect(waiting).toMatchObject({ state: 'waiting', checks: 1 });
    expect(waiting.reason).toMatch(/no attendance report yet/);
    t.at('2027-01-18T10:40:00Z');
    expect(await t.collect()).toMatchObject({ checked: 1, waiting: 1 });
    t.at('2027-01-18T13:00:00Z');
    expect(await t.collect()).toMatchObject({ checked: 1, collected: 1 });
    expect((await t.sessions()).map((s) => s.state)).toEqual(['collected', 'collected']);
    expect(eventsNamed(t.events, 'attendance.collected')).not.toHaveLength(0);
    // Events carry counts and ids only.
    expect(JSON.stringify(t.events)).not.toMatch(/student|examiner|@/i);
  });

  it('one link used twice: each report goes to the session it was held for; a session never held is settled as such', async () => {
    const t = await lectureWorld();
    const third = t.meetings[2]!;
    t.at('2027-01-25T10:20:00Z');
    t.control.holdMeeting(third.id, { attendees: 4 });
    expect(await t.collect()).toMatchObject({ collected: 1 });
    // Week 4: the lecturer opened last week's link; this week's meeting was never used.
    t.at('2027-02-01T10:20:00Z');
    t.control.holdMeeting(third.id, {
      start: Date.parse('2027-02-01T09:00:00Z'),
      end: Date.parse('2027-02-01T10:00:00Z'),
      attendees: 6,
    });
    expect(await t.collect()).toMatchObject({ collected: 1 });
    const sessions = await t.sessions();
    const [week3Report, week4Report] = t.control.attendanceReports(third.id).reverse();
    expect(sessions.find((s) => s.start.startsWith('2027-01-25'))?.reportIds).toEqual([
      week3Report!.reportId,
    ]);
    expect(sessions.find((s) => s.start.startsWith('2027-02-01'))?.reportIds).toEqual([
      week4Report!.reportId,
    ]);

    // The first two weeks ended before collection could reach them (outside the window): not collected.
    expect(sessions).toHaveLength(2);
  });

  it('a meeting no one joined: re-checked with back-off, then settled as never held after the window', async () => {
    const t = await lectureWorld();
    t.at('2027-01-11T10:20:00Z');
    expect(await t.collect()).toMatchObject({ waiting: 1 });
    const firstCheck = (await t.sessions())[0]!;
    expect(Date.parse(firstCheck.nextCheckAt!) - Date.parse('2027-01-11T10:20:00Z')).toBe(15 * MINUTE);
    t.at(firstCheck.nextCheckAt!);
    await t.collect();
    const secondCheck = (await t.sessions())[0]!;
    expect(Date.parse(secondCheck.nextCheckAt!) - Date.parse(firstCheck.nextCheckAt!)).toBe(30 * MINUTE);
    t.at('2027-01-13T10:00:00Z');
    expect(await t.collect()).toMatchObject({ noReport: 1 });
    const settled = (await t.sessions())[0]!;
    expect(settled).toMatchObject({ state: 'noReport', nextCheckAt: null });
    expect(settled.reason).toMatch(/never held, or no one joined/);
    expect(eventsNamed(t.events, 'attendance.session.noReport')).toHaveLength(1);
    expect(eventsNamed(t.events, 'attendance.session.noReport')[0]!.level).toBe('info');
  });

  it('without OnlineMeetingArtifact.Read.All: one error with the fix, one Graph call, sessions wait', async () => {
    const t = await lectureWorld({
      roles: ['OnlineMeetings.ReadWrite.All', 'User.Read.All'],
      settings: { ATTENDANCE_WINDOW_HOURS: '240' },
    });
    t.at('2027-01-18T10:20:00Z');
    t.control.holdEndedMeetings();
    const graphBefore = t.control.requestCounts().graph;
    const run = await t.collect();
    expect(run).toMatchObject({ checked: 2, permissionMissing: 2, collected: 0 });
    expect(t.control.requestCounts().graph - graphBefore).toBe(1);
    const alerts = eventsNamed(t.events, 'attendance.permission.missing');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.level).toBe('error');
    expect(alerts[0]!.properties.action).toMatch(/OnlineMeetingArtifact\.Read\.All.*Grant admin consent/);
    expect((await t.sessions()).map((s) => s.state)).toEqual(['permissionMissing', 'permissionMissing']);

    // Admin consent granted: a token issued afterwards carries the permission (a new process here).
    t.control.setAppRoles(t.world.emulator.clientId, ROLES);
    const config = t.world.services.config;
    const graph = createGraphAccess(toGraphSettings(config.graph!, config));
    t.at((await t.sessions())[0]!.nextCheckAt!);
    expect(await t.collectWith({ graph })).toMatchObject({ collected: 2, permissionMissing: 0 });
  });

  it('without the access policy for the lecturer: the policy state with the grant line', async () => {
    const t = await lectureWorld();
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings();
    t.control.grantPolicy(null, { userId: t.ada.id }, { delayMs: 0 });
    expect(await t.collect()).toMatchObject({ policyMissing: 1 });
    const alert = eventsNamed(t.events, 'attendance.policy.missing')[0]!;
    expect(alert.properties).toMatchObject({ organizerId: t.ada.id, email: 'ada@uni.example', sessions: 1 });
    expect(alert.properties.grantCommand).toContain(`Grant-CsApplicationAccessPolicy`);
    // The status page counts the feed's sessions by attendance state; a feed without attendance has none.
    await t.world.upload(
      'no-attendance',
      calendar(
        vevent({
          uid: 'n@uni.example',
          organizer: 'ada@uni.example',
          summary: 'Seminar',
          start: '2027-02-01T09:00:00Z',
        }),
      ),
    );
    const status = await buildStatus(t.world.services);
    expect(status.feeds.find((f) => f.id === 'cs101')?.attendance).toEqual({
      waiting: 0,
      collected: 0,
      noReport: 0,
      permissionMissing: 0,
      policyMissing: 1,
      failed: 0,
    });
    expect(status.feeds.find((f) => f.id === 'no-attendance')?.attendance).toBeNull();
  });

  it('a lecturer Graph refuses for another reason (account disabled): one warning naming them, sessions wait', async () => {
    const t = await lectureWorld();
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings();
    t.control.setUser(t.ada.id, { accountEnabled: false });
    await t.collect();
    const alert = eventsNamed(t.events, 'attendance.organizer.refused')[0]!;
    expect(alert.properties).toMatchObject({ organizerId: t.ada.id, email: 'ada@uni.example', sessions: 1 });
    expect(eventsNamed(t.events, 'attendance.policy.missing')).toEqual([]);
  });

  it('retention: records of sessions older than ATTENDANCE_RETENTION_DAYS are deleted and not collected again', async () => {
    const t = await lectureWorld({ settings: { ATTENDANCE_RETENTION_DAYS: '7' } });
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 3 });
    await t.collect();
    expect((await t.records()).length).toBeGreaterThan(0);
    t.at('2027-01-18T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 3 });
    const run = await t.collect();
    expect(run).toMatchObject({ expiredSessions: 1, collected: 1 });
    expect(run.expiredRecords).toBeGreaterThan(0);
    const sessions = await t.sessions();
    expect(sessions.map((s) => s.start)).toEqual(['2027-01-18T09:00:00Z']);
    expect(new Set((await t.records()).map((r) => r.sessionKey))).toEqual(new Set([sessions[0]!.key]));
    expect(eventsNamed(t.events, 'attendance.retention.deleted')[0]!.properties).toMatchObject({
      sessions: 1,
    });
  });

  it('a run out of time leaves the sessions it did not reach for the next run', async () => {
    const t = await lectureWorld({ settings: { ATTENDANCE_WINDOW_HOURS: '240' } });
    t.at('2027-01-18T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 3 });
    expect(await t.collectWith({ budgetMs: 0 })).toMatchObject({ checked: 0, deferred: 2, graphCalls: 0 });
    expect(await t.sessions()).toEqual([]);
    expect(await t.collect()).toMatchObject({ collected: 2, deferred: 0 });
  });

  it('a storage failure while writing records is thrown and leaves the session due; the next run collects it', async () => {
    const t = await lectureWorld();
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 3 });
    const store = t.world.services.store;
    const failing = {
      ...store,
      attendance: {
        ...store.attendance,
        putRecords: () =>
          Promise.reject(new StorageError('unavailable', 'attendance table: connection refused')),
      },
    };
    await expect(t.collectWith({ store: failing })).rejects.toThrow(/connection refused/);
    expect(await t.sessions()).toEqual([]);
    expect(await t.collect()).toMatchObject({ collected: 1 });
  });

  it('the timer fans out one message per feed with attendance on (or still storing it); the queue collects one', async () => {
    const t = await lectureWorld();
    const services = t.world.services;
    await t.world.upload(
      'plain',
      calendar(
        vevent({
          uid: 'p@uni.example',
          organizer: 'ada@uni.example',
          summary: 'P',
          start: '2027-02-01T09:00:00Z',
        }),
      ),
    );
    await services.store.attendance.registerFeed('removed-course');
    const lines: string[] = [];
    const context = () =>
      new InvocationContext({
        functionName: 'attendance',
        logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
      });
    const messages = await fanOutAttendance(context(), services);
    expect(messages.map((m) => m.feedId).sort()).toEqual(['cs101', 'removed-course']);
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 3 });
    expect(
      await collectAttendanceFromMessage(
        messages.find((m) => m.feedId === 'cs101'),
        context(),
        services,
      ),
    ).toMatchObject({
      collected: 1,
    });
    expect(await collectAttendanceFromMessage('not a message', context(), services)).toBeNull();
    expect(lines.some((l) => l.startsWith('attendance.message.invalid'))).toBe(true);
  });
});
