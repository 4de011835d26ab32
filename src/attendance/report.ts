// What admins read: one feed's attendance per session (who attended, how long, first join / last leave)
// or per student across the course (sessions attended of sessions held, total minutes), as JSON or CSV.
// Used by `GET /api/feeds/{id}/attendance`, `timetable-sync attendance export` and the admin page.
import type { AppServices } from '../compose.js';
import { problems } from '../admin/problems.js';
import {
  studentSummaries,
  type AttendanceRecord,
  type SessionAttendance,
  type StudentAttendance,
} from '../core/attendance.js';
import type { EventLogger } from '../events.js';
import { validateFeedId } from '../storage/index.js';

export type AttendanceView = 'session' | 'student';
export type AttendanceFormat = 'json' | 'csv';

export interface AttendanceQuery {
  /** Sessions starting at or after this (YYYY-MM-DD or an ISO instant). */
  from?: string | null;
  /** Sessions starting before this (a date means: up to the end of that day). */
  to?: string | null;
  by?: string | null;
  format?: string | null;
}

export interface SessionAttendanceView {
  key: string;
  subject: string;
  start: string;
  end: string;
  state: SessionAttendance['state'];
  reason: string | null;
  meetingStart: string | null;
  meetingEnd: string | null;
  participants: number;
  attendees: Array<{
    displayName: string;
    email: string | null;
    role: string;
    minutes: number;
    firstJoin: string;
    lastLeave: string | null;
    /** Separate stays (join / leave), at most 20 kept. */
    intervals: Array<{ join: string; leave: string | null }>;
  }>;
}

