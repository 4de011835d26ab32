// expandCalendar: iCalendar text -> the occurrences (sessions) overlapping a window. Pure: no I/O,
// no clock, no environment.
import type {
  ExpandResult,
  ExpandWarning,
  ExpandWindow,
  Occurrence,
  OccurrenceStatus,
  Person,
} from '../core/occurrence.js';
import { parseComponents, unescapeText, type ContentLine, type RawComponent } from './content.js';
import { CalendarError } from './errors.js';
import { expandRule, parseRule, RuleError, type ParsedRule } from './recur.js';
import {
  formatDate,
  formatLocal,
  formatUtc,
  parseDuration,
  parseTimeText,
  type DurationValue,
  type TimeValue,
} from './values.js';
import {
  DAY,
  ianaZone,
  resolveZoneName,
  UTC_ZONE,
  utcToWall,
  vtimezoneZone,
  wallToUtc,
  type Zone,
} from './zones.js';

export interface ExpandOptions {
  /** IANA or Windows zone for floating times (and all-day dates when comparing with the window). */
  defaultTimeZone?: string;
  /** Most occurrences in the window before the file is refused (default 200,000). */
  maxOccurrences?: number;
  /** Most VEVENTs in the file (default 100,000). */
  maxEvents?: number;
  /** Most characters in the file (default 50,000,000). */
  maxBytes?: number;
  /** Iterator steps allowed per complex recurrence rule before it is cut with a warning (default 100,000). */
  maxStepsPerRule?: number;
}

type Frame = { kind: 'date' } | { kind: 'floating' } | { kind: 'zone'; zone: Zone };

interface Duration {
  /** Nominal days, added in wall time. */
  days: number;
  /** Exact milliseconds, added to the instant. */
  ms: number;
}

interface EventData {
  uid: string;
  line: number;
  order: number;
  sequence: number;
  start: TimeValue;
  frame: Frame;
  startWall: number;
  duration: Duration;
  recurrenceId: TimeValue | null;
  thisAndFuture: boolean;
  rrules: ParsedRule[];
  rdates: { value: TimeValue; end?: TimeValue; duration?: DurationValue }[];
  exdates: TimeValue[];
  summary: string;
  description: string;
  location: string;
  organizer: Person | null;
  attendees: Person[];
  status: OccurrenceStatus;
}

class EventProblem extends Error {}

interface Context {
  window: ExpandWindow;
  warnings: ExpandWarning[];
  vtimezones: Map<string, RawComponent>;
  zones: Map<string, Zone | null>;
  horizon: number;
  xwr: Zone | null;
  defaultZone: Zone | null;
  /** Zone used to place floating times and all-day dates on the UTC axis for the window test. */
  axisZone: Zone;
  maxOccurrences: number;
  maxSteps: number;
  count: number;
  out: Occurrence[];
  /** Distinct UTC instants met while emitting (starts, and ends in zones), by id. */
  instants: number[];
  /** Id of each instant in `instants`. */
  instantIds: Map<number, number>;
  /** UTC string of each instant ('' until first needed): occurrences at one instant share it. */
  utcText: string[];
  /** Instant id of the start of out[i], for sorting. */
  startIds: number[];
  /** Parsed RRULEs by text (parseRule throws RuleError for bad ones: those are not cached). */
  rules: Map<string, ParsedRule>;
}

const DEFAULTS = {
  maxOccurrences: 200_000,
  maxEvents: 100_000,
  maxBytes: 50_000_000,
  maxStepsPerRule: 100_000,
};

/**
 * The zone for floating times: the `defaultTimeZone` option, validated. Throws CalendarError
 * 'unknownTimeZone' when the name is neither IANA nor Windows.
 */
export function resolveDefaultTimeZone(name: string | undefined): Zone | null {
  if (name === undefined || name === '') return null;
  const zone = resolveZoneName(name);
  if (!zone)
    throw new CalendarError(
      'unknownTimeZone',
      `unknown time zone '${name}' (expected an IANA name such as Europe/Berlin or a Windows name such as W. Europe Standard Time)`,
    );
  return zone;
}

