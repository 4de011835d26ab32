// The demo's attendance step: after the sync, the clock moves through the first teaching week one day at
// a time; each day the emulator "holds" the lectures that have ended (seeded students, some late, some
// leaving and coming back, a guest) and the collector runs, as its timer would. Then attendance per
// course (a session's subject up to " — ", e.g. "CS101 Programming Fundamentals").
import { collectAttendance } from '../attendance/collect.js';
import type { AppServices } from '../compose.js';
import type { EmulatorHandle } from '../emulator/index.js';
import type { EventLogger } from '../events.js';
import { attendanceDepsFor } from '../handlers/attendance.js';
import { formatTable } from './context.js';

const DAY = 86_400_000;
/** Students per simulated class (more than one page of attendance records). */
const CLASS_SIZE = 24;

export interface DemoAttendance {
  /** The clock the collection ended at (past the first week with sessions). */
  at: string;
  sessionsWithReports: number;
  records: number;
  courses: Array<{ course: string; sessionsHeld: number; records: number; participants: number }>;
}

export async function demoAttendance(options: {
  services: AppServices;
  emulator: EmulatorHandle;
  feedId: string;
  logger: EventLogger;
  /** Moves the demo's clock (the collector's) forward. */
  advance: (ms: number) => void;
}): Promise<DemoAttendance> {
  const { services, emulator, feedId } = options;
  const deps = attendanceDepsFor(services, options.logger);
  const rows = await services.store.meetings.listByFeed(feedId);
  const starts = rows.filter((r) => r.meetingId !== null).map((r) => Date.parse(r.start));
  const first = Math.min(...starts);
  if (Number.isFinite(first)) {
    // Day by day until a week after the first session, as the timer would collect.
    const end = first + 7 * DAY;
    for (let t = Math.max(services.now().getTime(), first); t < end;) {
      t = Math.min(t + DAY, end);
      const step = t - services.now().getTime();
      options.advance(step);
      emulator.control.advanceTime(step);
      emulator.control.holdEndedMeetings({ attendees: CLASS_SIZE });
      await collectAttendance(deps, feedId);
    }
  }
  const sessions = (await services.store.attendance.listSessions(feedId)).filter(
    (s) => s.state === 'collected',
  );
  const records = await services.store.attendance.listRecords(feedId);
  const courseOf = new Map(sessions.map((s) => [s.key, s.subject.split(' — ')[0]?.trim() || s.subject]));
  const courses = new Map<string, { sessions: Set<string>; records: number; students: Set<string> }>();
  for (const r of records) {
    const course = courseOf.get(r.sessionKey);
    if (course === undefined) continue;
    const entry = courses.get(course) ?? { sessions: new Set(), records: 0, students: new Set() };
    entry.sessions.add(r.sessionKey);
    entry.records++;
    if (r.role !== 'Organizer') entry.students.add(r.participantKey);
    courses.set(course, entry);
  }
  return {
    at: services.now().toISOString(),
    sessionsWithReports: sessions.length,
    records: records.length,
    courses: [...courses]
      .map(([course, c]) => ({
        course,
        sessionsHeld: c.sessions.size,
        records: c.records,
        participants: c.students.size,
      }))
      .sort((a, b) => a.course.localeCompare(b.course)),
  };
}

export function formatDemoAttendance(a: DemoAttendance): string {
  const lines = [
    `Attendance (clock moved to ${a.at}; the emulator held the first week's sessions, the collector ran each day):`,
  ];
  if (a.courses.length === 0) lines.push('  no session of the first week was held');
  else
    lines.push(
      formatTable(
        ['course', 'sessions held', 'attendance records', 'participants'],
        a.courses.map((c) => [c.course, c.sessionsHeld, c.records, c.participants]),
      ),
      `${a.sessionsWithReports} sessions with reports, ${a.records} attendance records (\`timetable-sync attendance export --feed ID --by student\` once kept).`,
    );
  return lines.join('\n');
}
