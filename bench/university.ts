// A synthetic university for the sync and planning benchmarks, built on the iCalendar engineer's
// semester generator (bench/expand-data.ts) rather than a second generator: each department is one
// feed generated there (weekly series, EXDATE reading week, moved and cancelled overrides, an IANA and
// a Windows VTIMEZONE), then given
//   - its own lecturers (ORGANIZER), so the university has `lecturers` distinct organizers;
//   - fortnightly series (INTERVAL=2) for every third series without a moved override;
//   - a campus time zone: some departments teach in America/New_York or Asia/Singapore (IANA TZIDs
//     without VTIMEZONE, resolved from the tz database) instead of Europe/Berlin.
// Deterministic: the same options give the same text in every process.
import { generateTimetable } from './expand-data.js';

export interface UniversityOptions {
  departments: number;
  /** Weekly/fortnightly series per department. */
  seriesPerDepartment: number;
  /** Distinct lecturers across the university (split evenly over departments). */
  lecturers: number;
  /** Monday of week 1, YYYY-MM-DD. */
  start: string;
  weeks?: number;
  seed?: number;
}

export interface DepartmentFeed {
  feedId: string;
  text: string;
  lecturers: string[];
  zone: string;
}

const CAMPUS_ZONES = [
  'Europe/Berlin',
  'Europe/Berlin',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Singapore',
];

export function lecturerEmail(n: number): string {
  return `lecturer${String(n).padStart(4, '0')}@uni.example`;
}

/** Turns every third series (without a moved override) into a fortnightly one. */
function withFortnightly(text: string, weeks: number): string {
  return text.replace(
    /BEGIN:VEVENT\r\nUID:session-(\d+)@[^\r]*\r\n(?:(?!END:VEVENT)[^\r]*\r\n)*?END:VEVENT/g,
    (block, index: string) => {
      const i = Number(index);
      if (i % 3 !== 1 || i % 10 === 3 || !block.includes('\r\nRRULE:')) return block;
      // Week 0, 2, 4 ...: the reading-week EXDATE (week 6) and the week-8 cancellation stay on instances.
      return block
        .replace(`FREQ=WEEKLY;COUNT=${weeks};`, `FREQ=WEEKLY;INTERVAL=2;COUNT=${Math.ceil(weeks / 2)};`)
        .replace(/FREQ=WEEKLY;UNTIL=/, 'FREQ=WEEKLY;INTERVAL=2;UNTIL=');
    },
  );
}

export function departmentFeed(department: number, options: UniversityOptions): DepartmentFeed {
  const weeks = options.weeks ?? 15;
  const perDepartment = Math.max(1, Math.floor(options.lecturers / options.departments));
  const lecturers = Array.from({ length: perDepartment }, (_, k) =>
    lecturerEmail(department * perDepartment + k),
  );
  const { text } = generateTimetable({
    events: options.seriesPerDepartment,
    weeks,
    start: options.start,
    seed: (options.seed ?? 7) * 1000 + department,
  });
  const zone = CAMPUS_ZONES[department % CAMPUS_ZONES.length] as string;
  let out = withFortnightly(text, weeks).replace(
    /ORGANIZER;CN=Dr Lecturer:mailto:Lecturer(\d+)@Uni\.example/g,
    (_m, k: string) => {
      const email = lecturers[Number(k) % lecturers.length] as string;
      return `ORGANIZER;CN=${email.split('@')[0] ?? email}:mailto:${email}`;
    },
  );
  if (zone !== 'Europe/Berlin') out = out.replaceAll(';TZID=Europe/Berlin:', `;TZID=${zone}:`);
  return { feedId: `dept${String(department).padStart(3, '0')}`, text: out, lecturers, zone };
}

export function university(options: UniversityOptions): DepartmentFeed[] {
  return Array.from({ length: options.departments }, (_, d) => departmentFeed(d, options));
}
