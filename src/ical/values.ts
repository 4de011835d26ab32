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
  // Nearly every value is in the basic form YYYYMMDD or YYYYMMDDTHHMMSS[Z]: read those by char code
  // (no regex match array, no substrings); anything else takes the regex, which also trims.
  const n = text.length;
  let y = -1;
  let mo = -1;
  let d = -1;
  let h = -1;
  let mi = -1;
  let s = -1;
  let utc = false;
  if (n === 8 || ((n === 15 || n === 16) && (text.charCodeAt(8) | 32) === 116) /* T or t */) {
    y = digits(text, 0, 4);
    mo = digits(text, 4, 2);
    d = digits(text, 6, 2);
    if (n > 8) {
      h = digits(text, 9, 2);
      mi = digits(text, 11, 2);
      s = digits(text, 13, 2);
      if (n === 16) {
        if ((text.charCodeAt(15) | 32) !== 122 /* Z or z */) y = -1;
        utc = true;
      }
      if (h < 0 || mi < 0 || s < 0) y = -1;
    }
  }
  if (y < 0 || mo < 0 || d < 0) {
    const m = DATE_TIME.exec(text.trim());
    if (!m) return null;
    y = Number(m[1]);
    mo = Number(m[2]);
    d = Number(m[3]);
    h = m[4] === undefined ? -1 : Number(m[4]);
    mi = Number(m[5]);
    s = Number(m[6] ?? 0);
    utc = m[7] !== undefined;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  // A value's own shape wins over a wrong or missing VALUE parameter (EXDATE:20200101 is a date).
  if (h < 0 || asDate) return { kind: 'date', wall: Date.UTC(y, mo - 1, d) };
  if (h > 24 || mi > 59 || s > 60) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  if (utc) return { kind: 'utc', wall };
  if (zone) return { kind: 'zoned', wall, zone };
  return { kind: 'floating', wall };
}

/** The decimal number in text[at, at + len), or -1 unless all of it is ASCII digits. */
function digits(text: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
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