export function expandCalendar(
  text: string,
  window: ExpandWindow,
  options: ExpandOptions = {},
): ExpandResult {
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  if (!(Number.isFinite(window.from) && Number.isFinite(window.to) && window.from < window.to)) {
    throw new CalendarError('badWindow', 'the window is empty: its start must be before its end');
  }
  if (text.length > maxBytes)
    throw new CalendarError(
      'tooLarge',
      `the calendar is too large (${text.length} characters; the limit is ${maxBytes})`,
    );
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = /^\s*([^\r\n]*)/.exec(body)?.[1]?.trim() ?? '';
  if (!/^BEGIN:VCALENDAR$/i.test(firstLine)) {
    throw new CalendarError(
      'notICalendar',
      `not an iCalendar file: it should start with BEGIN:VCALENDAR but starts with "${firstLine.slice(0, 40)}"`,
    );
  }
  const defaultZone = resolveDefaultTimeZone(options.defaultTimeZone);
  const maxEvents = options.maxEvents ?? DEFAULTS.maxEvents;
  const ctx: Context = {
    window,
    warnings: [],
    vtimezones: findVtimezones(body),
    zones: new Map(),
    horizon: window.to + 800 * DAY,
    xwr: null,
    defaultZone,
    axisZone: defaultZone ?? UTC_ZONE,
    maxOccurrences: options.maxOccurrences ?? DEFAULTS.maxOccurrences,
    maxSteps: options.maxStepsPerRule ?? DEFAULTS.maxStepsPerRule,
    count: 0,
    out: [],
    instants: [],
    instantIds: new Map(),
    utcText: [],
    startIds: [],
    rules: new Map(),
  };
  // Events are read as soon as each VEVENT ends and its content lines dropped (streaming keeps the
  // peak memory of large feeds low); they are grouped by UID and expanded once the file is read.
  const groups = new Map<string, EventData[]>();
  let order = 0;
  let calendar: RawComponent | null = null;
  let calendarIndex = 0;
  const roots = parseComponents(body, (c, cal) => {
    if (c.name !== 'VEVENT' || cal.name !== 'VCALENDAR') return c.name !== 'VTIMEZONE';
    if (cal !== calendar) {
      calendar = cal;
      calendarIndex++;
      ctx.xwr = feedTimeZone(cal, ctx);
    }
    if (++order > maxEvents)
      throw new CalendarError('tooLarge', `the calendar has too many events (more than ${maxEvents})`);
    const uid = c.props.find((p) => p.name === 'UID')?.value.trim() ?? '';
    try {
      const ev = readEvent(c, uid, order, ctx);
      // Events without UID cannot be related to each other: each stands alone.
      const key = uid === '' ? `\u0000${order}` : `${calendarIndex}\u0000${uid}`;
      const list = groups.get(key);
      if (list) list.push(ev);
      else groups.set(key, [ev]);
    } catch (e) {
      if (!(e instanceof EventProblem)) throw e;
      ctx.warnings.push({ uid, line: c.line, reason: `event skipped: ${e.message}` });
    }
    return true;
  });
  if (!roots.some((c) => c.name === 'VCALENDAR'))
    throw new CalendarError('notICalendar', 'not an iCalendar file: no VCALENDAR component');
  for (const list of groups.values()) expandGroup(list, ctx);
  return { occurrences: sortByStart(ctx), warnings: ctx.warnings };
}

/**
 * By start; ties keep file order (emission order), which is deterministic. A timetable has few
 * distinct start instants: those are sorted (by comparator, but only once each), then occurrences
 * are placed by a stable counting sort on their instant's rank, in small-integer arithmetic.
 */
function sortByStart(ctx: Context): Occurrence[] {
  const { out, startIds, instants } = ctx;
  const k = instants.length;
  const n = out.length;
  const byTime = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => (instants[a] as number) - (instants[b] as number),
  );
  const rank = new Int32Array(k);
  for (let r = 0; r < k; r++) rank[byTime[r] as number] = r;
  // next[r]: where the next occurrence of rank r goes (counts, then running sums).
  const next = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) {
    const r = rank[startIds[i] as number] as number;
    next[r + 1] = (next[r + 1] as number) + 1;
  }
  for (let r = 0; r < k; r++) next[r + 1] = (next[r + 1] as number) + (next[r] as number);
  const sorted = out.slice();
  for (let i = 0; i < n; i++) {
    const r = rank[startIds[i] as number] as number;
    const at = next[r] as number;
    next[r] = at + 1;
    sorted[at] = out[i] as Occurrence;
  }
  return sorted;
}

