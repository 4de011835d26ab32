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

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function formatDate(wall: number): string {
  const d = new Date(wall);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function formatLocal(wall: number): string {
  const d = new Date(wall);
  return `${formatDate(wall)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatUtc(utc: number): string {
  return `${formatLocal(utc)}Z`;
}
