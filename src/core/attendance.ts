// Attendance rules, pure: which ended sessions are checked for a report now, which report belongs to
// which session, how long a missing report is waited for, and what a participant's time adds up to.
// The collector (src/attendance/collect.ts) does the I/O around these.
import { createHash } from 'node:crypto';

import { backoffDelayMs } from './backoff.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface AttendanceSettings {
  /** A session is first checked this long after its end (reports appear some time after a meeting ends). */
  delayMinutes: number;
  /** No report this long after the end: given up ("meeting never held or no one joined"). */
  windowHours: number;
  /** Records of sessions that ended longer ago are deleted; older sessions are never collected. */
  retentionDays: number;
}

/**
 * Where one session's collection stands.
 * - `waiting`: no report yet (Graph makes it some time after the meeting ends); checked again with back-off
 * - `collected`: its report's records are stored
 * - `noReport`: no report within the window: the meeting was never held, or no one joined (information)
 * - `permissionMissing`: the app lacks OnlineMeetingArtifact.Read.All (every session waits for it)
 * - `policyMissing`: no application access policy covers the session's lecturer
 * - `failed`: Graph refused or failed otherwise (reason kept); checked again with back-off
 */
export type SessionAttendanceState =
  'waiting' | 'collected' | 'noReport' | 'permissionMissing' | 'policyMissing' | 'failed';

export const SESSION_ATTENDANCE_STATES: readonly SessionAttendanceState[] = [
  'waiting',
  'collected',
  'noReport',
  'permissionMissing',
  'policyMissing',
  'failed',
];

/** One timetabled session whose meeting may have been held (from the feed's meeting rows). */
export interface AttendanceSession {
  key: string;
  /** The event (series) the session belongs to: a lecturer reusing a link reuses one of the same series. */
  uid: string;
  subject: string;
  /** UTC ISO: the session's slot. */
  start: string;
  end: string;
  organizerId: string;
  meetingId: string;
}

export interface SessionAttendance {
  feedId: string;
  key: string;
  subject: string;
  start: string;
  end: string;
  organizerId: string;
  meetingId: string;
  state: SessionAttendanceState;
  /** Checks made so far (the back-off grows with them). */
  checks: number;
  /** UTC ISO of the next check; null once settled (collected, or given up). */
  nextCheckAt: string | null;
  lastCheckedAt: string | null;
  /** The reports whose records are stored (a meeting held twice in the slot has two). */
  reportIds: string[];
  /** Earliest start and latest end of those reports. */
  meetingStart: string | null;
  meetingEnd: string | null;
  /** Participants stored (after merging one person's several records). */
  participants: number;
  /** Why it is not collected (no content from a record: safe to show and log). */
  reason: string | null;
  collectedAt: string | null;
  etag?: string;
}

/** A report as matched: its meeting and times. */
export interface ReportRef {
  id: string;
  meetingId: string;
  organizerId: string;
  start: string;
  end: string;
}

/** One participant of one session, merged across that session's reports (the stored row). */
export interface AttendanceRecord {
  feedId: string;
  sessionKey: string;
  /** participantKey(): stable across sessions for one person. */
  participantKey: string;
  participantId: string | null;
  displayName: string;
  email: string | null;
  role: string;
  totalSeconds: number;
  firstJoin: string;
  lastLeave: string | null;
  /** Separate stays (join / leave); the stored list is capped, `intervalCount` is the whole count. */
  intervals: Array<{ join: string; leave: string | null }>;
  intervalCount: number;
}

/** A participant as Graph reports them (src/graph AttendanceRecordData). */
export interface ReportedParticipant {
  participantId: string | null;
  displayName: string;
  email: string | null;
  role: string;
  totalSeconds: number;
  intervals: Array<{ join: string; leave: string | null; seconds: number }>;
}

/** Stays stored per record: a student who dropped out and back 200 times still fits one table row. */
export const MAX_STORED_INTERVALS = 20;

