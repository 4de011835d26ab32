import { describe, expect, it } from 'vitest';
import { CalendarError } from '../../src/ical/index.js';
import ICAL from 'ical.js';
import { weekdayOfMonthOnsets } from '../../src/ical/zones.js';
import { cal, event, expand, times } from '../support/ical.js';
const BERLIN_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Custom Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

const weekly = (tzid: string, start: string, count: number): string[] =>
  event(
    'UID:w',
    `DTSTART;TZID=${tzid}:${start}`,
    'DURATION:PT1H',
    `RRULE:FREQ=WEEKLY;COUNT=${count}`,
    'SUMMARY:Lecture',
  );

describe('time zones and daylight saving time', () => {
  it('keeps a Berlin lecture at 10:00 local across the March change (UTC hour moves 09 -> 08)', () => {
    const r = expand(cal(...weekly('Europe/Berlin', '20240321T100000', 3)), '2024-03-01', '2024-05-01');
    expect(times(r)).toEqual([
      '2024-03-21T09:00:00Z 2024-03-21T10:00:00Z',
      '2024-03-28T09:00:00Z 2024-03-28T10:00:00Z',
      '2024-04-04T08:00:00Z 2024-04-04T09:00:00Z',
    ]);
  });

  it('keeps a Berlin lecture at 10:00 local across the October change (UTC hour moves 08 -> 09)', () => {
    const r = expand(cal(...weekly('Europe/Berlin', '20241017T100000', 3)), '2024-10-01', '2024-11-30');
    expect(times(r).map((t) => t.slice(0, 20))).toEqual([
      '2024-10-17T08:00:00Z',
      '2024-10-24T08:00:00Z',
      '2024-10-31T09:00:00Z',
    ]);
  });

  it('handles both US changes (New York, second Sunday of March and first of November)', () => {
    const spring = expand(
      cal(...weekly('America/New_York', '20240306T100000', 2)),
      '2024-03-01',
      '2024-04-01',
    );
    expect(spring.occurrences.map((o) => o.start)).toEqual(['2024-03-06T15:00:00Z', '2024-03-13T14:00:00Z']);
    const fall = expand(cal(...weekly('America/New_York', '20241030T100000', 2)), '2024-10-01', '2024-12-01');
    expect(fall.occurrences.map((o) => o.start)).toEqual(['2024-10-30T14:00:00Z', '2024-11-06T15:00:00Z']);
  });

  it('reads a skipped wall time with the offset before the gap and a repeated one as its first occurrence (RFC 5545 §3.3.5)', () => {
    const r = expand(
      cal(
        ...event('UID:gap', 'DTSTART;TZID=Europe/Berlin:20240331T023000'),
        ...event('UID:twice', 'DTSTART;TZID=Europe/Berlin:20241027T023000'),
      ),
      '2024-03-01',
      '2024-12-01',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.start}`)).toEqual([
      'gap 2024-03-31T01:30:00Z',
      'twice 2024-10-27T00:30:00Z',
    ]);
  });

  it('maps Windows zone names without a VTIMEZONE, quoted or not, through CLDR windowsZones', () => {
    const r = expand(
      cal(
        ...event(
          'UID:a',
          'DTSTART;TZID="W. Europe Standard Time":20240710T090000',
          'DTEND;TZID="W. Europe Standard Time":20240710T103000',
        ),
        ...event('UID:b', 'DTSTART;TZID=GMT Standard Time:20240110T090000'),
        ...event('UID:c', 'DTSTART;TZID=Pacific Standard Time:20240710T090000'),
      ),
      '2024-01-01',
      '2024-12-31',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.start} ${o.end}`)).toEqual([
      'b 2024-01-10T09:00:00Z 2024-01-10T09:00:00Z',
      'a 2024-07-10T07:00:00Z 2024-07-10T08:30:00Z',
      'c 2024-07-10T16:00:00Z 2024-07-10T16:00:00Z',
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('uses the VTIMEZONE of the file for a TZID that is not an IANA name', () => {
    const r = expand(
      cal(...BERLIN_VTIMEZONE, ...weekly('Custom Berlin', '20241017T100000', 3)),
      '2024-10-01',
      '2024-11-30',
    );
    expect(r.occurrences.map((o) => o.start)).toEqual([
      '2024-10-17T08:00:00Z',
      '2024-10-24T08:00:00Z',
      '2024-10-31T09:00:00Z',
    ]);
  });

  it('prefers the tz database for IANA TZIDs over a truncated VTIMEZONE of the same name', () => {
    // Like feeds that embed only the transitions around their export date: the VTIMEZONE knows no
    // rule before 2018, so taken literally a 2016 winter session would be an hour off.
    const truncated = [
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Berlin',
      'BEGIN:STANDARD',
      'DTSTART:20181028T030000',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'END:VTIMEZONE',
    ];
    const r = expand(
      cal(...truncated, ...event('UID:x', 'DTSTART;TZID=Europe/Berlin:20161203T140000')),
      '2016-12-01',
      '2016-12-31',
    );
    expect(r.occurrences[0]?.start).toBe('2016-12-03T13:00:00Z');
  });

  it('applies X-WR-TIMEZONE as Google means it: UTC and floating times are local times of that zone', () => {
    const r = expand(
      cal(
        'X-WR-TIMEZONE:Europe/Berlin',
        ...event('UID:utc', 'DTSTART:20241017T080000Z', 'RRULE:FREQ=WEEKLY;COUNT=3'),
        ...event('UID:floating', 'DTSTART:20241105T120000'),
      ),
      '2024-10-01',
      '2024-12-01',
    );
    // 08:00Z is 10:00 in Berlin in October; the series stays at 10:00 local after the change.
    expect(r.occurrences.map((o) => `${o.uid} ${o.start}`)).toEqual([
      'utc 2024-10-17T08:00:00Z',
      'utc 2024-10-24T08:00:00Z',
      'utc 2024-10-31T09:00:00Z',
      'floating 2024-11-05T11:00:00Z',
    ]);
  });

  it('reports floating times without Z, or resolves them with defaultTimeZone', () => {
    const text = cal(...event('UID:f', 'DTSTART:20240710T090000', 'DTEND:20240710T100000'));
    const plain = expand(text, '2024-07-01', '2024-08-01').occurrences[0];
    expect([plain?.start, plain?.end, plain?.floating]).toEqual([
      '2024-07-10T09:00:00',
      '2024-07-10T10:00:00',
      true,
    ]);
    const zoned = expand(text, '2024-07-01', '2024-08-01', { defaultTimeZone: 'America/Chicago' })
      .occurrences[0];
    expect([zoned?.start, zoned?.floating]).toEqual(['2024-07-10T14:00:00Z', false]);
  });

  it('warns about an unknown TZID and reads its times as floating', () => {
    const r = expand(
      cal(...event('UID:u', 'DTSTART;TZID=Mars/Olympus_Mons:20240710T090000')),
      '2024-07-01',
      '2024-08-01',
    );
    expect(r.occurrences[0]?.start).toBe('2024-07-10T09:00:00');
    expect(r.warnings[0]?.reason).toMatch(/unknown time zone 'Mars\/Olympus_Mons'/);
  });

  it('refuses an unknown default time zone with a clear error', () => {
    expect(() => expand(cal(), '2024-01-01', '2024-02-01', { defaultTimeZone: 'Nowhere/Special' })).toThrow(
      expect.objectContaining({
        code: 'unknownTimeZone',
        message: expect.stringMatching(/unknown time zone 'Nowhere\/Special'/) as unknown,
      }) as Error,
    );
    expect(() => expand(cal(), '2024-01-01', '2024-02-01', { defaultTimeZone: 'Nowhere/Special' })).toThrow(
      CalendarError,
    );
  });

  it('computes "nth/last weekday of a month" VTIMEZONE onsets exactly as ical.js iterates them', () => {
    // zones.ts expands this rule shape itself so that ical.js is not loaded for ordinary feeds; the
    // onsets must be the ones its ical.js path (kept for other shapes) produces.
    const from = 3_600_000;
    const viaIcalJs = (rule: string, start: number, horizon: number, horizonFrom: number): number[] => {
      const r = ICAL.Recur.fromString(rule);
      let untilUtc = Infinity;
      if (r.until) {
        const u = r.until;
        const w = Date.UTC(u.year, u.month - 1, u.day, u.hour, u.minute, u.second);
        untilUtc = u.zone === ICAL.Timezone.utcTimezone ? w : w - from;
        r.until = null;
      }
      let first = start;
      const fromYear = new Date(horizonFrom).getUTCFullYear() - 1;
      if (!r.count && fromYear > new Date(start).getUTCFullYear()) {
        const moved = new Date(start);
        moved.setUTCFullYear(fromYear);
        first = moved.getTime();
      }
      const d = new Date(first);
      const it = r.iterator(
        ICAL.Time.fromData({
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
          hour: d.getUTCHours(),
          minute: d.getUTCMinutes(),
          second: d.getUTCSeconds(),
          isDate: false,
        }),
      );
      const out: number[] = [];
      for (let n = 0; n < 5000; n++) {
        const t = it.next();
        if (!t) break;
        const u = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - from;
        if (u > untilUtc || u > horizon) break;
        out.push(u);
      }
      return out;
    };
    const rules = [
      'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
      'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10',
      'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU',
      'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;WKST=SU',
      'FREQ=YEARLY;BYMONTH=4;BYDAY=+1SU;INTERVAL=1',
      'FREQ=YEARLY;BYMONTH=9;BYDAY=4SA',
      'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T010000Z',
      'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T020000',
      'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20250330',
      'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;COUNT=7',
    ];
    const starts = [
      '1601-01-01T02:00:00Z',
      '1970-10-25T03:00:00Z',
      '1987-04-05T02:00:00Z',
      '2007-03-31T02:00:00Z',
    ];
    let compared = 0;
    for (const rule of rules)
      for (const start of starts.map(Date.parse))
        for (const [horizonFrom, horizon] of [
          [-Infinity, Date.parse('2030-01-01T00:00:00Z')],
          [Date.parse('2024-09-01T00:00:00Z'), Date.parse('2027-06-01T00:00:00Z')],
          [Date.parse('1999-01-01T00:00:00Z'), Date.parse('2001-01-01T00:00:00Z')],
        ] as const) {
          const entries: { t: number; o: number; from: number }[] = [];
          expect(weekdayOfMonthOnsets(rule, start, from, 0, horizon, horizonFrom, entries)).toBe(true);
          expect(
            entries.map((e) => e.t),
            `${rule} from ${new Date(start).toISOString()}`,
          ).toEqual(viaIcalJs(rule, start, horizon, horizonFrom));
          compared += entries.length;
        }
    expect(compared).toBeGreaterThan(1000);
    // Other shapes are left to ical.js.
    for (const rule of [
      'FREQ=YEARLY;BYMONTH=3;BYDAY=5SU',
      'FREQ=YEARLY;BYMONTH=3;BYDAY=SU',
      'FREQ=YEARLY;BYMONTH=4;BYDAY=SU;BYMONTHDAY=1,2,3,4,5,6,7',
      'FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=-1SU',
      'FREQ=MONTHLY;BYDAY=-1SU',
    ])
      expect(weekdayOfMonthOnsets(rule, 0, from, 0, Infinity, -Infinity, [])).toBe(false);
  });
});
