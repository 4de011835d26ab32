// Time zones as UTC-offset transition tables, so that converting a wall time to UTC is a binary
// search instead of ical.js's per-call VTIMEZONE rule expansion.
//
// Times are handled as "wall ms": the wall-clock fields read as if they were UTC
// (Date.UTC(y, m, d, h, mi, s)). A zone maps UTC instants to offsets and wall times back to instants.
import { unescapeText, type RawComponent } from './content.js';
import { BudgetExhausted, guardedIterator, impossibleMonthDay, StepLimit, type WorkBudget } from './guard.js';
import { ical } from './icaljs.js';
import { findIana, windowsDisplayName } from './windowsNames.js';

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
 * ("W. Europe Standard Time", mapped with CLDR windowsZones via windows-iana), a Windows display name
 * as Exchange writes it ("(UTC-05:00) Eastern Time (US & Canada)", see windowsDisplayName), or a name
 * with an IANA suffix ("/mozilla.org/20050126_1/Europe/Berlin"). Null when none of these.
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
  const display = windowsDisplayName(name);
  return display ? ianaZone(display) : null;
}

/**
 * A UTC offset (RFC 5545 §3.3.14: ±hhmm[ss]); null when it is not one or lies beyond ±18:00, which no
 * zone has ever used (TZOFFSETTO:+9959 would move events by four days).
 */
function parseOffset(value: string | undefined): number | null {
  const m = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec((value ?? '').trim());
  if (!m || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) return null;
  const ms = (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0)) * 1000;
  if (ms > 18 * HOUR) return null;
  return m[1] === '-' ? -ms : ms;
}

const STRICT_DATE_TIME = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;
// VTIMEZONE onsets and RDATEs in the wild sometimes lack seconds or put Z after a bare date.
const LENIENT_DATE_TIME = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?(Z)?$/;

/**
 * An iCalendar DATE or DATE-TIME in basic form (`YYYYMMDD[THHMMSS][Z]`, RFC 5545 §3.3.4-5) as its
 * wall-clock instant in ms, whether it is a DATE, and whether it is UTC; null when it is neither.
 */
export function parseBasicDateTime(
  text: string,
  lenient = false,
): { wall: number; isDate: boolean; utc: boolean } | null {
  const m = (lenient ? LENIENT_DATE_TIME : STRICT_DATE_TIME).exec(lenient ? text.trim() : text);
  if (!m) return null;
  return {
    wall: Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
    ),
    isDate: m[4] === undefined,
    utc: m[7] === 'Z',
  };
}

function parseLocal(value: string): number | null {
  return parseBasicDateTime(value, true)?.wall ?? null;
}

/** Onsets produced per VTIMEZONE rule at most. */
const MAX_ONSETS = 5000;

/**
 * Onsets long before the window are not needed: rules without COUNT start a year before it
 * (Outlook's VTIMEZONEs start in 1601, which would be 400 wasted iterations). Same month, day and
 * time of day as DTSTART, in that earlier year; DTSTART itself when it is later.
 */
function yearBefore(start: number, horizonFrom: number): number {
  const fromYear = new Date(horizonFrom).getUTCFullYear() - 1;
  const sy = new Date(start).getUTCFullYear();
  if (!(fromYear > sy)) return start;
  const moved = new Date(start);
  moved.setUTCFullYear(fromYear);
  return moved.getTime();
}

const WEEKDAY_CODES: Record<string, number> = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };

/**
 * The shape of nearly every real VTIMEZONE rule, "FREQ=YEARLY;BYMONTH=m;BYDAY=nDD" (n = 1..4, or -1
 * for the last; UNTIL, COUNT, WKST allowed), computed directly so that such feeds never load
 * ical.js. It yields what ical.js's iterator does for that shape: the nth (last) weekday DD of month
 * m of each year, at DTSTART's time of day, from `first` on (those before it skipped, not counted),
 * COUNT of them at most. Adds the onsets to `entries` and returns true; false (nothing added) for
 * any other shape, which ical.js then expands.
 */