/** Small integer id of a UTC instant within this call (see Context.instants). */
function instantId(ctx: Context, utc: number): number {
  let id = ctx.instantIds.get(utc);
  if (id === undefined) {
    id = ctx.instants.length;
    ctx.instants.push(utc);
    ctx.utcText.push('');
    ctx.instantIds.set(utc, id);
  }
  return id;
}

/** formatUtc of instant `id`, once per instant and call. */
function utcText(ctx: Context, id: number, utc: number): string {
  let text = ctx.utcText[id] as string;
  if (text === '') {
    text = formatUtc(utc);
    ctx.utcText[id] = text;
  }
  return text;
}

/** VTIMEZONEs of the whole file by TZID, found first so that events can be read as they stream by. */
function findVtimezones(text: string): Map<string, RawComponent> {
  const map = new Map<string, RawComponent>();
  const begin = /^BEGIN:VTIMEZONE[ \t]*$/gim;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const end = /^END:VTIMEZONE[ \t]*$/gim;
    end.lastIndex = m.index;
    const e = end.exec(text);
    const stop = e ? e.index + e[0].length : text.length;
    for (const comp of parseComponents(text.slice(m.index, stop))) {
      const tzid = comp.props.find((p) => p.name === 'TZID')?.value.trim();
      if (comp.name === 'VTIMEZONE' && tzid) map.set(tzid, comp);
    }
    begin.lastIndex = stop;
  }
  return map;
}

/**
 * X-WR-TIMEZONE (a Google Calendar extension): the calendar's zone. Google means that date-times in
 * UTC and floating date-times of the feed are shown in that zone, so recurring events keep their
 * local time across DST. Null when absent; unknown names are warned about and ignored.
 */
export function feedTimeZone(cal: RawComponent, ctx?: Context): Zone | null {
  const name = cal.props.find((p) => p.name === 'X-WR-TIMEZONE')?.value.trim();
  if (!name) return null;
  const zone = ctx ? zoneFor(name, ctx, cal.line) : resolveZoneName(name);
  return zone;
}

function zoneFor(tzid: string, ctx: Context, line: number): Zone | null {
  const cached = ctx.zones.get(tzid);
  if (cached !== undefined) return cached;
  const vtz = ctx.vtimezones.get(tzid);
  // A TZID that is an IANA name uses the runtime's tz database even when the file has a VTIMEZONE of
  // that name: feeds often embed truncated VTIMEZONEs (only the transitions around the export date,
  // so earlier sessions get the wrong offset), and the tz database is also more current. Other TZIDs
  // (Windows names, custom ids) use their VTIMEZONE as RFC 5545 §3.2.19 says, then name mapping.
  let zone = ianaZone(tzid);
  if (!zone && vtz) zone = vtimezoneZone(vtz, ctx.horizon, ctx.window.from - 400 * DAY);
  zone ??= resolveZoneName(tzid);
  if (!zone) {
    ctx.warnings.push({
      uid: '',
      line,
      reason: `unknown time zone '${tzid}' (no VTIMEZONE, not an IANA or Windows name): its times are read as floating`,
    });
  }
  ctx.zones.set(tzid, zone);
  return zone;
}

function timeValue(prop: ContentLine, ctx: Context, text = prop.value): TimeValue {
  const tzid = prop.params.TZID;
  const zone = tzid ? zoneFor(tzid, ctx, prop.line) : null;
  const v = parseTimeText(text, zone, (prop.params.VALUE ?? '').toUpperCase() === 'DATE');
  if (!v)
    throw new EventProblem(`${prop.name} value "${text}" on line ${prop.line} is not a date or date-time`);
  return localize(v, ctx);
}

function localize(v: TimeValue, ctx: Context): TimeValue {
  if (ctx.xwr) {
    if (v.kind === 'utc') return { kind: 'zoned', wall: utcToWall(ctx.xwr, v.wall), zone: ctx.xwr };
    if (v.kind === 'floating') return { kind: 'zoned', wall: v.wall, zone: ctx.xwr };
  }
  if (ctx.defaultZone && v.kind === 'floating') return { kind: 'zoned', wall: v.wall, zone: ctx.defaultZone };
  return v;
}

