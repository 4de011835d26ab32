// Decoding of DATE / DATE-TIME / PERIOD / DURATION values (RFC 5545 §3.3.4–3.3.9) into wall ms.
import type { Zone } from './zones.js';

export type TimeValue =
  | { kind: 'date'; wall: number }
  | { kind: 'floating'; wall: number }
  | { kind: 'utc'; wall: number }
  | { kind: 'zoned'; wall: number; zone: Zone };

const DATE_TIME = /^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})?(?:\.\d+)?(Z)?)?$/i;

/** Parses one value; `asDate` when VALUE=DATE was given. Null when it is not a date or date-time. */
export function parseTimeText(text: string, zone: Zone | null, asDate: boolean): TimeValue | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  // A value's own shape wins over a wrong or missing VALUE parameter (EXDATE:20200101 is a date).
  if (m[4] === undefined || asDate) return { kind: 'date', wall: Date.UTC(y, mo - 1, d) };
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6] ?? 0);
  if (h > 24 || mi > 59 || s > 60) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  if (m[7]) return { kind: 'utc', wall };
  if (zone) return { kind: 'zoned', wall, zone };
  return { kind: 'floating', wall };
}

export interface DurationValue {
  /** Weeks and days: nominal, added to wall time (RFC 5545 §3.3.6). */
  days: number;
  /** Hours, minutes, seconds: exact. */
  ms: number;
}

export function parseDuration(text: string): DurationValue | null {
  const m = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text.trim());
  if (!m || text.trim().toUpperCase().endsWith('T') || /^[+-]?P$/i.test(text.trim())) return null;
  const sign = m[1] === '-' ? -1 : 1;
  return {
    days: sign * (Number(m[2] ?? 0) * 7 + Number(m[3] ?? 0)),
    ms: sign * (Number(m[4] ?? 0) * 3_600_000 + Number(m[5] ?? 0) * 60_000 + Number(m[6] ?? 0) * 1000),
  };
}

// Formatting without Date objects or padStart: this runs for every occurrence (start, end and
// recurrence id), so it is written to allocate only the result string.
const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** Civil date of a day number (days since 1970-01-01), after Howard Hinnant's days_from_civil inverse. */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function year4(y: number): string {
  return y >= 1000 && y <= 9999 ? String(y) : String(y).padStart(4, '0');
}

// Date and time-of-day parts are cached: a timetable has few distinct days and times, and a
// two-piece concatenation of shared parts costs one small cons cell per occurrence instead of a
// tree of a dozen (the result holds three such strings per occurrence).
const dateParts = new Map<number, string>();
const timeParts = new Map<number, string>();

function datePart(days: number): string {
  let s = dateParts.get(days);
  if (s === undefined) {
    const [y, m, d] = civil(days);
    s = `${year4(y)}-${TWO[m] as string}-${TWO[d] as string}`;
    if (dateParts.size > 50_000) dateParts.clear();
    dateParts.set(days, s);
  }
  return s;
}

/** "THH:MM:SS" (key >= 0) or "THH:MM:SSZ" (key < 0, stored as -(seconds+1)). */
function timePart(seconds: number, utc: boolean): string {
  const key = utc ? -(seconds + 1) : seconds;
  let s = timeParts.get(key);
  if (s === undefined) {
    const h = Math.floor(seconds / 3600);
    const mi = Math.floor((seconds - h * 3600) / 60);
    const sec = seconds - h * 3600 - mi * 60;
    s = `T${TWO[h] as string}:${TWO[mi] as string}:${TWO[sec] as string}${utc ? 'Z' : ''}`;
    timeParts.set(key, s);
  }
  return s;
}

export function formatDate(wall: number): string {
  return datePart(Math.floor(wall / 86_400_000));
}

function formatWall(wall: number, utc: boolean): string {
  const days = Math.floor(wall / 86_400_000);
  return datePart(days) + timePart(Math.floor((wall - days * 86_400_000) / 1000), utc);
}

export function formatLocal(wall: number): string {
  return formatWall(wall, false);
}

export function formatUtc(utc: number): string {
  return formatWall(utc, true);
}
