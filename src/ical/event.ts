// One VEVENT's properties read into a typed event (RFC 5545 §3.6.1): DTSTART/DTEND/DURATION in the
// event's frame, RECURRENCE-ID with its RANGE, SEQUENCE, RRULEs (parsed once per text), RDATEs and
// EXDATEs, and the descriptive properties. What makes the event unusable is an EventProblem (the
// caller skips the event with a warning); a bad value in a list is dropped with a warning of its own.
import type { ExpandWarning, OccurrenceStatus, Person } from '../core/occurrence.js';
import { unescapeText, type ContentLine, type RawComponent } from './content.js';
import { frameOf, instantIn, precision, wallIn, type Duration, type Frame } from './frame.js';
import { parseRule, RuleError, type ParsedRule } from './recur.js';
import { zoneFor, type ZoneLookup } from './tzid.js';
import { parseDuration, parseTimeText, type DurationValue, type TimeValue } from './values.js';
import { DAY, utcToWall, type Zone } from './zones.js';

export interface EventData {
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
  /**
   * A single event kept beside another master of its UID (overrides.ts): its occurrence carries its
   * own start as recurrenceId, so that the sync tells the two apart.
   */
  keyedByStart: boolean;
}

/** Why an event cannot be used. Internal: readEvent's caller turns it into an "event skipped" warning. */
export class EventProblem extends Error {}

/** The part of an expansion's state that reading events uses. */
export interface ReadContext extends ZoneLookup {
  warnings: ExpandWarning[];
  /** X-WR-TIMEZONE of the calendar being read, if any. */
  xwr: Zone | null;
  defaultZone: Zone | null;
  /** Zone used to place floating times and all-day dates on the UTC axis. */
  axisZone: Zone;
  /** Parsed RRULEs by text (parseRule throws RuleError for bad ones: those are not cached). */
  rules: Map<string, ParsedRule>;
}

function person(prop: ContentLine): Person {
  const v = prop.value.trim();
  const addr = v.startsWith('mailto:') || v.startsWith('MAILTO:') ? v.slice(7) : v.replace(/^mailto:/i, '');
  const email = addr.includes('@') ? addr.toLowerCase() : '';
  const cn = prop.params.CN?.trim();
  return cn ? { email, name: cn } : { email };
}

/**
 * Reads VEVENT `c` (the `order`-th of the file). Throws EventProblem when the event cannot be used;
 * warns (in ctx.warnings, in property order) about bad lines and bad RDATE/EXDATE values it drops.
 */
export function readEvent(c: RawComponent, uid: string, order: number, ctx: ReadContext): EventData {
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
  let start = timeValue(startProp, ctx, uid);
  const end = endProp ? timeValue(endProp, ctx, uid) : null;
  // Mixed value types (RFC 5545 §3.8.2.2 wants DTEND of the same type as DTSTART): a DATE start
  // with a DATE-TIME end, or a floating start with a zoned end. The end is the more precise, so
  // read the start (midnight for a date) in the end's terms.
  if (end && end.kind !== 'date' && precision(start) < precision(end)) {
    start =
      end.kind === 'zoned'
        ? { kind: 'zoned', wall: start.wall, zone: end.zone }
        : { kind: end.kind, wall: start.wall };
  }
  const frame = frameOf(start);
  const startWall = wallIn(start, frame);
  const duration = readDuration(durProp, frame, startWall, end, ctx);
  if (end && endProp && wallIn(end, frame) === startWall)
    ctx.warnings.push({
      uid,
      line: c.line,
      reason: `DTEND on line ${endProp.line} equals DTSTART: ${
        frame.kind === 'date' ? 'the event is read as one day long' : 'the session has no length'
      }`,
    });

  const recurrenceId = ridProp ? timeValue(ridProp, ctx, uid) : null;
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
          for (const note of rule.notes)
            ctx.warnings.push({ uid, line: c.line, reason: `${note} (line ${p.line})` });
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
            const value = timeValue(p, ctx, uid, a);
            if (p.name === 'EXDATE') exdates.push(value);
            else if (b === undefined) rdates.push({ value });
            else if (/^[+-]?P/i.test(b)) {
              const d = parseDuration(b);
              if (!d) throw new EventProblem(`RDATE period "${part}" has an invalid duration`);
              rdates.push({ value, duration: d });
            } else rdates.push({ value, end: timeValue(p, ctx, uid, b) });
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
    keyedByStart: false,
  };
}

/** Parsed RRULE by its text: a timetable repeats the same few rules thousands of times. */
function ruleFor(text: string, ctx: ReadContext): ParsedRule {
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
  ctx: ReadContext,
): Duration {
  if (end) {
    if (frame.kind === 'date') {
      const days = Math.round((wallIn(end, frame) - startWall) / DAY);
      if (days < 0) throw new EventProblem('DTEND is before DTSTART');
      // DTEND equal to a DATE DTSTART (no length, which §3.6.1 does not allow): one day.
      return { days: Math.max(days, 1), ms: 0 };
    }
    const ms = instantIn(frame, wallIn(end, frame), ctx.axisZone) - instantIn(frame, startWall, ctx.axisZone);
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

function timeValue(prop: ContentLine, ctx: ReadContext, uid: string, text = prop.value): TimeValue {
  const tzid = prop.params.TZID;
  const zone = tzid ? zoneFor(tzid, ctx, prop.line, uid) : null;
  const v = parseTimeText(text, zone, (prop.params.VALUE ?? '').toUpperCase() === 'DATE');
  if (!v)
    throw new EventProblem(`${prop.name} value "${text}" on line ${prop.line} is not a date or date-time`);
  return localize(v, ctx);
}

function localize(v: TimeValue, ctx: ReadContext): TimeValue {
  if (ctx.xwr) {
    if (v.kind === 'utc') return { kind: 'zoned', wall: utcToWall(ctx.xwr, v.wall), zone: ctx.xwr };
    if (v.kind === 'floating') return { kind: 'zoned', wall: v.wall, zone: ctx.xwr };
  }
  if (ctx.defaultZone && v.kind === 'floating') return { kind: 'zoned', wall: v.wall, zone: ctx.defaultZone };
  return v;
}
