// A guard around ical.js's recurrence iterator: the one place that lets ical.js iterate a rule, for
// events (recur.ts) and VTIMEZONE onsets (zones.ts) alike. ical.js loops inside next() until a
// candidate passes the rule's BY filters, and some rules never pass: without the guard one such rule
// (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 in a VTIMEZONE) kept a process busy for good.
import type { Ical } from './icaljs.js';

const DAY = 86_400_000;

/**
 * Work that ical.js's iterators may still do for one calendar, in candidate checks (a year's day list
 * counts as YEAR_WORK). Shared by every rule and VTIMEZONE of the file, so that no input, however
 * many events it repeats a slow rule in, keeps a worker busy for long.
 */
export interface WorkBudget {
  left: number;
}

/** The file's work budget ran out. Internal: expandCalendar refuses the file with a CalendarError. */
export class BudgetExhausted extends Error {}

/** The rule's own step cap was reached (the caller warns that later instances are missing). */
export class StepLimit extends Error {}

/** A year's day list costs ical.js about as much as this many candidate checks. */
const YEAR_WORK = 20;

export interface GuardLimits {
  /** Candidate checks allowed for this rule. */
  maxChecks: number;
  budget: WorkBudget;
  /** Wall ms after which no instance is wanted: candidates past it (and a year more) end the rule. */
  endWall: number;
}

export interface IcalIterator {
  next(): { year: number; month: number; day: number; hour: number; minute: number; second: number } | null;
  completed: boolean;
}

/** Thrown inside the iterator when its candidates have passed endWall: the rule is complete. */
class PastEnd extends Error {}

/**
 * ical.js's RecurIterator for `recur` from `start`, with three guards installed before it initializes.
 * Its next() loops internally until a candidate passes the BY filters, so an impossible combination
 * (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) would spin forever, and YEARLY rules search up to year 20000
 * when they start: every candidate check and year expansion is counted against the rule's cap and the
 * file's budget, and candidates more than a year past `endWall` end the iteration (ical.js yields
 * candidates in order, so nothing later can be wanted). next() throws StepLimit or BudgetExhausted;
 * errors of ical.js itself pass through.
 */
export function guardedIterator(
  ICAL: Ical,
  recur: InstanceType<Ical['Recur']>,
  start: InstanceType<Ical['Time']>,
  limits: GuardLimits,
): IcalIterator {
  const it = new ICAL.RecurIterator({ rule: recur, dtstart: start, initialized: true });
  const proto = Object.getPrototypeOf(it) as Record<string, (...args: unknown[]) => unknown>;
  const self = it as unknown as Record<string, unknown> & {
    last: { year: number; month: number; day: number; hour: number; minute: number; second: number };
    init(): void;
    initialized: boolean;
  };
  const endYear = new Date(limits.endWall).getUTCFullYear() + 1;
  const endDay = Math.floor(limits.endWall / DAY) + 366;
  let checks = 0;
  const spend = (work: number): void => {
    checks += work;
    if (checks > limits.maxChecks) throw new StepLimit();
    limits.budget.left -= work;
    if (limits.budget.left < 0) throw new BudgetExhausted();
  };
  const dayOfLast = (): number =>
    Math.floor(Date.UTC(self.last.year, self.last.month - 1, self.last.day) / DAY);
  self.check_contracting_rules = function (this: unknown) {
    spend(1);
    if (!(dayOfLast() <= endDay)) throw new PastEnd(); // NaN too: a year past Date's range
    return (proto.check_contracting_rules as () => boolean).call(this);
  };
  self.expand_year_days = function (this: unknown, year: unknown) {
    spend(YEAR_WORK);
    if (!((year as number) <= endYear)) throw new PastEnd();
    return (proto.expand_year_days as (y: unknown) => unknown).call(this, year);
  };
  // BYDAY (with BYSETPOS) is tested day by day over whole months inside one step.
  self.is_day_in_byday = function (this: unknown, time: unknown) {
    spend(1);
    return (proto.is_day_in_byday as (t: unknown) => unknown).call(this, time);
  };
  // increment_monthday(n) steps one day at a time: DAILY;INTERVAL=1000000000 would take minutes.
  self.increment_monthday = function (this: unknown, inc: unknown) {
    if ((inc as number) > 366 && !(dayOfLast() + (inc as number) <= endDay)) throw new PastEnd();
    spend(Math.ceil((inc as number) / 32));
    return (proto.increment_monthday as (n: unknown) => unknown).call(this, inc);
  };
  try {
    self.initialized = false;
    self.init();
  } catch (e) {
    // ical.js's own answer for a rule without any instance (InvalidRecurrenceRuleError), and ours.
    if (
      e instanceof PastEnd ||
      (e instanceof Error && e.message === 'Recurrence rule has no valid occurrences')
    )
      it.completed = true;
    else throw e;
  }
  return {
    get completed() {
      return it.completed;
    },
    set completed(v: boolean) {
      it.completed = v;
    },
    next() {
      if (it.completed) return null;
      try {
        spend(1);
        return it.next();
      } catch (e) {
        if (!(e instanceof PastEnd)) throw e;
        it.completed = true;
        return null;
      }
    },
  };
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why BYMONTH and BYMONTHDAY together name no date at all (BYMONTH=2;BYMONTHDAY=30), or null. ical.js
 * does not notice: it searches until the guard stops it, or returns wrong dates.
 */
export function impossibleMonthDay(months: string | undefined, days: string | undefined): string | null {
  if (months === undefined || days === undefined) return null;
  const longest = Math.max(...months.split(',').map((m) => MONTH_DAYS[Number(m) - 1] ?? 31));
  if (days.split(',').some((d) => Math.abs(Number(d)) <= longest)) return null;
  return `no month in BYMONTH=${months} has day ${days}`;
}
