// Meeting artifacts: attendance reports of meetings that were held. A report exists only for a time the
// meeting was held with someone in it, appears `reportDelayMs` after that time ended, lists at most the
// 50 most recent, and its records are paged with @odata.nextLink. Reading them needs the application
// permission OnlineMeetingArtifact.Read.All (a 403 naming it otherwise) and the same application access
// policy as the meetings (the policy's own 403): two different refusals.
// https://learn.microsoft.com/graph/api/meetingattendancereport-list
// https://learn.microsoft.com/graph/api/attendancerecord-list
import { randomUUID } from 'node:crypto';
import { requireRole, type TokenClaims } from './graphAuth.js';
import type { GraphResult } from './http.js';
import { badRequest, HttpError, methodNotAllowed } from './httpErrors.js';
import { createRng } from './limits.js';
import { checkOrganizer } from './meetingRules.js';
import { checkPolicy } from './meetings.js';
import type { EmulatorState, MeetingRecord } from './state.js';
import type { EmulatorUser } from './types.js';
import { findOrganizer } from './users.js';

export const ARTIFACT_READ_ROLES = ['OnlineMeetingArtifact.Read.All'];
/** Graph lists at most the 50 most recent reports of a meeting. */
export const MAX_LISTED_REPORTS = 50;

export interface AttendanceSettings {
  /** How long after a held meeting ends its report appears (default 5 minutes). */
  reportDelayMs: number;
  /** attendanceRecords per page (default 20): more records come with @odata.nextLink. */
  pageSize: number;
}

export const DEFAULT_ATTENDANCE_SETTINGS: AttendanceSettings = { reportDelayMs: 5 * 60_000, pageSize: 20 };

export interface AttendeeSeed {
  /** Entra object id (a guest's is its home tenant's); null for an anonymous or dial-in participant. */
  id: string | null;
  displayName: string;
  email: string | null;
  role: 'Organizer' | 'Presenter' | 'Attendee';
  /** Join and leave instants (ms); a participant who left and came back has several. */
  intervals: Array<{ join: number; leave: number }>;
}

/** One time a meeting was held: the attendance report Graph keeps for it. */
export interface HeldOccurrence {
  reportId: string;
  meetingId: string;
  organizerId: string;
  start: number;
  end: number;
  /** When Graph lists the report (end + the report delay). */
  availableAt: number;
  attendees: AttendeeSeed[];
}

export interface HoldOptions {
  /** When the meeting was held; default its scheduled start and end. */
  start?: number;
  end?: number;
  /** Simulated students (besides the organizer and a guest), or the participants themselves; 0: no one joined, so no report. */
  attendees?: number | AttendeeSeed[];
  /** Seed of the simulated participants (default from the meeting id). */
  seed?: number;
}

