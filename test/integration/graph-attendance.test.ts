// Attendance reports through the real MSAL + Graph SDK path against the emulator: the report delay,
// paging with @odata.nextLink, a meeting held twice, the 50-report cap, and the two different 403s.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isGraphError } from '../../src/graph/errors.js';
import {
  meetingInput,
  rawClient,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

const MINUTE = 60_000;
const ROLES = ['OnlineMeetings.ReadWrite.All', 'User.Read.All', 'OnlineMeetingArtifact.Read.All'];
let t: TestEmulator;

beforeAll(async () => {
  t = await startTestEmulator({
    appRoles: ROLES,
    attendance: { reportDelayMs: 10 * MINUTE, pageSize: 5 },
    tokenLifetimeSeconds: 30 * 24 * 3600,
  });
});
beforeEach(() => {
  t.emulator.control.reset();
  t.emulator.control.setAppRoles(t.emulator.clientId, ROLES);
  t.emulator.control.allowDefaultAppGlobally();
});
afterAll(() => t.emulator.stop());

/** A meeting of Ada's that ended `endedAgoMs` ago (emulator clock). */
async function endedMeeting(graph = t.access(), endedAgoMs = MINUTE) {
  const end = t.emulator.control.now() - endedAgoMs;
  const input = meetingInput(
    'Algorithms',
    new Date(end - 60 * MINUTE).toISOString(),
    new Date(end).toISOString(),
  );
  return graph.meetings.createOrGet(t.users[0]!.id, input);
}

describe('attendance reports', () => {
  it('a held meeting has no report until the report delay has passed, then one with every participant', async () => {
    const graph = t.access();
    const meeting = await endedMeeting(graph);
    const held = t.emulator.control.holdMeeting(meeting.id, { attendees: 18, seed: 7 });
    expect(held).not.toBeNull();
    expect(await graph.attendance.listReports(t.users[0]!.id, meeting.id)).toEqual([]);

    t.emulator.control.advanceTime(10 * MINUTE);
    const reports = await graph.attendance.listReports(t.users[0]!.id, meeting.id);
    expect(reports).toHaveLength(1);
    expect(Date.parse(reports[0]!.meetingEndDateTime)).toBe(Date.parse(meeting.endDateTime));

    const before = t.emulator.control.requestCounts().byRoute;
    const records = await graph.attendance.listRecords(t.users[0]!.id, meeting.id, reports[0]!.id);
    const route =
      'GET /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports/{reportId}/attendanceRecords';
    const pages =
      (t.emulator.control.requestCounts().byRoute[route]?.['200'] ?? 0) - (before[route]?.['200'] ?? 0);
    expect(records).toHaveLength(held!.attendees.length);
    expect(pages).toBe(Math.ceil(held!.attendees.length / 5));
    expect(pages).toBeGreaterThan(2);
    // The class as it turns up: the organizer, a guest from elsewhere, someone who left and came back.
    expect(records.find((r) => r.role === 'Organizer')?.participantId).toBe(t.users[0]!.id);
    expect(records.some((r) => r.email === 'examiner@partner.example')).toBe(true);
    expect(records.some((r) => r.intervals.length === 2)).toBe(true);
    for (const r of records) expect(r.totalSeconds).toBe(r.intervals.reduce((s, i) => s + i.seconds, 0));
  });

  it('a link used twice has two reports, each with its own times; no one joining leaves none', async () => {
    const graph = t.access();
    const meeting = await endedMeeting(graph, 8 * 24 * 60 * MINUTE);
    const start = Date.parse(meeting.startDateTime);
    expect(t.emulator.control.holdMeeting(meeting.id, { attendees: 0 })).toBeNull();
    t.emulator.control.holdMeeting(meeting.id, { attendees: 3 });
    t.emulator.control.holdMeeting(meeting.id, {
      start: start + 7 * 24 * 60 * MINUTE,
      end: start + (7 * 24 + 1) * 60 * MINUTE,
      attendees: 3,
    });
    const reports = await graph.attendance.listReports(t.users[0]!.id, meeting.id);
    expect(reports.map((r) => r.meetingStartDateTime)).toEqual([
      new Date(start + 7 * 24 * 60 * MINUTE).toISOString(),
      new Date(start).toISOString(),
    ]);
  });

  it('lists at most the 50 most recent reports', async () => {
    const graph = t.access();
    const meeting = await endedMeeting(graph, 100 * 24 * 60 * MINUTE);
    const first = Date.parse(meeting.startDateTime);
    for (let day = 0; day < 52; day++)
      t.emulator.control.holdMeeting(meeting.id, {
        start: first + day * 24 * 60 * MINUTE,
        end: first + day * 24 * 60 * MINUTE + 30 * MINUTE,
        attendees: 1,
      });
    const reports = await graph.attendance.listReports(t.users[0]!.id, meeting.id);
    expect(reports).toHaveLength(50);
    expect(reports.map((r) => r.meetingStartDateTime)).not.toContain(new Date(first).toISOString());
  });

  it('without OnlineMeetingArtifact.Read.All: a 403 naming the permission (the app’s), not the policy', async () => {
    const meeting = await endedMeeting();
    t.emulator.control.holdMeeting(meeting.id, { end: Date.parse(meeting.endDateTime) - 20 * MINUTE });
    t.emulator.control.setAppRoles(t.emulator.clientId, ['OnlineMeetings.ReadWrite.All', 'User.Read.All']);
    const error = await rejectionOf(t.access().attendance.listReports(t.users[0]!.id, meeting.id));
    expect(isGraphError(error) && error.kind).toBe('forbidden');
    expect(String((error as Error).message)).toContain('OnlineMeetingArtifact.Read.All');
  });

  it('without the access policy for the organizer: the policy’s 403', async () => {
    const meeting = await endedMeeting();
    t.emulator.control.grantPolicy(null, 'global', { delayMs: 0 });
    const error = await rejectionOf(t.access().attendance.listReports(t.users[0]!.id, meeting.id));
    expect(isGraphError(error) && error.kind).toBe('policyMissing');
  });

  it('the control API holds meetings over JSON (for the emulator command), and refuses a bad body naming the field', async () => {
    const raw = await rawClient(t.emulator);
    const control = (method: string, path: string, body?: unknown) =>
      raw(`/_emulator/${path}`, {
        token: null,
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const meeting = await endedMeeting();
    expect(
      (await (await control('PUT', 'attendance', { reportDelayMs: 0, pageSize: 3 })).json()) as object,
    ).toEqual({
      reportDelayMs: 0,
      pageSize: 3,
    });
    const held = (await (await control('POST', 'hold', { meetingId: meeting.id, attendees: 4 })).json()) as {
      report: { meetingId: string; attendees: unknown[] };
    };
    expect(held.report.meetingId).toBe(meeting.id);
    expect((await (await control('POST', 'hold-ended', {})).json()) as object).toEqual({ held: 0 });
    const listed = (await (
      await control('GET', `attendance?meetingId=${encodeURIComponent(meeting.id)}`)
    ).json()) as {
      reports: unknown[];
    };
    expect(listed.reports).toHaveLength(1);
    const bad = await control('POST', 'hold', { meetingId: meeting.id, attendees: -1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('attendees');
    expect((await control('POST', 'hold', { meetingId: 'nope' })).status).toBe(404);
    const reportId = (listed.reports[0] as { reportId: string }).reportId;
    const records = await t.access().attendance.listRecords(t.users[0]!.id, meeting.id, reportId);
    expect(records).toHaveLength(held.report.attendees.length);
  });
});
