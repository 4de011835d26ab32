// Time zones as UTC-offset transition tables, so that converting a wall time to UTC is a binary
// search instead of ical.js's per-call VTIMEZONE rule expansion.
//
// Times are handled as "wall ms": the wall-clock fields read as if they were UTC
// (Date.UTC(y, m, d, h, mi, s)). A zone maps UTC instants to offsets and wall times back to instants.
import ICAL from 'ical.js';
import { createRequire } from 'node:module';
import type { RawComponent } from './content.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Zone {
  readonly id: string;
  /** UTC offset in ms in effect at the UTC instant. */
  offsetAt(utc: number): number;
}

/**
 * Wall time in `zone` to a UTC instant. RFC 5545 §3.3.5: a wall time that occurs twice (the hour
 * repeated when clocks go back) means the first one; a wall time that does not exist (skipped when
 * clocks go forward) is read with the offset in effect before the gap (02:30 becomes 03:30 DST).
 */
export function wallToUtc(zone: Zone, wall: number): number {
  const before = zone.offsetAt(wall - DAY);
  const after = zone.offsetAt(wall + DAY);
  // Fast path: the same offset a day before and after, so no transition near this wall time (zones
  // do not change offset twice within two days).
  if (before === after) return wall - before;
  const u1 = wall - before;
  const u2 = wall - after;
  const ok1 = zone.offsetAt(u1) === before;
  const ok2 = zone.offsetAt(u2) === after;
  if (ok1 && ok2) return Math.min(u1, u2);
  if (ok1) return u1;
  if (ok2) return u2;
  return u1;
}

export function utcToWall(zone: Zone, utc: number): number {
  return utc + zone.offsetAt(utc);
}

export const UTC_ZONE: Zone = { id: 'UTC', offsetAt: () => 0 };

/** Zone from a sorted transition table: offsets[i] applies from times[i] (inclusive) on. */
class TableZone implements Zone {
  constructor(
    readonly id: string,
    private readonly initial: number,
    private readonly times: number[],
    private readonly offsets: number[],
  ) {}
  offsetAt(utc: number): number {
    const t = this.times;
    let lo = 0;
    let hi = t.length - 1;
    if (hi < 0 || utc < (t[0] as number)) return this.initial;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((t[mid] as number) <= utc) lo = mid;
      else hi = mid - 1;
    }
    return this.offsets[lo] as number;
  }
}

/**
 * IANA zone from the runtime's Intl data (no VTIMEZONE in the file). Offsets are sampled daily and
 * transitions located to the second by bisection, once per zone and year, then cached.
 */
class IntlZone implements Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly years = new Map<number, { start: number; times: number[]; offsets: number[] }>();
  private lastFrom = 0;
  private lastTo = -1;
  private lastData: { start: number; times: number[]; offsets: number[] } = {
    start: 0,
    times: [],
    offsets: [],
  };
  constructor(readonly id: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: id,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  }
  private rawOffset(utc: number): number {
    const f: Record<string, number> = {};
    let bc = false;
    for (const p of this.fmt.formatToParts(utc)) {
      if (p.type === 'era') bc = p.value.startsWith('B');
      else if (p.type !== 'literal') f[p.type] = Number(p.value);
    }
    const year = bc ? 1 - (f.year ?? 0) : (f.year ?? 0);
    const d = new Date(0);
    d.setUTCFullYear(year, (f.month ?? 1) - 1, f.day ?? 1);
    d.setUTCHours(f.hour ?? 0, f.minute ?? 0, f.second ?? 0, 0);
    const s = Math.floor(utc / 1000) * 1000;
    return d.getTime() - s;
  }
  private year(y: number): { start: number; times: number[]; offsets: number[] } {
    let data = this.years.get(y);
    if (data) return data;
    const from = Date.UTC(y, 0, 1);
    const to = Date.UTC(y + 1, 0, 1);
    const start = this.rawOffset(from);
    const times: number[] = [];
    const offsets: number[] = [];
    let prevT = from;
    let prevO = start;
    // Weekly samples, then bisection: real zones never change offset and back within a week.
    for (let t = Math.min(from + 7 * DAY, to); t <= to; t = t === to ? to + 1 : Math.min(t + 7 * DAY, to)) {
      const o = this.rawOffset(t);
      if (o !== prevO) {
        // Bisect (prevT, t] down to the second where the offset changes.
        let lo = prevT;
        let hi = t;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (this.rawOffset(mid) === prevO) lo = mid;
          else hi = mid;
        }
        if (hi < to) {
          times.push(hi);
          offsets.push(o);
        }
        prevO = o;
      }
      prevT = t;
    }
    data = { start, times, offsets };
    this.years.set(y, data);
    return data;
  }
  offsetAt(utc: number): number {
    let data = this.lastData;
    if (utc < this.lastFrom || utc >= this.lastTo) {
      const y = new Date(utc).getUTCFullYear();
      data = this.year(y);
      this.lastData = data;
      this.lastFrom = Date.UTC(y, 0, 1);
      this.lastTo = Date.UTC(y + 1, 0, 1);
    }
    let o = data.start;
    for (let i = 0; i < data.times.length; i++) {
      if ((data.times[i] as number) <= utc) o = data.offsets[i] as number;
      else break;
    }
    return o;
  }
}

// windows-iana (CLDR windowsZones) is loaded on first use of a Windows zone name: its tables cost
// ~9 MB of memory, which feeds with IANA TZIDs or their own VTIMEZONEs never need.
let windowsToIana: ((name: string) => string[]) | undefined;
function findIana(name: string): string[] {
  windowsToIana ??= (createRequire(import.meta.url)('windows-iana') as typeof import('windows-iana'))
    .findIana;
  return windowsToIana(name);
}