export interface AttendanceReportView {
  reportId: string;
  meetingId: string;
  meetingStartDateTime: string;
  meetingEndDateTime: string;
  availableAt: string;
  totalParticipantCount: number;
  attendees: AttendeeSeed[];
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * The class as it turns up: the organizer for the whole time, `count` students of a stable roster (the
 * same student has the same id in every meeting of the tenant), of whom a few are absent, some join late,
 * some leave and come back, and one guest from another tenant.
 */
export function simulateAttendees(
  state: EmulatorState,
  organizer: EmulatorUser,
  start: number,
  end: number,
  count: number,
  seed: number,
): AttendeeSeed[] {
  const rng = createRng(seed);
  const minutes = (n: number) => n * 60_000;
  const length = Math.max(end - start, minutes(1));
  const attendees: AttendeeSeed[] = [
    {
      id: organizer.id,
      displayName: organizer.displayName,
      email: organizer.mail ?? organizer.userPrincipalName,
      role: 'Organizer',
      intervals: [{ join: start - minutes(2), leave: end }],
    },
  ];
  for (let n = 1; n <= count; n++) {
    const roll = rng();
    if (roll < 0.1) continue; // absent this time
    const number = String(n).padStart(3, '0');
    const join = roll < 0.3 ? start + Math.floor(rng() * Math.min(length / 3, minutes(20))) : start;
    const intervals =
      roll > 0.8
        ? // left (dropped connection, a break) and came back
          [
            { join, leave: join + Math.floor((end - join) * 0.4) },
            { join: join + Math.floor((end - join) * 0.55), leave: end },
          ]
        : [{ join, leave: end }];
    attendees.push({
      id: `00000000-0000-4000-8000-${String(hashSeed(`${state.tenantId}|${n}`))
        .padStart(12, '0')
        .slice(-12)}`,
      displayName: `Student ${number}`,
      email: `student${number}@${state.tenantDomain}`,
      role: 'Attendee',
      intervals,
    });
  }
  if (count > 0)
    attendees.push({
      id: `11111111-0000-4000-8000-${String(hashSeed(`guest|${state.tenantId}`))
        .padStart(12, '0')
        .slice(-12)}`,
      displayName: 'Visiting Examiner (Guest)',
      email: 'examiner@partner.example',
      role: 'Attendee',
      intervals: [{ join: start + Math.floor(length / 2), leave: end }],
    });
  return attendees;
}

/** Holds `meeting` once (a report appears after the delay); null when no one joined (no report). */
export function holdMeeting(
  state: EmulatorState,
  meeting: MeetingRecord,
  options: HoldOptions = {},
): AttendanceReportView | null {
  const start = options.start ?? meeting.start;
  const end = options.end ?? meeting.end;
  if (!(end > start)) throw new Error('holdMeeting: end must be after start');
  const organizer = state.users.get(meeting.organizerId);
  if (!organizer) throw new Error(`holdMeeting: organizer ${meeting.organizerId} is not a seeded user`);
  const attendees = Array.isArray(options.attendees)
    ? options.attendees
    : (options.attendees ?? 12) === 0
      ? []
      : simulateAttendees(
          state,
          organizer,
          start,
          end,
          options.attendees ?? 12,
          options.seed ?? hashSeed(`${meeting.id}|${start}`),
        );
  if (attendees.length === 0) return null;
  const held: HeldOccurrence = {
    reportId: randomUUID(),
    meetingId: meeting.id,
    organizerId: meeting.organizerId,
    start,
    end,
    availableAt: end + state.attendance.reportDelayMs,
    attendees,
  };
  state.heldMeetings.push(held);
  return reportView(held);
}

/** Holds, at its scheduled time, every live meeting whose end has passed and that was not held yet. */
export function holdEndedMeetings(state: EmulatorState, options: { attendees?: number } = {}): number {
  const now = state.now();
  const held = new Set(state.heldMeetings.map((h) => h.meetingId));
  let count = 0;
  for (const m of state.meetings) {
    if (m.deleted || m.end > now || held.has(m.id)) continue;
    holdMeeting(state, m, options.attendees === undefined ? {} : { attendees: options.attendees });
    count++;
  }
  return count;
}

export function reportView(h: HeldOccurrence): AttendanceReportView {
  return {
    reportId: h.reportId,
    meetingId: h.meetingId,
    meetingStartDateTime: new Date(h.start).toISOString(),
    meetingEndDateTime: new Date(h.end).toISOString(),
    availableAt: new Date(h.availableAt).toISOString(),
    totalParticipantCount: h.attendees.length,
    attendees: structuredClone(h.attendees),
  };
}

function reportPayload(h: HeldOccurrence): Record<string, unknown> {
  return {
    id: h.reportId,
    totalParticipantCount: h.attendees.length,
    meetingStartDateTime: new Date(h.start).toISOString(),
    meetingEndDateTime: new Date(h.end).toISOString(),
  };
}

function recordPayload(a: AttendeeSeed): Record<string, unknown> {
  const intervals = a.intervals.map((i) => ({
    joinDateTime: new Date(i.join).toISOString(),
    leaveDateTime: new Date(i.leave).toISOString(),
    durationInSeconds: Math.round((i.leave - i.join) / 1000),
  }));
  return {
    id: a.id ?? a.email ?? a.displayName,
    emailAddress: a.email,
    role: a.role,
    totalAttendanceInSeconds: intervals.reduce((sum, i) => sum + i.durationInSeconds, 0),
    identity: { id: a.id, displayName: a.displayName, tenantId: null },
    attendanceIntervals: intervals,
  };
}

function skipToken(reportId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ r: reportId, o: offset })).toString('base64url');
}