/** Sessions due for a check at `now`: ended (plus the delay), inside retention, not settled, next check reached. */
export function dueSessions(
  sessions: readonly AttendanceSession[],
  known: ReadonlyMap<string, SessionAttendance>,
  now: number,
  settings: AttendanceSettings,
): AttendanceSession[] {
  return sessions.filter((s) => {
    const end = Date.parse(s.end);
    if (end + settings.delayMinutes * MINUTE > now) return false; // not over yet
    const status = known.get(s.key);
    if (!status) {
      // First sight: a session that ended before its report could still be fetched (attendance turned
      // on later, or older than retention) is not collected.
      return now <= end + settings.windowHours * HOUR && now <= end + settings.retentionDays * DAY;
    }
    return status.nextCheckAt !== null && Date.parse(status.nextCheckAt) <= now;
  });
}

/**
 * When a session without its report is checked again: 15 minutes after the first check, doubling to
 * at most 6 hours, and once more at the end of the window; null when the window is over (give up).
 */
export function nextCheckAt(
  checks: number,
  end: string,
  now: number,
  settings: AttendanceSettings,
): string | null {
  const giveUpAt = Date.parse(end) + settings.windowHours * HOUR;
  if (now >= giveUpAt) return null;
  const next = now + backoffDelayMs(checks, { baseMs: 15 * MINUTE, maxMs: 6 * HOUR });
  return new Date(Math.min(next, giveUpAt)).toISOString();
}

/** How far back a lecturer's reused link is looked for: the same series' meetings of the last two weeks. */
export const REUSED_LINK_LOOKBACK_DAYS = 14;

/**
 * Meetings whose reports may hold a due session that has none of its own: the same lecturer's other
 * sessions of the same series that ended in the two weeks before it (last week's link used again).
 */
export function reusedLinkCandidates(
  session: AttendanceSession,
  sessions: readonly AttendanceSession[],
): AttendanceSession[] {
  const start = Date.parse(session.start);
  const from = start - REUSED_LINK_LOOKBACK_DAYS * DAY;
  return sessions.filter(
    (s) =>
      s.key !== session.key &&
      s.uid === session.uid &&
      s.organizerId === session.organizerId &&
      s.meetingId !== session.meetingId &&
      Date.parse(s.end) <= start &&
      Date.parse(s.end) >= from,
  );
}

function overlapMs(a: { start: string; end: string }, b: { start: string; end: string }): number {
  return Math.min(Date.parse(a.end), Date.parse(b.end)) - Math.max(Date.parse(a.start), Date.parse(b.start));
}

/**
 * Which reports belong to which session. A report belongs to the session of its own meeting when it
 * overlaps that session's slot (a meeting held twice in the slot, after a dropped call, gives two). A
 * report that overlaps no slot of its own meeting's session was that link used at another time: it
 * goes to the session of the same lecturer whose slot it overlaps most (last week's link reused for
 * this week's lecture), if any; otherwise it belongs to no session. `taken`: reports already stored.
 */
export function matchReports(
  sessions: readonly AttendanceSession[],
  reports: readonly ReportRef[],
  taken: ReadonlySet<string> = new Set(),
): Map<string, ReportRef[]> {
  const result = new Map<string, ReportRef[]>();
  const add = (key: string, report: ReportRef) => result.set(key, [...(result.get(key) ?? []), report]);
  const byMeeting = new Map(sessions.map((s) => [s.meetingId, s]));
  const strays: ReportRef[] = [];
  for (const report of reports) {
    if (taken.has(report.id)) continue;
    const own = byMeeting.get(report.meetingId);
    if (own && overlapMs(own, report) > 0) add(own.key, report);
    else strays.push(report);
  }
  for (const report of strays) {
    let best: AttendanceSession | null = null;
    let bestOverlap = 0;
    for (const s of sessions) {
      if (s.organizerId !== report.organizerId || result.has(s.key)) continue;
      const overlap = overlapMs(s, report);
      if (overlap > bestOverlap) [best, bestOverlap] = [s, overlap];
    }
    if (best) add(best.key, report);
  }
  return result;
}

