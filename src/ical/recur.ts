// Recurrence-rule expansion in wall time (RFC 5545 §3.3.10, §3.8.5.3). Simple rules (DAILY/WEEKLY
// with plain BYDAY, and SECONDLY..HOURLY without BY parts) are computed arithmetically, skipping
// straight to the window; everything else is iterated with ical.js's RecurIterator under a hard cap
// (guardedIterator, which VTIMEZONE onset rules use too).
import {
  BudgetExhausted,
  guardedIterator,
  impossibleMonthDay,
  StepLimit,
  type IcalIterator,
  type WorkBudget,
} from './guard.js';
import { ical } from './icaljs.js';
import { DAY, parseBasicDateTime } from './zones.js';

const KNOWN_PARTS = new Set([
  'FREQ',
  'UNTIL',
  'COUNT',
  'INTERVAL',
  'BYSECOND',
  'BYMINUTE',
  'BYHOUR',
  'BYDAY',
  'BYMONTHDAY',
  'BYYEARDAY',
  'BYWEEKNO',
  'BYMONTH',
  'BYSETPOS',
  'WKST',
]);
const FREQS: Record<string, number> = {
  SECONDLY: 1000,
  MINUTELY: 60_000,
  HOURLY: 3_600_000,
  DAILY: DAY,
  WEEKLY: 7 * DAY,
  MONTHLY: 0,
  YEARLY: 0,
};
const WEEKDAYS: Record<string, number> = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };

/** A recurrence rule that cannot be used. Internal: the event is skipped with a warning. */
export class RuleError extends Error {}

export interface ParsedRule {
  text: string;
  parts: Map<string, string>;
  freq: string;
  interval: number;
  count: number | null;
  /** UNTIL as written: wall ms, whether it is a DATE, whether it ends in Z. */
  until: { wall: number; isDate: boolean; utc: boolean } | null;
  /** isSimple(parts), worked out once per rule text: the arithmetic path applies. */
  simple: boolean;
  /** For simple rules, BYDAY's weekdays (0 = SU) without repeats, in the order written; else null. */
  byday: number[] | null;
  /** What was ignored or cannot match: warned about for every event that uses the rule. */
  notes: string[];
  /** The rule names no date at all (see impossibleMonthDay): it is not iterated. */
  never: boolean;
}

/**
 * RRULE parsing, lenient where nothing can be lost: spaces around commas (Exchange CDO writes
 * `BYDAY=MO, TU`) are dropped, and an unknown part is ignored with a note once FREQ parses. A part
 * that looks like a misspelt UNTIL or COUNT (`UNTL=`) is still refused: ignoring it would turn a
 * bounded series into an endless one.
 */
export function parseRule(text: string): ParsedRule {
  const parts = new Map<string, string>();
  const notes: string[] = [];
  for (const piece of text.trim().split(';')) {
    if (!piece.trim()) continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) throw new RuleError(`RRULE part "${piece}" is not NAME=VALUE`);
    const name = piece.slice(0, eq).trim().toUpperCase();
    const value = piece
      .slice(eq + 1)
      .trim()
      .replace(/\s*,\s*/g, ',')
      .toUpperCase();
    if (!KNOWN_PARTS.has(name)) {
      if (looksLikeBound(name)) throw new RuleError(`RRULE has unknown part "${name}"`);
      notes.push(`RRULE part "${name}=${value}" is not an RFC 5545 rule part and was ignored`);
      continue;
    }
    if (parts.has(name)) throw new RuleError(`RRULE repeats ${name}`);
    parts.set(name, name.startsWith('BY') ? distinctValues(name, value) : value);
  }
  const freq = parts.get('FREQ');
  if (!freq || !(freq in FREQS))
    throw new RuleError(freq ? `RRULE FREQ=${freq} is not a frequency` : 'RRULE has no FREQ');
  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!Number.isInteger(interval) || interval < 1)
    throw new RuleError(`RRULE INTERVAL=${parts.get('INTERVAL')} is not a positive integer`);
  let count: number | null = null;
  if (parts.has('COUNT')) {
    count = Number(parts.get('COUNT'));
    if (!Number.isInteger(count)) throw new RuleError(`RRULE COUNT=${parts.get('COUNT')} is not an integer`);
  }
  let until: ParsedRule['until'] = null;
  const u = parts.get('UNTIL');
  if (u !== undefined) {
    const parsed = parseBasicDateTime(u);
    if (!parsed) throw new RuleError(`RRULE UNTIL=${u} is not a date or date-time`);
    until = parsed;
  }
  // Let ical.js validate the BY parts' values (it throws on e.g. "BYMONTH=1,2,"); the simple rules
  // the arithmetic path handles are validated there.
  if (isSimple(parts)) {
    const bydayText = parts.get('BYDAY');
    let byday: number[] | null = null;
    if (bydayText !== undefined) {
      byday = [];
      for (const d of bydayText.split(',')) {
        const wd = WEEKDAYS[d] as number;
        if (!byday.includes(wd)) byday.push(wd);
      }
    }
    return { text, parts, freq, interval, count, until, simple: true, byday, notes, never: false };
  }
  try {
    ical().Recur.fromString(ruleWithoutUntil(parts));
  } catch (e) {
    throw new RuleError(`RRULE "${text.trim()}" is invalid: ${e instanceof Error ? e.message : String(e)}`);
  }
  const never = impossibleMonthDay(parts.get('BYMONTH'), parts.get('BYMONTHDAY'));
  if (never) notes.push(`RRULE "${text.trim()}" can never match (${never}): only DTSTART is kept`);
  return {
    text,
    parts,
    freq,
    interval,
    count,
    until,
    simple: false,
    byday: null,
    notes,
    never: never !== null,
  };
}