/** How precisely a value is placed in time: date < floating < UTC or zoned. */
const rank = (v: TimeValue): number => (v.kind === 'date' ? 0 : v.kind === 'floating' ? 1 : 2);

function frameOf(v: TimeValue): Frame {
  if (v.kind === 'date') return { kind: 'date' };
  if (v.kind === 'floating') return { kind: 'floating' };
  if (v.kind === 'utc') return { kind: 'zone', zone: UTC_ZONE };
  return { kind: 'zone', zone: v.zone };
}

/** The value as wall time of `frame` (dates at midnight). */
function wallIn(v: TimeValue, frame: Frame): number {
  if (frame.kind === 'date') return Math.floor(v.wall / DAY) * DAY;
  if (frame.kind === 'floating') return v.wall;
  const zone = frame.zone;
  if (v.kind === 'zoned') return v.zone === zone ? v.wall : utcToWall(zone, wallToUtc(v.zone, v.wall));
  if (v.kind === 'utc') return zone === UTC_ZONE ? v.wall : utcToWall(zone, v.wall);
  return v.wall;
}

function instant(frame: Frame, wall: number, ctx: Context): number {
  return frame.kind === 'zone' ? wallToUtc(frame.zone, wall) : wallToUtc(ctx.axisZone, wall);
}

function format(frame: Frame, wall: number): string {
  if (frame.kind === 'date') return formatDate(wall);
  if (frame.kind === 'floating') return formatLocal(wall);
  return formatUtc(wallToUtc(frame.zone, wall));
}

function person(prop: ContentLine): Person {
  const v = prop.value.trim();
  const addr = v.startsWith('mailto:') || v.startsWith('MAILTO:') ? v.slice(7) : v.replace(/^mailto:/i, '');
  const email = addr.includes('@') ? addr.toLowerCase() : '';
  const cn = prop.params.CN?.trim();
  return cn ? { email, name: cn } : { email };
}