function readSkipToken(token: string, reportId: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      r?: unknown;
      o?: unknown;
    };
    if (parsed.r === reportId && typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0)
      return parsed.o;
  } catch {
    // fall through to the 400
  }
  throw badRequest('Invalid skip token.');
}

/**
 * /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports[/{reportId}[/attendanceRecords]];
 * `rest` is the path after attendanceReports.
 */
export function handleAttendance(
  state: EmulatorState,
  method: string,
  token: TokenClaims,
  organizerKey: string,
  meetingId: string,
  rest: string[],
  query: URLSearchParams,
): GraphResult {
  if (method !== 'GET') throw methodNotAllowed();
  // The permission first (the app's), then the organizer's policy and account: two different 403s.
  requireRole(token, ARTIFACT_READ_ROLES);
  const organizer = findOrganizer(state, organizerKey);
  checkPolicy(state, method, token.appid, organizer);
  checkOrganizer(organizer);
  const meeting = state.meetings.find(
    (m) => !m.deleted && m.organizerId === organizer.id && m.id === meetingId,
  );
  if (!meeting) throw new HttpError(404, 'NotFound', `The online meeting '${meetingId}' was not found.`);
  const now = state.now();
  const reports = state.heldMeetings
    .filter((h) => h.meetingId === meeting.id && h.availableAt <= now)
    .sort((a, b) => b.end - a.end)
    .slice(0, MAX_LISTED_REPORTS);
  const base = `${state.url}/v1.0/users/${encodeURIComponent(organizerKey)}/onlineMeetings/${encodeURIComponent(meetingId)}/attendanceReports`;
  if (rest.length === 0)
    return {
      status: 200,
      write: false,
      body: {
        '@odata.context': `${state.url}/v1.0/$metadata#attendanceReports`,
        value: reports.map(reportPayload),
      },
    };
  const report = reports.find((h) => h.reportId === rest[0]);
  if (!report)
    throw new HttpError(404, 'NotFound', `The attendance report '${rest[0] ?? ''}' was not found.`);
  if (rest.length === 1) {
    const expand = (query.get('$expand') ?? '').trim();
    if (expand && expand !== 'attendanceRecords')
      throw badRequest(
        `Could not find a property named '${expand}' on type 'microsoft.graph.meetingAttendanceReport'.`,
      );
    return {
      status: 200,
      write: false,
      body: {
        ...reportPayload(report),
        ...(expand ? { attendanceRecords: report.attendees.map(recordPayload) } : {}),
      },
    };
  }
  if (rest.length === 2 && rest[1] === 'attendanceRecords') {
    const token = query.get('$skiptoken');
    const offset = token === null ? 0 : readSkipToken(token, report.reportId);
    const size = state.attendance.pageSize;
    const page = report.attendees.slice(offset, offset + size);
    const next = offset + size < report.attendees.length;
    return {
      status: 200,
      write: false,
      body: {
        '@odata.context': `${state.url}/v1.0/$metadata#attendanceRecords`,
        value: page.map(recordPayload),
        ...(next
          ? {
              '@odata.nextLink': `${base}/${report.reportId}/attendanceRecords?$skiptoken=${skipToken(report.reportId, offset + size)}`,
            }
          : {}),
      },
    };
  }
  throw badRequest('Unsupported segment.');
}
