// Instances of one master event (RFC 5545 §3.8.5): DTSTART, then its RRULEs' and RDATEs' instances,
// bounded by the window, the occurrence limit and each rule's step cap; EXDATEs remove some (one
// filter for every path), overrides replace some, RANGE=THISANDFUTURE overrides shift the later ones.
// The usual timetable series (one arithmetic rule) is emitted as the rule yields it, without a map.
import type { ExpandWarning } from '../core/occurrence.js';
import { dropEmittedSince, emit, emittedMark, tooManyOccurrences, type EmitContext } from './emit.js';
import type { EventData } from './event.js';
import { instantIn, wallIn, type Duration, type Frame } from './frame.js';
import type { WorkBudget } from './guard.js';
import { expandRule, RuleError, type ParsedRule } from './recur.js';
import type { TimeValue } from './values.js';
import { DAY, utcToWall, type Zone } from './zones.js';

/** The part of an expansion's state that expanding series uses. */
export interface ExpansionContext extends EmitContext {
  warnings: ExpandWarning[];
  /** X-WR-TIMEZONE (of the file's last calendar): floating events read a UTC UNTIL in it. */
  xwr: Zone | null;
  /** Iterator steps allowed per complex recurrence rule. */
  maxSteps: number;
  /** ical.js work left for the whole file (recur.ts). */
  budget: WorkBudget;
}

/** EXDATEs of a series (RFC 5545 §3.8.5.1) in its frame. */
interface Exclusions {
  /** Excluded instances, as wall times of the frame. */
  exact: Set<number> | null;
  /** Days (wall midnights) whose instances are all excluded: DATE EXDATEs of a timed event. */
  days: Set<number> | null;
}

/** The EXDATE filter of a series; null when it has no EXDATEs. */
function exclusionsOf(exdates: readonly TimeValue[], frame: Frame): Exclusions | null {
  if (exdates.length === 0) return null;
  let exact: Set<number> | null = null;
  let days: Set<number> | null = null;
  for (let i = 0; i < exdates.length; i++) {
    const x = exdates[i] as TimeValue;
    // A DATE EXDATE on a timed event removes that day's instance.
    if (x.kind === 'date' && frame.kind !== 'date') (days ??= new Set()).add(x.wall);
    else (exact ??= new Set()).add(wallIn(x, frame));
  }
  return { exact, days };
}

/** Whether an EXDATE removes the instance at `wall` (wall time of the series' frame). */
function isExcluded(ex: Exclusions, wall: number): boolean {
  return (
    (ex.exact !== null && ex.exact.has(wall)) ||
    (ex.days !== null && ex.days.has(Math.floor(wall / DAY) * DAY))
  );
}

/**
 * Emits the instances of master `m` that no override replaces (overrides are keyed by their
 * RECURRENCE-ID's wall time in m's frame). A rule that the general iterator refuses while expanding
 * makes the event unusable: what it emitted is taken back and it is skipped with a warning.
 */
export function expandMaster(
  m: EventData,
  overrides: ReadonlyMap<number, EventData>,
  ctx: ExpansionContext,
): void {
  const frame = m.frame;
  const recurring = m.rrules.length > 0 || m.rdates.length > 0;
  if (!recurring) {
    if (!overrides.has(m.startWall))
      emit(m, frame, m.startWall, m.duration, m.keyedByStart ? frame : null, m.startWall, ctx);
    return;
  }
  const mark = emittedMark(ctx);
  try {
    if (m.rrules.length === 1 && (m.rrules[0] as ParsedRule).simple && m.rdates.length === 0) {
      let thisAndFuture = false;
      if (overrides.size > 0) for (const o of overrides.values()) thisAndFuture ||= o.thisAndFuture;
      if (!thisAndFuture) {
        expandSimple(m, m.rrules[0] as ParsedRule, overrides, ctx);
        return;
      }
    }
    // The general path (any number of rules and RDATEs, THISANDFUTURE overrides): instances are
    // collected in a map (an RDATE with a period gives its instance that length), then filtered and
    // emitted. It stays in this function with the dispatch above: a small dispatcher of its own is
    // hot enough to be optimized, one more TurboFan compile in every cold run (bench:expand).
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
        budget: ctx.budget,
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
      add(wall, rdateDuration(r, wall, frame, ctx.axisZone));
    }
    const ex = exclusionsOf(m.exdates, frame);
    for (const [wall, d] of instances) {
      if (ex !== null && isExcluded(ex, wall)) continue;
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
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    dropEmittedSince(ctx, mark);
    ctx.warnings.push({ uid: m.uid, line: m.line, reason: `event skipped: ${e.message}` });
  }
}