function readEvent(c: RawComponent, uid: string, order: number, ctx: Context): EventData {
  // One pass to find the properties (the first of each, as a lookup per name would), then the same
  // steps in the same order as always, so that warnings keep their order.
  let startProp: ContentLine | undefined;
  let endProp: ContentLine | undefined;
  let ridProp: ContentLine | undefined;
  let durProp: ContentLine | undefined;
  let statusProp: ContentLine | undefined;
  let seqProp: ContentLine | undefined;
  let summaryProp: ContentLine | undefined;
  let descriptionProp: ContentLine | undefined;
  let locationProp: ContentLine | undefined;
  let org: ContentLine | undefined;
  let rules = false;
  let attendees: Person[] | undefined;
  const props = c.props;
  // Indexed loops here and in the hot paths below: in code not yet optimized, for-of allocates an
  // iterator and a result object per step, and most of a single expansion runs in such code.
  for (let i = 0; i < props.length; i++) {
    const p = props[i] as ContentLine;
    switch (p.name) {
      case 'DTSTART':
        startProp ??= p;
        break;
      case 'DTEND':
        endProp ??= p;
        break;
      case 'RECURRENCE-ID':
        ridProp ??= p;
        break;
      case 'DURATION':
        durProp ??= p;
        break;
      case 'STATUS':
        statusProp ??= p;
        break;
      case 'SEQUENCE':
        seqProp ??= p;
        break;
      case 'SUMMARY':
        summaryProp ??= p;
        break;
      case 'DESCRIPTION':
        descriptionProp ??= p;
        break;
      case 'LOCATION':
        locationProp ??= p;
        break;
      case 'ORGANIZER':
        org ??= p;
        break;
      case 'RRULE':
      case 'RDATE':
      case 'EXDATE':
        rules = true;
        break;
    }
  }
  if (!startProp) throw new EventProblem('it has no DTSTART');
  for (const line of c.badLines)
    ctx.warnings.push({ uid, line, reason: `line ${line} is not a valid content line and was ignored` });
  let start = timeValue(startProp, ctx);
  const end = endProp ? timeValue(endProp, ctx) : null;
  // Mixed value types (RFC 5545 §3.8.2.2 wants DTEND of the same type as DTSTART): a DATE start
  // with a DATE-TIME end, or a floating start with a zoned end. The end is the more precise, so
  // read the start (midnight for a date) in the end's terms.
  if (end && end.kind !== 'date' && rank(start) < rank(end)) {
    start =
      end.kind === 'zoned'
        ? { kind: 'zoned', wall: start.wall, zone: end.zone }
        : { kind: end.kind, wall: start.wall };
  }
  const frame = frameOf(start);
  const startWall = wallIn(start, frame);
  const duration = readDuration(durProp, frame, startWall, end, ctx);

  const recurrenceId = ridProp ? timeValue(ridProp, ctx) : null;
  const rrules: ParsedRule[] = [];
  const rdates: EventData['rdates'] = [];
  const exdates: TimeValue[] = [];
  if (rules)
    for (const p of c.props) {
      if (p.name === 'RRULE') {
        if (p.value.trim() === '') {
          ctx.warnings.push({ uid, line: c.line, reason: `empty RRULE on line ${p.line} ignored` });
          continue;
        }
        try {
          const rule = ruleFor(p.value, ctx);
          if (rule.count !== null && rule.count < 1) {
            // COUNT=0 or negative: no repetitions; DTSTART is still the event's one instance.
            ctx.warnings.push({
              uid,
              line: c.line,
              reason: `RRULE on line ${p.line} has COUNT=${rule.count}; only DTSTART is kept`,
            });
            rrules.push({ ...rule, count: 1, parts: new Map(rule.parts).set('COUNT', '1') });
            continue;
          }
          rrules.push(rule);
        } catch (e) {
          if (e instanceof RuleError) throw new EventProblem(`${e.message} (line ${p.line})`);
          throw e;
        }
      } else if (p.name === 'RDATE' || p.name === 'EXDATE') {
        for (const part of p.value.split(',')) {
          if (!part.trim()) continue;
          const [a, b] = part.split('/');
          try {
            const value = timeValue(p, ctx, a);
            if (p.name === 'EXDATE') exdates.push(value);
            else if (b === undefined) rdates.push({ value });
            else if (/^[+-]?P/i.test(b)) {
              const d = parseDuration(b);
              if (!d) throw new EventProblem(`RDATE period "${part}" has an invalid duration`);
              rdates.push({ value, duration: d });
            } else rdates.push({ value, end: timeValue(p, ctx, b) });
          } catch (e) {
            if (!(e instanceof EventProblem)) throw e;
            ctx.warnings.push({ uid, line: c.line, reason: `${e.message}; value ignored` });
          }
        }
      } else if (p.name === 'ATTENDEE') {
        (attendees ??= []).push(person(p));
      }
    }
  else
    for (let i = 0; i < props.length; i++) {
      const p = props[i] as ContentLine;
      if (p.name === 'ATTENDEE') (attendees ??= []).push(person(p));
    }
  const status = statusProp?.value.trim().toUpperCase() ?? '';
  const seq = Number(seqProp?.value.trim() ?? 0);
  return {
    uid,
    line: c.line,
    order,
    sequence: Number.isFinite(seq) ? seq : 0,
    start,
    frame,
    startWall,
    duration,
    recurrenceId,
    thisAndFuture: (ridProp?.params.RANGE ?? '').toUpperCase() === 'THISANDFUTURE',
    rrules,
    rdates,
    exdates,
    summary: summaryProp ? unescapeText(summaryProp.value) : '',
    description: descriptionProp ? unescapeText(descriptionProp.value) : '',
    location: locationProp ? unescapeText(locationProp.value) : '',
    organizer: org ? person(org) : null,
    attendees: attendees ?? [],
    status: status === 'CANCELLED' ? 'cancelled' : status === 'TENTATIVE' ? 'tentative' : 'confirmed',
  };
}

/** Parsed RRULE by its text: a timetable repeats the same few rules thousands of times. */
function ruleFor(text: string, ctx: Context): ParsedRule {
  let rule = ctx.rules.get(text);
  if (!rule) {
    rule = parseRule(text);
    ctx.rules.set(text, rule);
  }
  return rule;
}

/**
 * RFC 5545 §3.6.1: DTEND gives an exact duration applied to every instance; DURATION's days and
 * weeks are nominal (same wall time on a later day), its hours/minutes/seconds exact. Without
 * either, a DATE lasts one day and a DATE-TIME no time.
 */