/**
 * A BY list without repeats (RFC 5545 lists are sets). ical.js sorts BYDAY pairwise: a long list of
 * repeats would cost it quadratic time. No BY part has more than 800 meaningful values.
 */
function distinctValues(name: string, value: string): string {
  const values = [...new Set(value.split(','))];
  if (values.length > 800)
    throw new RuleError(`RRULE ${name} has ${values.length} values (at most 800 make sense)`);
  return values.join(',');
}

/** Within two edits of UNTIL or COUNT: a misspelt end of the series (see parseRule). */
function looksLikeBound(name: string): boolean {
  return editDistance(name, 'UNTIL') <= 2 || editDistance(name, 'COUNT') <= 2;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}

function ruleWithoutUntil(parts: Map<string, string>): string {
  return [...parts]
    .filter(([k]) => k !== 'UNTIL')
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

export interface ExpandRuleInput {
  rule: ParsedRule;
  /** DTSTART in wall ms (dates at 00:00). */
  dtstart: number;
  isDate: boolean;
  /** Last wall time allowed by UNTIL (inclusive), already converted to the event's wall clock. */
  untilWall: number;
  /** Wall range of interest; instances outside it need not be emitted (but still count for COUNT). */
  wallFrom: number;
  wallTo: number;
  /** ical.js iterator steps allowed for this rule before giving up (unbounded rules). */
  maxSteps: number;
  /** The file's work budget, shared with every other rule and zone. */
  budget: WorkBudget;
  /** Receives each instance in order; return false to stop. */
  emit: (wall: number) => boolean;
}

/** Returns false if the rule was cut short by `maxSteps` (caller warns). */
export function expandRule(input: ExpandRuleInput): boolean {
  // RFC 5545 §3.3.10: "The DTSTART property value always counts as the first occurrence." The
  // caller always adds DTSTART; when the rule itself would not produce it, it uses up one COUNT.
  const { rule } = input;
  if (rule.never) return true;
  if (rule.count !== null && !producesStart(input)) {
    if (rule.count <= 1) return true;
    input = {
      ...input,
      rule: {
        ...rule,
        count: rule.count - 1,
        parts: new Map(rule.parts).set('COUNT', String(rule.count - 1)),
      },
    };
  }
  return fastExpand(input) ?? icalExpand(input);
}

function producesStart(input: ExpandRuleInput): boolean {
  const { rule, dtstart } = input;
  if (rule.simple) {
    // Arithmetic rules produce DTSTART unless a BYDAY list leaves out its weekday.
    return rule.byday === null || rule.byday.includes(weekday(dtstart));
  }
  let first: number | null = null;
  const probe = {
    ...input,
    wallFrom: -Infinity,
    wallTo: input.dtstart,
    untilWall: Infinity,
    maxSteps: 1,
    emit: (w: number) => ((first = w), false),
  };
  if (fastExpand(probe) === undefined) icalExpand(probe);
  return first === input.dtstart;
}

function isSimple(parts: Map<string, string>): boolean {
  for (const [k, v] of parts) {
    if (k === 'FREQ' || k === 'INTERVAL' || k === 'COUNT' || k === 'UNTIL') continue;
    if (k === 'WKST' && v in WEEKDAYS) continue;
    if (k === 'BYDAY' && v.split(',').every((d) => d in WEEKDAYS)) continue;
    return false;
  }
  return true;
}

const dayIndex = (wall: number): number => Math.floor(wall / DAY);
const weekday = (wall: number): number => (((dayIndex(wall) + 4) % 7) + 7) % 7;

/** Arithmetic expansion for simple rules; undefined when the rule needs the general iterator. */
function fastExpand(inp: ExpandRuleInput): boolean | undefined {
  const { rule, dtstart, untilWall, wallFrom, wallTo, emit } = inp;
  const p = rule.parts;
  // Not simple: ordinal weekdays (e.g. 2MO) and other BY parts take the general iterator.
  if (!rule.simple) return undefined;
  const unit = FREQS[rule.freq] as number;
  const days = rule.byday;
  const limit = Math.min(untilWall, wallTo);
  const count = rule.count ?? Infinity;
  if (rule.freq === 'WEEKLY') {
    const wkst = WEEKDAYS[p.get('WKST') ?? 'MO'];
    if (wkst === undefined) return undefined;
    // Days after the week start, ascending. Plain loops: this runs once per series, and the
    // map/sort/filter closures here cost a deoptimization and a recompile in cold runs.
    const offsets: number[] = [];
    if (days === null) offsets.push((weekday(dtstart) - wkst + 7) % 7);
    else for (let i = 0; i < days.length; i++) offsets.push(((days[i] as number) - wkst + 7) % 7);
    if (offsets.length > 1) offsets.sort((a, b) => a - b);
    const dayStart = dayIndex(dtstart) * DAY;
    const tod = dtstart - dayStart;
    const week0 = dayStart - ((weekday(dtstart) - wkst + 7) % 7) * DAY;
    const period = rule.interval * 7 * DAY;
    let firstCount = 0;
    for (let i = 0; i < offsets.length; i++)
      if (week0 + (offsets[i] as number) * DAY + tod >= dtstart) firstCount++;
    let k = Math.max(0, Math.floor((wallFrom - week0) / period) - 1);
    let n = k === 0 ? 0 : firstCount + (k - 1) * offsets.length;
    for (; ; k++) {
      const base = week0 + k * period + tod;
      for (let i = 0; i < offsets.length; i++) {
        const t = base + (offsets[i] as number) * DAY;
        if (t < dtstart) continue;
        if (++n > count || t > limit) return true;
        if (t >= wallFrom && !emit(t)) return true;
      }
    }
  }
  if (rule.freq === 'MONTHLY' || rule.freq === 'YEARLY') return undefined;
  // DAILY (BYDAY is a filter there), HOURLY, MINUTELY, SECONDLY.
  if (days && (rule.freq !== 'DAILY' || rule.count !== null)) return undefined;
  const step = unit * rule.interval;
  let k = Math.max(0, Math.floor((wallFrom - dtstart) / step) - 1);
  let n = k;
  for (; ; k++) {
    const t = dtstart + k * step;
    if (days && !days.includes(weekday(t))) {
      if (t > limit) return true;
      continue;
    }
    if (++n > count || t > limit) return true;
    if (t >= wallFrom && !emit(t)) return true;
  }
}

/**
 * A rule that ical.js refuses only once it iterates (e.g. "FREQ=MONTHLY;BYYEARDAY=1", or BYDAY
 * values that fit no month of the series): a RuleError, so that the event is skipped with a warning.
 */
function refused(rule: ParsedRule, e: unknown): RuleError {
  return new RuleError(
    `RRULE "${rule.text.trim()}" is invalid: ${e instanceof Error ? e.message : String(e)}`,
  );
}

function icalExpand(inp: ExpandRuleInput): boolean {
  const { rule, dtstart, isDate, untilWall, wallFrom, wallTo, emit } = inp;
  const ICAL = ical();
  const d = new Date(dtstart);
  let it: IcalIterator;
  try {
    const recur = ICAL.Recur.fromString(ruleWithoutUntil(rule.parts));
    const start = ICAL.Time.fromData({
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: isDate ? 0 : d.getUTCHours(),
      minute: isDate ? 0 : d.getUTCMinutes(),
      second: isDate ? 0 : d.getUTCSeconds(),
      isDate,
    });
    it = guardedIterator(ICAL, recur, start, {
      maxChecks: inp.maxSteps * 4,
      budget: inp.budget,
      endWall: Math.min(untilWall, wallTo),
    });
  } catch (e) {
    if (e instanceof BudgetExhausted) throw e;
    if (e instanceof StepLimit) return false;
    throw refused(rule, e);
  }
  for (let steps = 0; steps < inp.maxSteps; steps++) {
    let t: ReturnType<typeof it.next>;
    try {
      t = it.next();
    } catch (e) {
      if (e instanceof BudgetExhausted) throw e;
      if (e instanceof StepLimit) return false;
      throw refused(rule, e);
    }
    if (!t) return true;
    const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
    // Negated: a year past Date's range gives NaN, which ends the rule too.
    if (!(wall <= untilWall && wall <= wallTo)) return true;
    if (wall >= wallFrom && !emit(wall)) return true;
  }
  return false;
}
