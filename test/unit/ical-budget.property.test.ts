// Property: no recurrence rule, in a VEVENT or a VTIMEZONE, keeps expandCalendar busy beyond a bound.
// Random rules from every part RFC 5545 allows (impossible combinations, huge intervals, ordinals,
// BYSETPOS, far-away DTSTARTs) must each end with occurrences and warnings, or one CalendarError,
// within a time proportional to the work budget: thousands of runs with small budgets, and a few
// with the defaults.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CalendarError } from '../../src/ical/index.js';
import { cal, event, expand } from '../support/ical.js';

const FREQS = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

const list = <T>(arb: fc.Arbitrary<T>) =>
  fc.array(arb, { minLength: 1, maxLength: 4 }).map((v) => v.join(','));

const PARTS: Record<string, fc.Arbitrary<string>> = {
  INTERVAL: fc
    .oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(400, 100_000, 1_000_000_000))
    .map(String),
  COUNT: fc.integer({ min: 1, max: 500 }).map(String),
  UNTIL: fc.constantFrom('20261231T000000Z', '20300101', '19990101T000000Z'),
  BYMONTH: list(fc.integer({ min: 1, max: 12 })),
  BYMONTHDAY: list(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: -31, max: -1 }))),
  BYDAY: list(
    fc
      .tuple(fc.constantFrom('', '1', '2', '-1', '5', '-5', '53'), fc.constantFrom(...WEEKDAYS))
      .map(([n, d]) => `${n}${d}`),
  ),
  BYHOUR: list(fc.integer({ min: 0, max: 23 })),
  BYMINUTE: list(fc.integer({ min: 0, max: 59 })),
  BYSECOND: list(fc.integer({ min: 0, max: 59 })),
  BYSETPOS: list(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: -10, max: -1 }))),
  BYWEEKNO: list(fc.oneof(fc.integer({ min: 1, max: 53 }), fc.integer({ min: -53, max: -1 }))),
  BYYEARDAY: list(fc.oneof(fc.integer({ min: 1, max: 366 }), fc.integer({ min: -366, max: -1 }))),
  WKST: fc.constantFrom(...WEEKDAYS),
};

/** FREQ and up to four other parts (more would nearly always be a combination ical.js refuses). */
const arbRule = fc
  .tuple(fc.constantFrom(...FREQS), fc.subarray(Object.keys(PARTS), { maxLength: 4 }))
  .chain(([freq, names]) =>
    fc
      .tuple(...names.map((name) => (PARTS[name] as fc.Arbitrary<string>).map((v) => `${name}=${v}`)))
      .map((parts) => [`FREQ=${freq}`, ...parts].join(';')),
  );

const arbStart = fc
  .record({
    year: fc.constantFrom(1601, 1970, 2020, 2026, 2027),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
  })
  .map(
    ({ year, month, day, hour }) =>
      `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}0000`,
  );

const arbCalendar = fc
  .record({
    zoneRules: fc.array(fc.tuple(arbRule, arbStart), { minLength: 0, maxLength: 2 }),
    eventRules: fc.array(fc.tuple(arbRule, arbStart), { minLength: 1, maxLength: 3 }),
  })
  .map(({ zoneRules, eventRules }) =>
    cal(
      'BEGIN:VTIMEZONE',
      'TZID:Generated Zone',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      ...zoneRules.flatMap(([rule, start], i) => [
        'BEGIN:DAYLIGHT',
        `DTSTART:${start}`,
        'TZOFFSETFROM:+0100',
        `TZOFFSETTO:+0${2 + i}00`,
        `RRULE:${rule}`,
        'END:DAYLIGHT',
      ]),
      'END:VTIMEZONE',
      ...eventRules.flatMap(([rule, start], i) =>
        event(`UID:generated-${i}`, `DTSTART;TZID=Generated Zone:${start}`, 'DURATION:PT1H', `RRULE:${rule}`),
      ),
    ),
  );

/**
 * Expands within the bound; returns what the run gave (for the counters). The time is the smaller of
 * the wall time and this process's CPU time: a rule that keeps the expansion busy exceeds both, while
 * other processes on a loaded machine stretch only the wall time (and parallel GC only the CPU time).
 */
function expandsWithin(text: string, boundMs: number, options: Parameters<typeof expand>[3]): string {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let outcome: string;
  try {
    const r = expand(text, '2027-01-01', '2027-07-01', options);
    outcome = r.warnings.length > 0 ? 'warned' : 'clean';
  } catch (e) {
    if (!(e instanceof CalendarError)) throw e;
    outcome = e.code;
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = Math.min(performance.now() - t0, (cpu.user + cpu.system) / 1000);
  if (ms > boundMs) throw new Error(`took ${Math.round(ms)} ms (bound ${boundMs} ms) for\n${text}`);
  return outcome;
}

describe('expandCalendar on generated VTIMEZONE and VEVENT rules', () => {
  it('ends within the bound for every rule set (small budgets, 2,000 runs)', { timeout: 240_000 }, () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(arbCalendar, (text) => {
        const outcome = expandsWithin(text, 1000, {
          maxStepsPerRule: 2000,
          maxRuleWork: 20_000,
          maxOccurrences: 5000,
        });
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: 2000, seed: 15 },
    );
    // The generator reaches rules that end cleanly, with warnings, and past the file budget.
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['clean', 'warned']));
  });

  it('ends within the bound with the default budgets too', { timeout: 240_000 }, () => {
    fc.assert(
      fc.property(arbCalendar, (text) => {
        expandsWithin(text, 8000, {});
      }),
      { numRuns: 25, seed: 1515 },
    );
  });
});