function readDuration(
  durProp: ContentLine | undefined,
  frame: Frame,
  startWall: number,
  end: TimeValue | null,
  ctx: Context,
): Duration {
  if (end) {
    if (frame.kind === 'date') {
      const days = Math.round((wallIn(end, frame) - startWall) / DAY);
      if (days < 0) throw new EventProblem('DTEND is before DTSTART');
      // DTEND equal to a DATE DTSTART (no length, which §3.6.1 does not allow): one day.
      return { days: Math.max(days, 1), ms: 0 };
    }
    const ms = instant(frame, wallIn(end, frame), ctx) - instant(frame, startWall, ctx);
    if (ms < 0) throw new EventProblem('DTEND is before DTSTART');
    return { days: 0, ms };
  }
  if (durProp) {
    const d = parseDuration(durProp.value);
    if (!d) throw new EventProblem(`DURATION "${durProp.value}" is not a duration`);
    if (d.days < 0 || d.ms < 0) throw new EventProblem(`DURATION "${durProp.value}" is negative`);
    if (frame.kind === 'date') return { days: d.days + Math.ceil(d.ms / DAY), ms: 0 };
    return d;
  }
  return frame.kind === 'date' ? { days: 1, ms: 0 } : { days: 0, ms: 0 };
}

/** Keeps, among versions of the same item, the one with the highest SEQUENCE (later in file on ties). */
function newest(a: EventData | undefined, b: EventData): EventData {
  if (!a) return b;
  return b.sequence >= a.sequence ? b : a;
}

/** Read-only stand-in for the overrides of an event that has none. */
const NO_OVERRIDES: ReadonlyMap<number, EventData> = new Map();

function expandGroup(list: EventData[], ctx: Context): void {
  if (list.length === 1 && !(list[0] as EventData).recurrenceId) {
    // The common case, an event without overrides: no map of them to build.
    expandMaster(list[0] as EventData, NO_OVERRIDES, ctx);
    return;
  }
  let master: EventData | undefined;
  for (const ev of list) if (!ev.recurrenceId) master = newest(master, ev);
  const frame = master ? master.frame : undefined;
  const overrides = new Map<number, EventData>();
  for (const ev of list) {
    if (!ev.recurrenceId) continue;
    const key = wallIn(ev.recurrenceId, frame ?? frameOf(ev.recurrenceId));
    overrides.set(key, newest(overrides.get(key), ev));
  }
  if (master) expandMaster(master, overrides, ctx);
  for (const [ridWall, ov] of overrides) {
    const ridFrame = frame ?? frameOf(ov.recurrenceId as TimeValue);
    emit(ov, ov.frame, ov.startWall, ov.duration, ridFrame, ridWall, ctx);
  }
}

