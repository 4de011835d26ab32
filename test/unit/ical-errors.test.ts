import { describe, expect, it } from 'vitest';
import { CalendarError } from '../../src/ical/index.js';
import { cal, event, expand } from '../support/ical.js';
function calendarError(fn: () => unknown): CalendarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CalendarError) return e;
    throw e;
  }
  throw new Error('expected a CalendarError');
}

describe('bad input', () => {
  it('skips a malformed event with a warning naming UID, line and reason, and expands the rest', () => {
    const text = cal(
      ...event('UID:good-1', 'DTSTART:20240105T090000Z'),
      ...event('UID:no-start', 'SUMMARY:forgot DTSTART'),
      ...event('UID:backwards', 'DTSTART:20240105T100000Z', 'DTEND:20240105T090000Z'),
      ...event('UID:typo', 'DTSTART:20240105T090000Z', 'RRULE:FREQ=WEEKLY;UNTL=20240301'),
      ...event('UID:good-2', 'DTSTART:20240106T090000Z'),
    );
    const r = expand(text, '2024-01-01', '2024-02-01');
    expect(r.occurrences.map((o) => o.uid)).toEqual(['good-1', 'good-2']);
    expect(r.warnings).toEqual([
      { uid: 'no-start', line: 8, reason: 'event skipped: it has no DTSTART' },
      { uid: 'backwards', line: 12, reason: 'event skipped: DTEND is before DTSTART' },
      { uid: 'typo', line: 17, reason: 'event skipped: RRULE has unknown part "UNTL" (line 20)' },
    ]);
  });

  it('refuses a file that is not iCalendar with one clear error', () => {
    const e = calendarError(() => expand('<html><body>Timetable</body></html>', '2024-01-01', '2024-02-01'));
    expect(e.code).toBe('notICalendar');
    expect(e.message).toBe(
      'not an iCalendar file: it should start with BEGIN:VCALENDAR but starts with "<html><body>Timetable</body></html>"',
    );
  });

  it('refuses files over the size and event limits', () => {
    const text = cal(
      ...event('UID:a', 'DTSTART:20240105T090000Z'),
      ...event('UID:b', 'DTSTART:20240105T090000Z'),
    );
    expect(calendarError(() => expand(text, '2024-01-01', '2024-02-01', { maxBytes: 50 })).code).toBe(
      'tooLarge',
    );
    expect(calendarError(() => expand(text, '2024-01-01', '2024-02-01', { maxEvents: 1 })).message).toMatch(
      /too many events \(more than 1\)/,
    );
  });

  it('caps an unbounded rule: FREQ=SECONDLY without end fails fast with tooManyOccurrences', () => {
    const text = cal(...event('UID:s', 'DTSTART:20200101T000000Z', 'RRULE:FREQ=SECONDLY'));
    const t0 = Date.now();
    const e = calendarError(() => expand(text, '2024-01-01', '2025-01-01', { maxOccurrences: 10_000 }));
    expect(e.code).toBe('tooManyOccurrences');
    expect(e.message).toMatch(/more than 10000 occurrences/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('expands an unbounded rule in a small window without iterating from DTSTART', () => {
    const r = expand(
      cal(...event('UID:m', 'DTSTART:19700101T000000Z', 'RRULE:FREQ=MINUTELY;INTERVAL=30')),
      '2024-01-01',
      '2024-01-02',
    );
    expect(r.occurrences).toHaveLength(48);
  });

  it('keeps only DTSTART of a rule that can never match, with a warning, instead of hanging', () => {
    const text = cal(
      ...event('UID:never', 'DTSTART:20240101T000000Z', 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30'),
      ...event('UID:ok', 'DTSTART:20240105T090000Z'),
    );
    const t0 = Date.now();
    const r = expand(text, '2024-01-01', '2025-01-01');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.occurrences.map((o) => o.uid)).toEqual(['never', 'ok']);
    expect(r.warnings.map((w) => `${w.uid} ${w.line}`)).toEqual(['never 4']);
    expect(r.warnings[0]?.reason).toMatch(/can never match \(no month in BYMONTH=2 has day 30\).*line 7/);
  });

  it('stops a rule that searches too long with a warning naming it', () => {
    // February minutes only, from March on: half a million candidates before the first one.
    const text = cal(
      ...event('UID:slow', 'DTSTART:20240301T000000Z', 'RRULE:FREQ=MINUTELY;BYMONTH=2'),
      ...event('UID:ok', 'DTSTART:20240305T090000Z'),
    );
    const t0 = Date.now();
    const r = expand(text, '2024-03-01', '2025-03-01', { maxStepsPerRule: 10_000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.occurrences.map((o) => o.uid)).toEqual(['slow', 'ok']);
    expect(r.warnings.map((w) => w.uid)).toEqual(['slow']);
    expect(r.warnings[0]?.reason).toMatch(/FREQ=MINUTELY;BYMONTH=2" stopped after 10000 steps/);
  });

  it('ignores an empty RRULE (keeping the single event) and reads COUNT=0 as no repetition', () => {
    const r = expand(
      cal(
        ...event('UID:e', 'DTSTART;VALUE=DATE:20240101', 'RRULE:'),
        ...event('UID:z', 'DTSTART;VALUE=DATE:20240102', 'RRULE:FREQ=WEEKLY;COUNT=0'),
      ),
      '2023-12-01',
      '2024-03-01',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.start}`)).toEqual(['e 2024-01-01', 'z 2024-01-02']);
    expect(r.warnings).toHaveLength(2);
  });

  it('survives a misspelt END line (END:VTOOD) and reads the following events', () => {
    const text = cal(
      'BEGIN:VTODO',
      'UID:todo',
      'END:VTOOD',
      ...event('UID:after', 'DTSTART:20240105T090000Z'),
    );
    expect(expand(text, '2024-01-01', '2024-02-01').occurrences.map((o) => o.uid)).toEqual(['after']);
  });

  it('reads a DATE start with a DATE-TIME end as a timed event (mixed value types)', () => {
    const r = expand(
      cal(...event('UID:m', 'DTSTART;VALUE=DATE:20230724', 'DTEND:20230817T000000Z')),
      '2023-07-01',
      '2023-09-01',
    );
    expect([r.occurrences[0]?.start, r.occurrences[0]?.end]).toEqual([
      '2023-07-24T00:00:00Z',
      '2023-08-17T00:00:00Z',
    ]);
  });
});