export function weekdayOfMonthOnsets(
  text: string,
  start: number,
  from: number,
  to: number,
  horizon: number,
  horizonFrom: number,
  entries: { t: number; o: number; from: number }[],
): boolean {
  let month = 0;
  let nth = 0;
  let weekday = -1;
  let count = Infinity;
  let untilUtc = Infinity;
  let yearly = false;
  for (const piece of text.toUpperCase().split(';')) {
    const eq = piece.indexOf('=');
    const key = piece.slice(0, eq);
    const value = piece.slice(eq + 1);
    if (eq <= 0) return false;
    if (key === 'FREQ') {
      if (value !== 'YEARLY') return false;
      yearly = true;
    } else if (key === 'INTERVAL') {
      if (value !== '1') return false;
    } else if (key === 'BYMONTH') {
      if (!/^(?:[1-9]|1[0-2])$/.test(value)) return false;
      month = Number(value);
    } else if (key === 'BYDAY') {
      const m = /^(\+?[1-4]|-1)(SU|MO|TU|WE|TH|FR|SA)$/.exec(value);
      if (!m) return false;
      nth = Number(m[1]);
      weekday = WEEKDAY_CODES[m[2] as string] as number;
    } else if (key === 'COUNT') {
      if (!/^[1-9]\d{0,3}$/.test(value)) return false;
      count = Number(value);
    } else if (key === 'UNTIL') {
      const until = parseBasicDateTime(value);
      if (!until) return false;
      // ical.js reads UNTIL with Z as UTC, without it (or as a DATE) in TZOFFSETFROM local time.
      untilUtc = until.utc ? until.wall : until.wall - from;
    } else if (key !== 'WKST' || !(value in WEEKDAY_CODES)) return false;
  }
  if (!yearly || month === 0 || weekday < 0) return false;
  const first = count === Infinity ? yearBefore(start, horizonFrom) : start;
  const firstDay = Math.floor(first / DAY);
  const tod = first - firstDay * DAY;
  let year = new Date(first).getUTCFullYear();
  for (let n = 0; n < MAX_ONSETS && n < count; year++) {
    let day: number;
    if (nth > 0) {
      const d1 = Date.UTC(year, month - 1, 1) / DAY;
      day = d1 + ((((weekday - (d1 + 4)) % 7) + 7) % 7) + (nth - 1) * 7;
    } else {
      const dl = Date.UTC(year, month, 0) / DAY;
      day = dl - ((((dl + 4 - weekday) % 7) + 7) % 7);
    }
    const wall = day * DAY + tod;
    if (wall < first) continue;
    const u = wall - from;
    if (u > untilUtc || u > horizon) break;
    entries.push({ t: u, o: to, from });
    n++;
  }
  return true;
}

/** What reading a VTIMEZONE may use and report: the file's work budget, and a warning sink. */
export interface ZoneGuard {
  budget: WorkBudget;
  /** Candidate checks allowed per onset rule. */
  maxChecks: number;
  warn: (line: number, reason: string) => void;
}

const UNGUARDED: ZoneGuard = { budget: { left: Infinity }, maxChecks: 200_000, warn: () => undefined };

/**
 * Zone from a VTIMEZONE (RFC 5545 §3.6.5): each STANDARD/DAYLIGHT onset (DTSTART, RRULE, RDATE, in
 * local time of TZOFFSETFROM) becomes a transition to TZOFFSETTO. Onsets are expanded up to
 * `horizon` (UTC ms); later instants keep the last offset. Yearly rules start about a year before
 * `horizonFrom`. Null when the component is unusable. An unusable STANDARD/DAYLIGHT, or an onset rule
 * cut short by its step cap, is warned about through `guard`; BudgetExhausted passes through.
 */