function expandMaster(m: EventData, overrides: ReadonlyMap<number, EventData>, ctx: Context): void {
  const frame = m.frame;
  const recurring = m.rrules.length > 0 || m.rdates.length > 0;
  if (!recurring) {
    if (!overrides.has(m.startWall)) emit(m, frame, m.startWall, m.duration, null, 0, ctx);
    return;
  }
  if (m.rrules.length === 1 && (m.rrules[0] as ParsedRule).simple && m.rdates.length === 0) {
    let thisAndFuture = false;
    if (overrides.size > 0) for (const o of overrides.values()) thisAndFuture ||= o.thisAndFuture;
    if (!thisAndFuture) {
      expandSimple(m, m.rrules[0] as ParsedRule, overrides, ctx);
      return;
    }
  }
  // Overrides with RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4): their time shift, duration and
  // properties apply to every later instance too.
  const ranges = [...overrides]
    .filter(([, o]) => o.thisAndFuture)
    .map(([rid, o]) => ({ rid, o, shift: wallIn(o.start, frame) - rid }))
    .sort((a, b) => a.rid - b.rid);
  const maxShift = ranges.reduce(
    (s, r) => Math.max(s, Math.abs(r.shift) + r.o.duration.days * DAY + r.o.duration.ms),
    0,
  );
  const span = m.duration.days * DAY + m.duration.ms;
  const wallFrom = ctx.window.from - span - maxShift - 2 * DAY;
  const wallTo = ctx.window.to + maxShift + 2 * DAY;

  const instances = new Map<number, Duration | null>();
  const exact = new Set<number>();
  const exDays = new Set<number>();
  for (const x of m.exdates) {
    // A DATE EXDATE on a timed event removes that day's instance.
    if (x.kind === 'date' && frame.kind !== 'date') exDays.add(x.wall);
    else exact.add(wallIn(x, frame));
  }
  const add = (wall: number, d: Duration | null): void => {
    if (!instances.has(wall) || d) instances.set(wall, d);
  };
  // RFC 5545 §3.3.10: DTSTART always counts as the first occurrence, even when the rule would not
  // produce it or UNTIL lies before it (ical.js and dateutil drop it; recur.ts adjusts COUNT).
  add(m.startWall, null);
  for (const rule of m.rrules) {
    let tooMany = false;
    const complete = expandRule({
      rule,
      dtstart: m.startWall,
      isDate: frame.kind === 'date',
      untilWall: untilWallOf(rule, frame, ctx),
      wallFrom,
      wallTo,
      maxSteps: ctx.maxSteps,
      emit: (wall) => {
        add(wall, null);
        if (instances.size > ctx.maxOccurrences * 2 + 1000) {
          tooMany = true;
          return false;
        }
        return true;
      },
    });
    finishExpansion(ctx, m, rule.text, tooMany, complete);
  }
  for (const r of m.rdates) {
    const wall = wallIn(r.value, frame);
    let d: Duration | null = null;
    if (r.duration)
      d =
        frame.kind === 'date'
          ? { days: r.duration.days + Math.ceil(r.duration.ms / DAY), ms: 0 }
          : r.duration;
    else if (r.end) {
      const endWall = wallIn(r.end, frame);
      d =
        frame.kind === 'date'
          ? { days: Math.max(0, Math.round((endWall - wall) / DAY)), ms: 0 }
          : { days: 0, ms: Math.max(0, instant(frame, endWall, ctx) - instant(frame, wall, ctx)) };
    }
    add(wall, d);
  }
  for (const [wall, d] of instances) {
    if (exact.has(wall) || (exDays.size && exDays.has(Math.floor(wall / DAY) * DAY))) continue;
    if (overrides.has(wall)) continue;
    let source = m;
    let startWall = wall;
    let duration = d ?? m.duration;
    for (let i = ranges.length - 1; i >= 0; i--) {
      const r = ranges[i] as (typeof ranges)[number];
      if (r.rid <= wall) {
        source = r.o;
        startWall = wall + r.shift;
        duration = r.o.duration;
        break;
      }
    }
    emit(source, frame, startWall, duration, frame, wall, ctx);
  }
}

/** The last wall time in `frame` that the rule's UNTIL allows (inclusive), Infinity without one. */
function untilWallOf(rule: ParsedRule, frame: Frame, ctx: Context): number {
  const u = rule.until;
  if (!u) return Infinity;
  if (frame.kind === 'date') return Math.floor(u.wall / DAY) * DAY;
  if (u.isDate) return u.wall + DAY - 1; // UNTIL is inclusive (RFC 5545 §3.3.10)
  if (u.utc && frame.kind === 'zone') return utcToWall(frame.zone, u.wall);
  if (u.utc && ctx.xwr && frame.kind === 'floating') return utcToWall(ctx.xwr, u.wall);
  return u.wall;
}

/**
 * expandMaster for the usual timetable series: one arithmetic rule, no RDATE, no THISANDFUTURE
 * override. That rule yields strictly increasing wall times from DTSTART on, so instances can be
 * emitted as they come, in the order the general path emits them (DTSTART first, then the rule's
 * instances other than DTSTART), without collecting them in a map first.
 */