/** A person's stable key: their directory id, else their e-mail, else their display name (hashed: no content in keys). */
export function participantKey(
  p: Pick<ReportedParticipant, 'participantId' | 'email' | 'displayName'>,
): string {
  const identity = p.participantId
    ? `id:${p.participantId.toLowerCase()}`
    : p.email
      ? `email:${p.email.toLowerCase()}`
      : `name:${p.displayName}`;
  return createHash('sha256').update(identity).digest('hex').slice(0, 24);
}

/** One record per person for a session, from all of its reports: time added up, first join, last leave. */
export function mergeParticipants(
  feedId: string,
  sessionKey: string,
  reported: readonly ReportedParticipant[],
): AttendanceRecord[] {
  const byKey = new Map<string, AttendanceRecord>();
  for (const p of reported) {
    const key = participantKey(p);
    const intervals = [...p.intervals].sort((a, b) => a.join.localeCompare(b.join));
    const existing = byKey.get(key);
    const all = [
      ...(existing?.intervals ?? []),
      ...intervals.map(({ join, leave }) => ({ join, leave })),
    ].sort((a, b) => a.join.localeCompare(b.join));
    const leaves = all.map((i) => i.leave);
    const lastLeave = leaves.includes(null)
      ? null
      : leaves.reduce<string | null>((max, l) => (max === null || (l !== null && l > max) ? l : max), null);
    byKey.set(key, {
      feedId,
      sessionKey,
      participantKey: key,
      participantId: existing?.participantId ?? p.participantId,
      displayName: existing?.displayName || p.displayName,
      email: existing?.email ?? p.email,
      role: existing?.role === 'Organizer' ? 'Organizer' : p.role,
      totalSeconds: (existing?.totalSeconds ?? 0) + Math.max(0, p.totalSeconds),
      firstJoin: all[0]?.join ?? '',
      lastLeave,
      intervals: all,
      intervalCount: (existing?.intervalCount ?? 0) + intervals.length,
    });
  }
  return [...byKey.values()]
    .filter((r) => r.firstJoin !== '')
    .map((r) => ({ ...r, intervals: r.intervals.slice(0, MAX_STORED_INTERVALS) }))
    .sort((a, b) => a.participantKey.localeCompare(b.participantKey));
}

/** Per student across a course: sessions attended of sessions held, total minutes. */
export interface StudentAttendance {
  participantKey: string;
  displayName: string;
  email: string | null;
  role: string;
  sessionsAttended: number;
  sessionsHeld: number;
  totalMinutes: number;
  firstJoin: string;
  lastLeave: string | null;
}

export function studentSummaries(
  sessions: readonly Pick<SessionAttendance, 'key' | 'state'>[],
  records: readonly AttendanceRecord[],
): StudentAttendance[] {
  const held = new Set(sessions.filter((s) => s.state === 'collected').map((s) => s.key));
  const byStudent = new Map<string, StudentAttendance & { seen: Set<string>; seconds: number }>();
  for (const r of records) {
    if (!held.has(r.sessionKey)) continue;
    let s = byStudent.get(r.participantKey);
    if (!s) {
      s = {
        participantKey: r.participantKey,
        displayName: r.displayName,
        email: r.email,
        role: r.role,
        sessionsAttended: 0,
        sessionsHeld: held.size,
        totalMinutes: 0,
        firstJoin: r.firstJoin,
        lastLeave: r.lastLeave,
        seen: new Set(),
        seconds: 0,
      };
      byStudent.set(r.participantKey, s);
    }
    if (r.role === 'Organizer') s.role = 'Organizer';
    s.seen.add(r.sessionKey);
    s.seconds += r.totalSeconds;
    if (r.firstJoin < s.firstJoin) s.firstJoin = r.firstJoin;
    if (s.lastLeave !== null && (r.lastLeave === null || r.lastLeave > s.lastLeave))
      s.lastLeave = r.lastLeave;
  }
  return [...byStudent.values()]
    .map(({ seen, seconds, ...s }) => ({
      ...s,
      sessionsAttended: seen.size,
      totalMinutes: Math.round(seconds / 60),
    }))
    .sort(
      (a, b) =>
        a.displayName.localeCompare(b.displayName) || a.participantKey.localeCompare(b.participantKey),
    );
}