export function vtimezoneZone(
  comp: RawComponent,
  horizon: number,
  horizonFrom = -Infinity,
  guard: ZoneGuard = UNGUARDED,
): Zone | null {
  const rawTzid = comp.props.find((p) => p.name === 'TZID')?.value;
  const tzid = rawTzid === undefined ? '' : unescapeText(rawTzid).trim();
  if (!tzid) return null;
  const where = `VTIMEZONE "${tzid}" (line ${comp.line})`;
  const entries: { t: number; o: number; from: number }[] = [];
  for (const sub of comp.children) {
    if (sub.name !== 'STANDARD' && sub.name !== 'DAYLIGHT') continue;
    const fromText = sub.props.find((p) => p.name === 'TZOFFSETFROM')?.value;
    const toText = sub.props.find((p) => p.name === 'TZOFFSETTO')?.value;
    const from = parseOffset(fromText);
    const to = parseOffset(toText);
    const dtstartText = sub.props.find((p) => p.name === 'DTSTART')?.value;
    const start = dtstartText ? parseLocal(dtstartText) : null;
    if (from === null || to === null || start === null) {
      const what =
        from === null
          ? `TZOFFSETFROM "${fromText ?? ''}"`
          : to === null
            ? `TZOFFSETTO "${toText ?? ''}"`
            : `DTSTART "${dtstartText ?? ''}"`;
      guard.warn(
        sub.line,
        `${where}: its ${sub.name} on line ${sub.line} was ignored: ${what} is not ${
          start === null && from !== null && to !== null ? 'a date-time' : 'a UTC offset within ±18:00'
        }`,
      );
      continue;
    }
    entries.push({ t: start - from, o: to, from });
    for (const p of sub.props) {
      if (p.name === 'RDATE') {
        for (const v of p.value.split(',')) {
          const w = parseLocal(v.split('/')[0] ?? '');
          if (w !== null) entries.push({ t: v.trim().endsWith('Z') ? w : w - from, o: to, from });
        }
      } else if (p.name === 'RRULE') {
        const text = p.value.trim();
        if (weekdayOfMonthOnsets(text, start, from, to, horizon, horizonFrom, entries)) continue;
        try {
          const ICAL = ical();
          const rule = ICAL.Recur.fromString(text);
          const never = impossibleMonthDay(rule.parts.BYMONTH?.join(','), rule.parts.BYMONTHDAY?.join(','));
          if (never) {
            guard.warn(
              p.line,
              `${where}: RRULE "${text}" on line ${p.line} can never match (${never}); only its DTSTART onset is used`,
            );
            continue;
          }
          let untilUtc = Infinity;
          if (rule.until) {
            const u = rule.until;
            const w = Date.UTC(u.year, u.month - 1, u.day, u.hour, u.minute, u.second);
            untilUtc = u.zone === ICAL.Timezone.utcTimezone ? w : w - from;
            rule.until = null;
          }
          // With INTERVAL=1 and no COUNT the onsets do not depend on how far back the rule starts (a
          // WEEKLY rule without BYDAY takes DTSTART's weekday, which another year would change).
          const first =
            !rule.count && rule.interval === 1 && (rule.freq !== 'WEEKLY' || rule.parts.BYDAY)
              ? yearBefore(start, horizonFrom)
              : start;
          const d = new Date(first);
          const it = guardedIterator(
            ICAL,
            rule,
            ICAL.Time.fromData({
              year: d.getUTCFullYear(),
              month: d.getUTCMonth() + 1,
              day: d.getUTCDate(),
              hour: d.getUTCHours(),
              minute: d.getUTCMinutes(),
              second: d.getUTCSeconds(),
              isDate: false,
            }),
            { maxChecks: guard.maxChecks, budget: guard.budget, endWall: Math.min(untilUtc, horizon) + from },
          );
          let n = 0;
          for (; n < MAX_ONSETS; n++) {
            const t = it.next();
            if (!t) break;
            const u = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - from;
            if (!(u <= untilUtc && u <= horizon)) break;
            entries.push({ t: u, o: to, from });
          }
          if (n === MAX_ONSETS)
            guard.warn(
              p.line,
              `${where}: RRULE "${text}" on line ${p.line} gives more than ${MAX_ONSETS} onsets; later ones are ignored`,
            );
        } catch (e) {
          if (e instanceof BudgetExhausted) throw e;
          // A broken or endless transition rule leaves the onsets found so far; the zone stays usable.
          guard.warn(
            p.line,
            e instanceof StepLimit
              ? `${where}: RRULE "${text}" on line ${p.line} stopped after ${guard.maxChecks} steps without reaching ${new Date(horizon).toISOString().slice(0, 10)}; later onsets are ignored`
              : `${where}: RRULE "${text}" on line ${p.line} is invalid (${e instanceof Error ? e.message : String(e)}); only its DTSTART onset is used`,
          );
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
