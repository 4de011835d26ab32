// Synthetic university timetable for expansion benchmarks: weekly sessions over one semester with
// EXDATEs (a reading week), moved and cancelled sessions (RECURRENCE-ID overrides), in two zones
// given as VTIMEZONEs (one IANA TZID, one Windows TZID whose VTIMEZONE must be used).
// Deterministic (seeded), so runs and processes produce the same calendar.

export interface TimetableOptions {
  /** Number of weekly series (default 3000). */
  events?: number;
  /** Semester length in weeks (default 15). */
  weeks?: number;
  /** Monday of the first week, YYYY-MM-DD (default 2025-09-01; the semester crosses the end of DST). */
  start?: string;
  seed?: number;
}

export interface Timetable {
  text: string;
  /** Window covering the semester, epoch ms. */
  window: { from: number; to: number };
  events: number;
}

const VTIMEZONES = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VTIMEZONE
TZID:GMT Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T010000
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE`;

const DAY = 86_400_000;
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR'];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: fast, deterministic, good enough for picking slots.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');
function local(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`;
}

export function generateTimetable(options: TimetableOptions = {}): Timetable {
  const events = options.events ?? 3000;
  const weeks = options.weeks ?? 15;
  const [y, m, d] = (options.start ?? '2025-09-01').split('-').map(Number) as [number, number, number];
  const monday = Date.UTC(y, m - 1, d);
  const rand = rng(options.seed ?? 42);
  const lines: string[] = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//timetable-sync//bench//EN',
    VTIMEZONES,
  ];
  for (let i = 0; i < events; i++) {
    const tzid = i % 3 === 2 ? 'GMT Standard Time' : 'Europe/Berlin';
    const dayIdx = Math.floor(rand() * 5);
    const hour = 8 + Math.floor(rand() * 10);
    const minute = rand() < 0.5 ? 0 : 15;
    const start = monday + dayIdx * DAY + hour * 3_600_000 + minute * 60_000;
    const lengthMin = [60, 90, 120][Math.floor(rand() * 3)] as number;
    const uid = `session-${i}@bench.timetable-sync`;
    const rule =
      i % 4 === 0
        ? `FREQ=WEEKLY;UNTIL=${local(monday + weeks * 7 * DAY).slice(0, 8)}T000000Z;BYDAY=${DAYS[dayIdx]}`
        : `FREQ=WEEKLY;COUNT=${weeks};BYDAY=${DAYS[dayIdx]}`;
    lines.push(
      'BEGIN:VEVENT',
      `UID:${uid}`,
      'DTSTAMP:20250801T120000Z',
      `DTSTART;TZID=${tzid}:${local(start)}`,
      `DTEND;TZID=${tzid}:${local(start + lengthMin * 60_000)}`,
      `RRULE:${rule}`,
      `SUMMARY:Module ${1000 + (i % 700)} lecture ${i}`,
      `LOCATION:Building ${i % 12}\\, room ${100 + (i % 40)}`,
      'ORGANIZER;CN=Dr Lecturer:mailto:Lecturer' + (i % 200) + '@Uni.example',
    );
    if (i % 5 === 0) lines.push(`EXDATE;TZID=${tzid}:${local(start + 6 * 7 * DAY)}`); // reading week
    lines.push('END:VEVENT');
    if (i % 10 === 3) {
      // One session moved by a day and two hours, in another room.
      const orig = start + 3 * 7 * DAY;
      lines.push(
        'BEGIN:VEVENT',
        `UID:${uid}`,
        'DTSTAMP:20250801T120000Z',
        'SEQUENCE:1',
        `RECURRENCE-ID;TZID=${tzid}:${local(orig)}`,
      );
      lines.push(
        `DTSTART;TZID=${tzid}:${local(orig + DAY + 2 * 3_600_000)}`,
        `DTEND;TZID=${tzid}:${local(orig + DAY + 2 * 3_600_000 + lengthMin * 60_000)}`,
      );
      lines.push(
        `SUMMARY:Module ${1000 + (i % 700)} lecture ${i} (moved)`,
        'LOCATION:Main hall',
        'END:VEVENT',
      );
    }
    if (i % 25 === 7) {
      // A session cancelled across the DST change (week 9 is after the last Sunday of October).
      const orig = start + 8 * 7 * DAY;
      lines.push(
        'BEGIN:VEVENT',
        `UID:${uid}`,
        'DTSTAMP:20250801T120000Z',
        'SEQUENCE:2',
        `RECURRENCE-ID;TZID=${tzid}:${local(orig)}`,
      );
      lines.push(
        `DTSTART;TZID=${tzid}:${local(orig)}`,
        `DTEND;TZID=${tzid}:${local(orig + lengthMin * 60_000)}`,
        'STATUS:CANCELLED',
      );
      lines.push(`SUMMARY:Module ${1000 + (i % 700)} lecture ${i}`, 'END:VEVENT');
    }
  }
  lines.push('END:VCALENDAR', '');
  // The window is a few days wider than the semester so that edge rules do not matter.
  return {
    text: lines.join('\r\n'),
    window: { from: monday - 7 * DAY, to: monday + (weeks + 1) * 7 * DAY },
    events,
  };
}