const intlCache = new Map<string, Zone | null>();

/** An IANA zone known to this runtime (Intl), or null. Cached per name for the process. */
export function ianaZone(name: string): Zone | null {
  const cached = intlCache.get(name);
  if (cached !== undefined) return cached;
  let zone: Zone | null = null;
  try {
    const canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    zone =
      canonical === 'UTC' || canonical === 'Etc/UTC' ? { ...UTC_ZONE, id: name } : new IntlZone(canonical);
  } catch {
    zone = null;
  }
  intlCache.set(name, zone);
  return zone;
}

/**
 * A zone name as found in feeds without a VTIMEZONE: IANA ("Europe/Berlin"), Windows
 * ("W. Europe Standard Time", mapped with CLDR windowsZones via windows-iana), or a name with an
 * IANA suffix ("/mozilla.org/20050126_1/Europe/Berlin"). Null when none of these.
 */
export function resolveZoneName(raw: string): Zone | null {
  const name = raw.trim().replace(/^"|"$/g, '');
  if (!name) return null;
  if (/^(Z|UTC|GMT|Etc\/UTC|Etc\/GMT)$/i.test(name)) return UTC_ZONE;
  const direct = ianaZone(name);
  if (direct) return direct;
  const windows = findIana(name);
  if (windows.length > 0) {
    const zone = ianaZone(windows[0] as string);
    if (zone) return zone;
  }
  const suffix = /([A-Za-z_]+\/[A-Za-z_+-]+(?:\/[A-Za-z_+-]+)?)$/.exec(name);
  if (suffix?.[1]) return ianaZone(suffix[1]);
  return null;
}

function parseOffset(value: string | undefined): number | null {
  const m = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec((value ?? '').trim());
  if (!m) return null;
  const ms = (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0)) * 1000;
  return m[1] === '-' ? -ms : ms;
}

function parseLocal(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(value.trim());
  if (!m) return null;
  return Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
}

/**
 * Zone from a VTIMEZONE (RFC 5545 §3.6.5): each STANDARD/DAYLIGHT onset (DTSTART, RRULE, RDATE, in
 * local time of TZOFFSETFROM) becomes a transition to TZOFFSETTO. Onsets are expanded up to
 * `horizon` (UTC ms); later instants keep the last offset. Yearly rules start about a year before
 * `horizonFrom`. Null when the component is unusable.
 */
export function vtimezoneZone(comp: RawComponent, horizon: number, horizonFrom = -Infinity): Zone | null {
  const tzid = comp.props.find((p) => p.name === 'TZID')?.value.trim();
  if (!tzid) return null;
  const entries: { t: number; o: number; from: number }[] = [];
  for (const sub of comp.children) {
    if (sub.name !== 'STANDARD' && sub.name !== 'DAYLIGHT') continue;
    const from = parseOffset(sub.props.find((p) => p.name === 'TZOFFSETFROM')?.value);
    const to = parseOffset(sub.props.find((p) => p.name === 'TZOFFSETTO')?.value);
    const dtstartText = sub.props.find((p) => p.name === 'DTSTART')?.value;
    const start = dtstartText ? parseLocal(dtstartText) : null;
    if (from === null || to === null || start === null) continue;
    entries.push({ t: start - from, o: to, from });
    for (const p of sub.props) {
      if (p.name === 'RDATE') {
        for (const v of p.value.split(',')) {
          const w = parseLocal(v.split('/')[0] ?? '');
          if (w !== null) entries.push({ t: v.trim().endsWith('Z') ? w : w - from, o: to, from });
        }
      } else if (p.name === 'RRULE') {
        try {
          const rule = ICAL.Recur.fromString(p.value.trim());
          let untilUtc = Infinity;
          if (rule.until) {
            const u = rule.until;
            const w = Date.UTC(u.year, u.month - 1, u.day, u.hour, u.minute, u.second);
            untilUtc = u.zone === ICAL.Timezone.utcTimezone ? w : w - from;
            rule.until = null;
          }
          // Onsets long before the window are not needed: start yearly rules without COUNT a year
          // before it (Outlook's VTIMEZONEs start in 1601, which would be 400 wasted iterations).
          let first = start;
          if (rule.freq === 'YEARLY' && !rule.count && rule.interval === 1) {
            const fromYear = new Date(horizonFrom).getUTCFullYear() - 1;
            const sy = new Date(start).getUTCFullYear();
            if (fromYear > sy) {
              const moved = new Date(start);
              moved.setUTCFullYear(fromYear);
              first = moved.getTime();
            }
          }
          const d = new Date(first);
          const it = rule.iterator(
            ICAL.Time.fromData({
              year: d.getUTCFullYear(),
              month: d.getUTCMonth() + 1,
              day: d.getUTCDate(),
              hour: d.getUTCHours(),
              minute: d.getUTCMinutes(),
              second: d.getUTCSeconds(),
              isDate: false,
            }),
          );
          for (let n = 0; n < 5000; n++) {
            const t = it.next();
            if (!t) break;
            const u = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - from;
            if (u > untilUtc || u > horizon) break;
            entries.push({ t: u, o: to, from });
          }
        } catch {
          // A broken transition rule leaves only the DTSTART onset; the zone stays usable.
        }
      }
    }
  }
  if (entries.length === 0) return null;
  entries.sort((a, b) => a.t - b.t);
  const times: number[] = [];
  const offsets: number[] = [];
  for (const e of entries) {
    if (times.length && times[times.length - 1] === e.t) {
      offsets[offsets.length - 1] = e.o;
    } else {
      times.push(e.t);
      offsets.push(e.o);
    }
  }
  return new TableZone(tzid, (entries[0] as { from: number }).from, times, offsets);
}

export { HOUR, DAY };
