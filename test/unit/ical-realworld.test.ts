// Shapes of real-world calendars (Outlook/Exchange zone names, timetabling exports that reuse UIDs,
// Exchange CDO rules, VTIMEZONEs that never match) and the silent losses hostile inputs found. Every
// calendar here is written for these tests: test/fixtures/ical/*.ics imitate the shapes, nothing is
// copied from third parties.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { decodeCalendarBody } from '../../src/admin/feeds.js';
import { toDesiredSessions } from '../../src/core/desired.js';
import type { ExpandResult } from '../../src/core/occurrence.js';
import { CalendarError, joinSplitCharacters } from '../../src/ical/index.js';
import { cal, event, expand, times } from '../support/ical.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/ical/${name}`, import.meta.url), 'utf8');

const said = (r: ExpandResult): string[] => r.warnings.map((w) => `${w.uid} @${w.line ?? '?'}: ${w.reason}`);

describe('1. a VTIMEZONE or RRULE that never matches ends promptly, with a warning naming it', () => {
  it('expands an event in a zone whose DAYLIGHT rules can never match, within a second', () => {
    const t0 = performance.now();
    const r = expand(fixture('hanging-vtimezone.ics'), '2027-01-01', '2027-07-01');
    expect(performance.now() - t0).toBeLessThan(1000);
    // The onsets of the zone's DTSTARTs stand (the last is +02:00); the two rules add none.
    expect(times(r)).toEqual(['2027-01-11T07:00:00Z 2027-01-11T08:30:00Z']);
    expect(said(r)).toEqual([
      ' @15: VTIMEZONE "Campus Time" (line 4): RRULE "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" on line 15 can never match (no month in BYMONTH=2 has day 30); only its DTSTART onset is used',
      ' @21: VTIMEZONE "Campus Time" (line 4): RRULE "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31" on line 21 can never match (no month in BYMONTH=4 has day 31); only its DTSTART onset is used',
    ]);
  });

  it('cuts a zone rule that searches too long (not visibly impossible) with a warning naming the VTIMEZONE and line', () => {
    const text = cal(
      'BEGIN:VTIMEZONE',
      'TZID:Slow Zone',
      'BEGIN:STANDARD',
      'DTSTART:16010101T000000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0100',
      'RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=25',
      'END:STANDARD',
      'END:VTIMEZONE',
      ...event('UID:in-slow-zone', 'DTSTART;TZID=Slow Zone:20270111T090000'),
    );
    const t0 = performance.now();
    const r = expand(text, '2027-01-01', '2027-02-01', { maxStepsPerRule: 5000 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.occurrences.map((o) => o.start)).toEqual(['2027-01-11T08:00:00Z']);
    expect(said(r).join('\n')).toMatch(/VTIMEZONE "Slow Zone" \(line 4\): RRULE ".*" on line 10/);
  });

  it('refuses a file whose rules together need more work than the whole-file budget, naming where it ran out', () => {
    const slow = (i: number) =>
      event(`UID:slow-${i}`, 'DTSTART:20260301T000000Z', 'RRULE:FREQ=MINUTELY;BYMONTH=2;BYHOUR=3');
    const text = cal(...[0, 1, 2, 3, 4].flatMap(slow));
    const t0 = performance.now();
    let error: unknown;
    try {
      expand(text, '2027-01-01', '2027-03-01', { maxStepsPerRule: 10_000, maxRuleWork: 100_000 });
    } catch (e) {
      error = e;
    }
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(error).toBeInstanceOf(CalendarError);
    expect((error as CalendarError).code).toBe('tooComplex');
    expect((error as CalendarError).message).toMatch(/more than 100000 steps.*UID slow-\d, line \d+/);
  });
});

describe('2. TZIDs that Outlook and Exchange TEXT-escape', () => {
  it('finds the VTIMEZONE of "Kuala Lumpur\\, Singapore" and "Pacific Time (US & Canada)\\, Tijuana"', () => {
    const r = expand(fixture('outlook-escaped-tzid.ics'), '2027-01-01', '2028-01-01');
    expect(r.occurrences.map((o) => `${o.summary}: ${o.start} ${o.floating}`)).toEqual([
      'Seminar in Kuala Lumpur: 2027-01-12T01:00:00Z false',
      'Seminar in San Francisco: 2027-07-12T16:00:00Z false',
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('names the event (UID and line) when a TZID has no zone', () => {
    const r = expand(
      cal(
        ...event('UID:first-user', 'DTSTART;TZID=Nowhere Standard:20270111T090000'),
        ...event('UID:second-user', 'DTSTART;TZID=Nowhere Standard:20270112T090000'),
      ),
      '2027-01-01',
      '2027-02-01',
    );
    expect(r.warnings.map((w) => `${w.uid} ${w.line}`)).toEqual(['first-user 6']);
    expect(r.warnings[0]?.reason).toMatch(/unknown time zone 'Nowhere Standard'.*floating/);
  });
});

describe('3. Windows display names as TZID, without a VTIMEZONE', () => {
  it('maps "(UTC-05:00) Eastern Time (US & Canada)", a name without its prefix, and an older "(GMT…); Tijuana" name', () => {
    const r = expand(fixture('exchange-display-names.ics'), '2027-01-01', '2028-01-01');
    expect(r.occurrences.map((o) => `${o.summary}: ${o.start}`)).toEqual([
      'Winter school in Berlin: 2027-01-12T08:00:00Z',
      'Winter school in Seattle: 2027-01-12T17:00:00Z',
      'Summer school in Boston: 2027-07-12T13:00:00Z',
    ]);
    expect(r.warnings).toEqual([]);
  });
});

describe('4. two sessions that share a UID (same SEQUENCE, different starts)', () => {
  const r = expand(fixture('duplicate-uid-exams.ics'), '2027-04-01', '2027-07-01');

  it('keeps both exams and warns with both line numbers; a true re-send (higher SEQUENCE) still replaces', () => {
    expect(r.occurrences.map((o) => `${o.start} ${o.summary} ${o.location}`)).toEqual([
      '2027-05-10T08:00:00Z MATH101 exam (first sitting) Hall A',
      '2027-05-11T08:00:00Z PHYS lecture (moved) ',
      '2027-06-07T08:00:00Z MATH101 exam (resit) Hall C',
    ]);
    expect(said(r)).toEqual([
      'EXAM-MATH101@timetable.uni.example @4: the events on lines 4 and 14 have the same UID and SEQUENCE but start at different times: each is kept as a session of its own (give each its own UID in the export)',
    ]);
  });

  it('gives each kept exam a meeting identity of its own that does not depend on the order of the file', () => {
    const keys = (text: string) =>
      toDesiredSessions('feed', expand(text, '2027-04-01', '2027-07-01').occurrences)
        .sessions.map((s) => `${s.start} ${s.key} ${s.recurrenceId}`)
        .sort();
    const text = fixture('duplicate-uid-exams.ics');
    const blocks = text.split(/(?=BEGIN:VEVENT)/);
    const head = blocks[0] as string;
    const events = blocks.slice(1).map((b) => b.replace(/END:VCALENDAR\r\n$/, ''));
    const reordered = `${head}${[...events].reverse().join('')}END:VCALENDAR\r\n`;
    const first = keys(text);
    expect(first).toHaveLength(3);
    expect(new Set(first.map((k) => k.split(' ')[1])).size).toBe(3);
    expect(keys(reordered)).toEqual(first);
    // The earliest exam keeps the UID's own identity (as before it had a twin); the resit is told
    // apart by its start.
    expect(first.map((k) => `${k.split(' ')[0]} ${k.split(' ')[2]}`)).toEqual([
      '2027-05-10T08:00:00Z null',
      '2027-05-11T08:00:00Z null',
      '2027-06-07T08:00:00Z 2027-06-07T08:00:00Z',
    ]);
  });
});

describe('5. forgiving recurrence rules', () => {
  const r = expand(fixture('exchange-cdo-rules.ics'), '2027-01-01', '2027-02-01');

  it('reads Exchange CDO "BYDAY=MO, TU, WE, TH, FR" (spaces after commas) as the weekdays', () => {
    expect(r.occurrences.filter((o) => o.uid === 'cdo-weekdays').map((o) => o.start.slice(0, 10))).toEqual([
      '2027-01-11',
      '2027-01-12',
      '2027-01-13',
      '2027-01-14',
      '2027-01-15',
      '2027-01-18',
      '2027-01-19',
      '2027-01-20',
      '2027-01-21',
      '2027-01-22',
    ]);
  });

  it('ignores an unknown rule part with a warning naming it, the event and the line, and keeps the series', () => {
    expect(r.occurrences.filter((o) => o.uid === 'cdo-unknown-part')).toHaveLength(3);
    expect(said(r)).toEqual([
      'cdo-unknown-part @12: RRULE part "X-NAME=VALUE" is not an RFC 5545 rule part and was ignored (line 17)',
    ]);
  });

  it('still refuses a part that looks like a misspelt UNTIL or COUNT: ignoring it would make the series endless', () => {
    const bad = expand(
      cal(...event('UID:typo', 'DTSTART:20270111T090000Z', 'RRULE:FREQ=WEEKLY;UNTL=20270301')),
      '2027-01-01',
      '2027-04-01',
    );
    expect(bad.occurrences).toEqual([]);
    expect(said(bad)).toEqual(['typo @4: event skipped: RRULE has unknown part "UNTL" (line 7)']);
  });
});

describe('6. inputs that used to be lost or misread without a word', () => {
  const r = expand(fixture('silent-losses.ics'), '2027-01-01', '2027-02-01');

  it('warns about a VEVENT nested inside an unknown component, naming its UID and line', () => {
    expect(said(r)).toContain(
      'nested-lecture @5: event ignored: its VEVENT is inside X-GROUP (line 4), not directly inside a VCALENDAR',
    );
  });

  it('refuses TZOFFSETTO:+9959 (no zone is 99 hours off UTC) with a warning, instead of moving the event by days', () => {
    expect(said(r)).toContain(
      ' @15: VTIMEZONE "Far East Campus" (line 13): its STANDARD on line 15 was ignored: TZOFFSETFROM "+9959" is not a UTC offset within ±18:00',
    );
    expect(said(r)).toContain(
      "far-east-lecture @24: unknown time zone 'Far East Campus' (no usable VTIMEZONE, not an IANA or Windows name): its times are read as floating (in the feed's time zone or DEFAULT_TIME_ZONE; without one its sessions are skipped as floating)",
    );
    const lecture = r.occurrences.find((o) => o.uid === 'far-east-lecture');
    expect([lecture?.start, lecture?.floating]).toEqual(['2027-01-12T09:00:00', true]);
  });

  it('warns when DTEND equals DTSTART', () => {
    expect(said(r)).toContain(
      'instant-lecture @28: DTEND on line 32 equals DTSTART: the session has no length',
    );
    expect(r.occurrences.find((o) => o.uid === 'instant-lecture')?.end).toBe('2027-01-13T09:00:00Z');
  });

  it('reads a line folded in the middle of a UTF-8 character (unfolded as bytes, then decoded)', () => {
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    const body = Buffer.concat([
      utf8(
        cal(...event('UID:cafe', 'DTSTART:20270111T090000Z', 'SUMMARY:Caf@@ au lait et cr@@pes')).replace(
          /SUMMARY:[^\r]*/,
          'SUMMARY:PLACEHOLDER',
        ),
      ),
    ]);
    // "SUMMARY:Café au lait et crêpes", folded after the first byte of "é" and inside "ê".
    const summary = Buffer.concat([
      utf8('SUMMARY:Caf'),
      Buffer.from([0xc3]),
      utf8('\r\n '),
      Buffer.from([0xa9]),
      utf8(' au lait et cr'),
      Buffer.from([0xc3]),
      utf8('\r\n\t'),
      Buffer.from([0xaa]),
      utf8('pes'),
    ]);
    const at = body.indexOf('SUMMARY:PLACEHOLDER');
    const bytes = Buffer.concat([
      body.subarray(0, at),
      summary,
      body.subarray(at + 'SUMMARY:PLACEHOLDER'.length),
    ]);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    const text = decodeCalendarBody(bytes, 1_000_000);
    const read = expand(text, '2027-01-01', '2027-02-01');
    expect(read.occurrences.map((o) => o.summary)).toEqual(['Café au lait et crêpes']);
    expect(read.warnings).toEqual([]);
    // Lines keep their numbers: the fold stays where it was, after the whole character.
    expect(new TextDecoder().decode(joinSplitCharacters(bytes)).split('\n').length).toBe(
      bytes.toString('latin1').split('\n').length,
    );
  });

  it('still refuses bytes that are not UTF-8 however they are folded, naming the line', () => {
    const bytes = Buffer.concat([Buffer.from(cal(...event('UID:x', 'SUMMARY:Caf'))), Buffer.from([0xff])]);
    expect(() => decodeCalendarBody(bytes, 1_000_000)).toThrow(/not valid UTF-8 text \(line 9;/);
  });
});