export interface AttendanceReport {
  feedId: string;
  from: string | null;
  to: string | null;
  by: AttendanceView;
  /** Sessions whose report was collected. */
  sessionsHeld: number;
  /** Attendance records (one per person per session) in the period. */
  records: number;
  sessions?: SessionAttendanceView[];
  students?: StudentAttendance[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function bound(value: string | null | undefined, name: 'from' | 'to'): string | null {
  if (value === undefined || value === null || value === '') return null;
  const ms = Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw problems.badRequest(
      `${name} '${value.slice(0, 40)}' is not a date (YYYY-MM-DD) or an ISO 8601 date-time`,
    );
  // A date as `to` includes that whole day.
  return new Date(name === 'to' && DATE.test(value) ? ms + 86_400_000 : ms).toISOString();
}

/** The checked query: a bad value is a 400 naming the parameter. */
export function parseAttendanceQuery(query: AttendanceQuery): {
  from: string | null;
  to: string | null;
  by: AttendanceView;
  format: AttendanceFormat;
} {
  const by = query.by || 'session';
  if (by !== 'session' && by !== 'student')
    throw problems.badRequest(`by must be session or student (got '${by.slice(0, 40)}')`);
  const format = query.format || 'json';
  if (format !== 'json' && format !== 'csv')
    throw problems.badRequest(`format must be json or csv (got '${format.slice(0, 40)}')`);
  const from = bound(query.from, 'from');
  const to = bound(query.to, 'to');
  if (from && to && from >= to) throw problems.badRequest(`from (${from}) must be before to (${to})`);
  return { from, to, by, format };
}

/** One feed's attendance in a period, as a view. 404 for a feed with neither registration nor records. */
export async function attendanceReport(
  deps: Pick<AppServices, 'store'>,
  feedId: string,
  query: AttendanceQuery,
): Promise<AttendanceReport> {
  const problem = validateFeedId(feedId);
  if (problem) throw problems.badRequest(`feed id '${feedId.slice(0, 80)}': ${problem}`);
  const { from, to, by } = parseAttendanceQuery(query);
  const [feed, allSessions] = await Promise.all([
    deps.store.feeds.get(feedId),
    deps.store.attendance.listSessions(feedId),
  ]);
  if (!feed && allSessions.length === 0) throw problems.notFound(`feed '${feedId}' is not registered`);
  const sessions = allSessions
    .filter((s) => (!from || s.start >= from) && (!to || s.start < to))
    .sort((a, b) => a.start.localeCompare(b.start) || a.key.localeCompare(b.key));
  const inPeriod = new Set(sessions.map((s) => s.key));
  const records = (await deps.store.attendance.listRecords(feedId)).filter((r) => inPeriod.has(r.sessionKey));
  const base = {
    feedId,
    from,
    to,
    by,
    sessionsHeld: sessions.filter((s) => s.state === 'collected').length,
    records: records.length,
  };
  if (by === 'student') return { ...base, students: studentSummaries(sessions, records) };
  const bySession = new Map<string, AttendanceRecord[]>();
  for (const r of records) bySession.set(r.sessionKey, [...(bySession.get(r.sessionKey) ?? []), r]);
  return {
    ...base,
    sessions: sessions.map((s) => ({
      key: s.key,
      subject: s.subject,
      start: s.start,
      end: s.end,
      state: s.state,
      reason: s.reason,
      meetingStart: s.meetingStart,
      meetingEnd: s.meetingEnd,
      participants: s.participants,
      attendees: (bySession.get(s.key) ?? [])
        .map((r) => ({
          displayName: r.displayName,
          email: r.email,
          role: r.role,
          minutes: Math.round(r.totalSeconds / 60),
          firstJoin: r.firstJoin,
          lastLeave: r.lastLeave,
          intervals: r.intervals,
        }))
        .sort((a, b) => a.displayName.localeCompare(b.displayName)),
    })),
  };
}

// A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: quoted, quotes doubled, a formula-looking value prefixed with ' so it stays text. */
export function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

function csvLine(cells: Array<string | number | null>): string {
  return cells.map(csvCell).join(',');
}

/** The report as CSV (RFC 4180, CRLF, a header row), safe to open in a spreadsheet. */
export function attendanceCsv(report: AttendanceReport): string {
  const lines: string[] = [];
  if (report.by === 'student') {
    lines.push(
      csvLine([
        'name',
        'email',
        'role',
        'sessions_attended',
        'sessions_held',
        'total_minutes',
        'first_join',
        'last_leave',
      ]),
    );
    for (const s of report.students ?? [])
      lines.push(
        csvLine([
          s.displayName,
          s.email,
          s.role,
          s.sessionsAttended,
          s.sessionsHeld,
          s.totalMinutes,
          s.firstJoin,
          s.lastLeave,
        ]),
      );
  } else {
    lines.push(
      csvLine([
        'session_start',
        'session_end',
        'subject',
        'state',
        'name',
        'email',
        'role',
        'minutes',
        'first_join',
        'last_leave',
      ]),
    );
    for (const s of report.sessions ?? []) {
      const session = [s.start, s.end, s.subject, s.state];
      // A session without attendees still gets a row: "never held" is part of the record.
      if (s.attendees.length === 0) lines.push(csvLine([...session, null, null, null, null, null, null]));
      for (const a of s.attendees)
        lines.push(
          csvLine([...session, a.displayName, a.email, a.role, a.minutes, a.firstJoin, a.lastLeave]),
        );
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name for the download: `attendance-{feed}-{by}.{format}`. */
export function attendanceFileName(feedId: string, by: AttendanceView, format: AttendanceFormat): string {
  return `attendance-${feedId}-${by}.${format}`;
}

/** Right to erasure: every record of one person, in every feed. Logs counts only. */
export async function eraseParticipant(
  deps: Pick<AppServices, 'store'>,
  logger: EventLogger,
  who: { email?: string | null; participantId?: string | null },
): Promise<{ records: number; feeds: number }> {
  const email = who.email?.trim().toLowerCase() || null;
  const participantId = who.participantId?.trim().toLowerCase() || null;
  if ((email === null) === (participantId === null))
    throw problems.badRequest('give exactly one of email or participantId: whose attendance to erase');
  if (email !== null && !/^[^@\s]+@[^@\s]+$/.test(email))
    throw problems.badRequest(`email '${email.slice(0, 80)}' is not an e-mail address`);
  const result = await deps.store.attendance.deleteWhere((r) =>
    email !== null ? r.email === email : r.participantId?.toLowerCase() === participantId,
  );
  logger.info('attendance.erased', { records: result.records, feeds: result.feeds.length });
  return { records: result.records, feeds: result.feeds.length };
}
