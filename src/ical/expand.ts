// expandCalendar: iCalendar text -> the occurrences (sessions) overlapping a window. Pure: no I/O,
// no clock, no environment. The steps live beside it: tzid.ts (zones named in the file), event.ts
// (one VEVENT's properties), overrides.ts (masters and overrides per UID, SEQUENCE), expansion.ts
// (RRULE/RDATE instances, EXDATEs, THISANDFUTURE), emit.ts (window, strings, limit, sort).
import { forDisplay, type EventFields } from '../core/limits.js';
import type { ExpandResult, ExpandWindow } from '../core/occurrence.js';
import { parseComponents, unescapeText, type RawComponent } from './content.js';
import { sortByStart } from './emit.js';
import { CalendarError } from './errors.js';
import { EventProblem, readEvent, type EventData, type ReadContext } from './event.js';
import { BudgetExhausted } from './guard.js';
import type { ExpansionContext } from './expansion.js';
import { expandGroup, type EventGroups } from './overrides.js';
import { feedTimeZone, findVtimezones, resolveDefaultTimeZone } from './tzid.js';
import { DAY, UTC_ZONE } from './zones.js';

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
  /**
   * Candidate checks ical.js may make for the whole file, every rule and VTIMEZONE together, before
   * the file is refused (default 1,000,000: at most a few seconds of CPU on a slow machine).
   */
  maxRuleWork?: number;
  /**
   * Checks each VEVENT's stored fields (e.g. core/limits.ts eventFieldProblem): an event it finds a
   * problem with is skipped with a warning naming its UID and line, as an unreadable one is. Unset
   * (the `expand` command): every readable event is kept.
   */
  checkEvent?: (event: EventFields) => string | null;
}

/** One call's state: one object (one shape) that each step sees through its own interface. */
type Context = ReadContext & ExpansionContext;

const DEFAULTS = {
  maxOccurrences: 200_000,
  maxEvents: 100_000,
  maxBytes: 50_000_000,
  maxStepsPerRule: 100_000,
  maxRuleWork: 1_000_000,
};

/**
 * The occurrences of `text` overlapping `window`, sorted by start, and warnings about what was left
 * out. Throws CalendarError only about the whole file (not iCalendar, over a limit, a bad window or
 * default zone); an unusable event or rule is skipped with a warning naming its UID and line.
 */
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
    budget: { left: options.maxRuleWork ?? DEFAULTS.maxRuleWork },
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
  const groups: EventGroups = new Map();
  // The event being read or expanded, for the refusal when the file's rule work runs out.
  let current = { uid: '', line: 1 };
  try {
    return expandItems(
      body,
      ctx,
      groups,
      { maxEvents, checkEvent: options.checkEvent },
      (uid, line) => (current = { uid, line }),
    );
  } catch (e) {
    if (!(e instanceof BudgetExhausted)) throw e;
    throw new CalendarError(
      'tooComplex',
      `the calendar's recurrence rules need more than ${options.maxRuleWork ?? DEFAULTS.maxRuleWork} steps to expand ` +
        `(the limit was reached at ${current.uid ? `UID ${forDisplay(current.uid)}` : 'an event without UID'}, line ${current.line}); ` +
        'check its RRULEs and VTIMEZONEs for rules that can never match',
    );
  }
}

/** Reads the events of `body` and expands them by item; `at` is told which event is being worked on. */
function expandItems(
  body: string,
  ctx: Context,
  groups: EventGroups,
  limits: { maxEvents: number; checkEvent: ExpandOptions['checkEvent'] },
  at: (uid: string, line: number) => void,
): ExpandResult {
  const { maxEvents, checkEvent } = limits;
  let order = 0;
  let calendar: RawComponent | null = null;
  let calendarIndex = 0;
  let calendarName: string | null = null;
  const roots = parseComponents(body, (c, cal) => {
    if (c.name !== 'VEVENT' || cal.name !== 'VCALENDAR') {
      if (c.name === 'VEVENT' || c.children.length > 0) warnMisplacedEvents(c, cal, ctx);
      return c.name !== 'VTIMEZONE';
    }
    if (cal !== calendar) {
      calendar = cal;
      calendarIndex++;
      ctx.xwr = feedTimeZone(cal, ctx);
      calendarName ??= calendarNameOf(cal);
    }
    if (++order > maxEvents)
      throw new CalendarError('tooLarge', `the calendar has too many events (more than ${maxEvents})`);
    const uid = c.props.find((p) => p.name === 'UID')?.value.trim() ?? '';
    at(uid, c.line);
    try {
      const ev = readEvent(c, uid, order, ctx);
      const problem =
        checkEvent?.({
          uid,
          summary: ev.summary,
          location: ev.location,
          organizerEmail: ev.organizer?.email ?? '',
        }) ?? null;
      if (problem !== null) throw new EventProblem(problem);
      // The item an event belongs to (see overrides.ts): its UID within its VCALENDAR. Events without
      // UID cannot be related to each other: each stands alone. (Inline: as a function of its own this
      // is optimized separately, one more TurboFan compile in every cold run.)
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
  for (const root of roots) if (root.name !== 'VCALENDAR') warnMisplacedEvents(root, null, ctx);
  for (const list of groups.values()) {
    const first = list[0] as EventData;
    at(first.uid, first.line);
    expandGroup(list, ctx);
  }
  return { occurrences: sortByStart(ctx), warnings: ctx.warnings, calendarName };
}

/** Longest calendar name kept: a title, not a document. */
const MAX_CALENDAR_NAME = 255;

/** X-WR-CALNAME (the de-facto calendar title Google, Apple and Outlook write), or null. */
function calendarNameOf(cal: RawComponent): string | null {
  const raw = cal.props.find((p) => p.name === 'X-WR-CALNAME')?.value;
  const name = raw === undefined ? '' : unescapeText(raw).trim().slice(0, MAX_CALENDAR_NAME);
  return name === '' ? null : name;
}

/**
 * A VEVENT that is not directly inside a VCALENDAR (RFC 5545 §3.4, §3.6: inside an unknown
 * X-component, a VTIMEZONE, or outside the calendar) is not an event of the calendar: it is ignored,
 * but never silently. `comp` is searched without recursion (nesting can be 100,000 levels deep).
 */
function warnMisplacedEvents(comp: RawComponent, parent: RawComponent | null, ctx: Context): void {
  const stack: [RawComponent, RawComponent | null][] = [[comp, parent]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [c, outer] = next;
    if (c.name === 'VEVENT') {
      const where = outer ? `inside ${outer.name} (line ${outer.line})` : 'outside any VCALENDAR';
      ctx.warnings.push({
        uid: c.props.find((p) => p.name === 'UID')?.value.trim() ?? '',
        line: c.line,
        reason: `event ignored: its VEVENT is ${where}, not directly inside a VCALENDAR`,
      });
      continue;
    }
    for (let i = c.children.length - 1; i >= 0; i--) stack.push([c.children[i] as RawComponent, c]);
  }
}