/** The length an RDATE's period gives its instance (starting at `wall`); null without a period. */
function rdateDuration(
  r: EventData['rdates'][number],
  wall: number,
  frame: Frame,
  axisZone: Zone,
): Duration | null {
  if (r.duration)
    return frame.kind === 'date'
      ? { days: r.duration.days + Math.ceil(r.duration.ms / DAY), ms: 0 }
      : r.duration;
  if (r.end) {
    const endWall = wallIn(r.end, frame);
    return frame.kind === 'date'
      ? { days: Math.max(0, Math.round((endWall - wall) / DAY)), ms: 0 }
      : { days: 0, ms: Math.max(0, instantIn(frame, endWall, axisZone) - instantIn(frame, wall, axisZone)) };
  }
  return null;
}

/** The last wall time in `frame` that the rule's UNTIL allows (inclusive), Infinity without one. */
function untilWallOf(rule: ParsedRule, frame: Frame, ctx: ExpansionContext): number {
  const u = rule.until;
  if (!u) return Infinity;
  if (frame.kind === 'date') return Math.floor(u.wall / DAY) * DAY;
  if (u.isDate) return u.wall + DAY - 1; // UNTIL is inclusive (RFC 5545 §3.3.10)
  if (u.utc && frame.kind === 'zone') return utcToWall(frame.zone, u.wall);
  if (u.utc && ctx.xwr && frame.kind === 'floating') return utcToWall(ctx.xwr, u.wall);
  return u.wall;
}

/**
 * The usual timetable series: one arithmetic rule, no RDATE, no THISANDFUTURE override. That rule
 * yields strictly increasing wall times from DTSTART on, so instances can be emitted as they come, in
 * the order the general path emits them (DTSTART first, then the rule's instances other than
 * DTSTART), without collecting them in a map first.
 */
function expandSimple(
  m: EventData,
  rule: ParsedRule,
  overrides: ReadonlyMap<number, EventData>,
  ctx: ExpansionContext,
): void {
  const frame = m.frame;
  const span = m.duration.days * DAY + m.duration.ms;
  const ex = exclusionsOf(m.exdates, frame);
  const hasOverrides = overrides.size > 0;
  const duration = m.duration;
  // RFC 5545 §3.3.10: DTSTART always counts as the first occurrence (see expandMaster).
  const startWall = m.startWall;
  if (!(ex !== null && isExcluded(ex, startWall)) && !(hasOverrides && overrides.has(startWall)))
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
    budget: ctx.budget,
    emit: (wall) => {
      if (wall === startWall) return true;
      if (++instances > limit) {
        tooMany = true;
        return false;
      }
      if (ex !== null && isExcluded(ex, wall)) return true;
      if (hasOverrides && overrides.has(wall)) return true;
      emit(m, frame, wall, duration, frame, wall, ctx);
      return true;
    },
  });
  finishExpansion(ctx, m, rule.text, tooMany, complete);
}

/** After a rule's iteration: a whole-file error past the occurrence limit, a warning past the step cap. */
function finishExpansion(
  ctx: ExpansionContext,
  m: { uid: string; line: number },
  ruleText: string,
  tooMany: boolean,
  complete: boolean,
): void {
  if (tooMany) tooManyOccurrences(ctx);
  if (!complete) {
    ctx.warnings.push({
      uid: m.uid,
      line: m.line,
      reason: `recurrence rule "${ruleText.trim()}" stopped after ${ctx.maxSteps} steps; later occurrences are missing`,
    });
  }
}