function expandSimple(
  m: EventData,
  rule: ParsedRule,
  overrides: ReadonlyMap<number, EventData>,
  ctx: Context,
): void {
  const frame = m.frame;
  const span = m.duration.days * DAY + m.duration.ms;
  let exact: Set<number> | null = null;
  let exDays: Set<number> | null = null;
  for (let i = 0; i < m.exdates.length; i++) {
    const x = m.exdates[i] as TimeValue;
    // A DATE EXDATE on a timed event removes that day's instance.
    if (x.kind === 'date' && frame.kind !== 'date') (exDays ??= new Set()).add(x.wall);
    else (exact ??= new Set()).add(wallIn(x, frame));
  }
  const hasOverrides = overrides.size > 0;
  const duration = m.duration;
  // RFC 5545 §3.3.10: DTSTART always counts as the first occurrence (see expandMaster).
  const startWall = m.startWall;
  if (
    !(exact !== null && exact.has(startWall)) &&
    !(exDays !== null && exDays.has(Math.floor(startWall / DAY) * DAY)) &&
    !(hasOverrides && overrides.has(startWall))
  )
    emit(m, frame, startWall, duration, frame, startWall, ctx);
  let instances = 1;
  const limit = ctx.maxOccurrences * 2 + 1000;
  let tooMany = false;
  const complete = expandRule({
    rule,
    dtstart: startWall,
    isDate: frame.kind === 'date',
    untilWall: untilWallOf(rule, frame, ctx),
    wallFrom: ctx.window.from - span - 2 * DAY,
    wallTo: ctx.window.to + 2 * DAY,
    maxSteps: ctx.maxSteps,
    emit: (wall) => {
      if (wall === startWall) return true;
      if (++instances > limit) {
        tooMany = true;
        return false;
      }
      if (exact !== null && exact.has(wall)) return true;
      if (exDays !== null && exDays.has(Math.floor(wall / DAY) * DAY)) return true;
      if (hasOverrides && overrides.has(wall)) return true;
      emit(m, frame, wall, duration, frame, wall, ctx);
      return true;
    },
  });
  finishExpansion(ctx, m, rule.text, tooMany, complete);
}

/** After a rule's iteration: a whole-file error past the occurrence limit, a warning past the step cap. */
function finishExpansion(ctx: Context, m: { uid: string; line: number }, ruleText: string, tooMany: boolean, complete: boolean): void {
  if (tooMany) tooManyOccurrences(ctx);
  if (!complete) {
    ctx.warnings.push({
      uid: m.uid,
      line: m.line,
      reason: `recurrence rule "${ruleText.trim()}" stopped after ${ctx.maxSteps} steps; later occurrences are missing`,
    });
  }
}

function tooManyOccurrences(ctx: Context): never {
  throw new CalendarError(
    'tooManyOccurrences',
    `the calendar has more than ${ctx.maxOccurrences} occurrences in the window; narrow the window or check for a recurrence rule without an end`,
  );
}

function emit(
  ev: EventData,
  frame: Frame,
  startWall: number,
  d: Duration,
  ridFrame: Frame | null,
  ridWall: number,
  ctx: Context,
): void {
  let startAt: number;
  let endAt: number;
  let endWall = 0;
  if (frame.kind === 'zone') {
    startAt = wallToUtc(frame.zone, startWall);
    endAt = (d.days ? wallToUtc(frame.zone, startWall + d.days * DAY) : startAt) + d.ms;
  } else {
    endWall = startWall + d.days * DAY + d.ms;
    startAt = wallToUtc(ctx.axisZone, startWall);
    endAt = wallToUtc(ctx.axisZone, endWall);
  }
  const window = ctx.window;
  // Keep occurrences overlapping [from, to); an instant event counts when it lies in the window.
  if (!(startAt < window.to && (endAt > window.from || (endAt === startAt && startAt >= window.from))))
    return;
  if (++ctx.count > ctx.maxOccurrences) tooManyOccurrences(ctx);
  const startId = instantId(ctx, startAt);
  let start: string;
  let end: string;
  if (frame.kind === 'zone') {
    start = utcText(ctx, startId, startAt);
    end = endAt === startAt ? start : utcText(ctx, instantId(ctx, endAt), endAt);
  } else if (frame.kind === 'date') {
    start = formatDate(startWall);
    end = formatDate(endWall);
  } else {
    start = formatLocal(startWall);
    end = formatLocal(endWall);
  }
  ctx.startIds.push(startId);
  ctx.out.push({
    uid: ev.uid,
    recurrenceId:
      ridFrame === null
        ? null
        : ridFrame === frame && ridWall === startWall
          ? start
          : format(ridFrame, ridWall),
    start,
    end,
    allDay: frame.kind === 'date',
    floating: frame.kind === 'floating',
    summary: ev.summary,
    description: ev.description,
    location: ev.location,
    organizer: ev.organizer,
    attendees: ev.attendees,
    status: ev.status,
    sequence: ev.sequence,
  });
}
