// Hostile and broken input, all written by this file (nothing is read from outside the repository):
// generated files (truncated, 50 MB, deeply nested, a 10 MB line, invalid UTF-8, unknown TZIDs, endless
// FREQ=SECONDLY, 100,000 EXDATEs, a rule ical.js refuses only when iterating, an HTML error page) and
// malformed calendars of the shapes real exports have (a typo in RRULE, end before start, PERIOD values
// in RDATE, two RRULEs, folded lines, LF endings, no UID, a VTODO beside the VEVENT), and the shapes of
// issue 15 (a VTIMEZONE that never matches, TZOFFSETTO:+9959, DTEND = DTSTART). Each upload ends
// in a clear 4xx problem or is accepted with warnings naming the bad events, within a bounded time and
// memory, and an accepted one accounts for every instance; a rejected upload leaves the feed row, its
// body version, the meeting rows and the meetings exactly as they were. An HTML page served for a URL
// feed fails the sync run and changes nothing either.
// (Admin routes without credentials → 401, changing nothing: test/integration/http-* covers them.)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';

import { ProblemError } from '../../src/admin/problems.js';
import { uploadFeed, type UploadResult } from '../../src/admin/feeds.js';
import { fetchFeedUrl } from '../../src/feeds/fetch.js';
import { useSyncHarness, type World } from '../support/sync-harness.js';
import { baseSeed, randomInt, reportFigures, rng, weeklyTimetable } from '../support/reliability-env.js';

const harness = useSyncHarness();
const TIME_BOUND_MS = 20_000;
/** Peak resident memory of the test process after all cases (generous: Node + vitest + 50 MB strings). */
const MEMORY_BOUND_BYTES = 2.5 * 1024 ** 3;
const ORGANIZER = 'ada@uni.example';

type Expectation = 'reject' | 'warn' | 'rejectOrWarn' | 'any';
interface Case {
  name: string;
  body: () => string | Uint8Array;
  expect: Expectation;
  /** A phrase the error or a warning must contain (case-insensitive). */
  mentions?: RegExp;
  /** A phrase the warnings must contain: those of an accepted upload, or those a refusal lists. */
  reasons?: RegExp;
  /**
   * For an accepted upload whose events have no ORGANIZER: the starts (UTC) of exactly the sessions it
   * must report as skipped, each saying so and naming its event (nothing lost, nothing invented).
   */
  skippedStarts?: string[];
}

const wrap = (...vevent: string[]) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//hostile//EN',
    'BEGIN:VEVENT',
    'DTSTAMP:20261201T000000Z',
    `ORGANIZER:mailto:${ORGANIZER}`,
    ...vevent,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

function generatedCases(goodIcs: string): Case[] {
  const random = rng(baseSeed(404));
  const truncations = [0.1, 0.35, 0.6, 0.9].map(
    (share) => Math.floor(goodIcs.length * share) + randomInt(random, 0, 40),
  );
  return [
    ...truncations.map<Case>((at) => ({
      name: `truncated at byte ${at} of ${goodIcs.length}`,
      body: () => goodIcs.slice(0, at),
      expect: 'rejectOrWarn',
    })),
    {
      name: '50 MB file',
      body: () =>
        wrap(
          'UID:big@x',
          'SUMMARY:Big',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T100000Z',
          `DESCRIPTION:${'x'.repeat(50 * 1024 * 1024)}`,
        ),
      expect: 'reject',
      mentions: /limit|large/i,
    },
    {
      name: 'deeply nested components (100,000 levels)',
      body: () =>
        [
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          ...Array.from({ length: 100_000 }, () => 'BEGIN:X-NEST'),
          ...Array.from({ length: 100_000 }, () => 'END:X-NEST'),
          'END:VCALENDAR',
          '',
        ].join('\r\n'),
      expect: 'reject',
      mentions: /VEVENT|event/i,
    },
    {
      name: 'deeply nested components around a VEVENT',
      body: () =>
        [
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          ...Array.from({ length: 50_000 }, () => 'BEGIN:X-NEST'),
          'BEGIN:VEVENT',
          'UID:n@x',
          'DTSTART:20270111T090000Z',
          'END:VEVENT',
          ...Array.from({ length: 50_000 }, () => 'END:X-NEST'),
          'END:VCALENDAR',
          '',
        ].join('\r\n'),
      // Not an event of the calendar (RFC 5545 §3.4), but never dropped without a word (issue 15).
      expect: 'rejectOrWarn',
      mentions: /VEVENT|event/i,
    },
    {
      name: 'VTIMEZONE whose onset rules never match (it used to freeze the process)',
      body: () =>
        [
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'BEGIN:VTIMEZONE',
          'TZID:Campus Time',
          'BEGIN:STANDARD',
          'DTSTART:16010101T000000',
          'TZOFFSETFROM:+0100',
          'TZOFFSETTO:+0100',
          'RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=3;BYMINUTE=7',
          'END:STANDARD',
          'BEGIN:DAYLIGHT',
          'DTSTART:16010101T000000',
          'TZOFFSETFROM:+0100',
          'TZOFFSETTO:+0200',
          'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
          'END:DAYLIGHT',
          'END:VTIMEZONE',
          'BEGIN:VEVENT',
          'UID:zone-hang@x',
          'DTSTAMP:20261201T000000Z',
          `ORGANIZER:mailto:${ORGANIZER}`,
          'SUMMARY:In a hanging zone',
          'DTSTART;TZID=Campus Time:20270111T090000',
          'DTEND;TZID=Campus Time:20270111T100000',
          'END:VEVENT',
          'END:VCALENDAR',
          '',
        ].join('\r\n'),
      expect: 'warn',
      reasons: /VTIMEZONE "Campus Time" \(line 3\).*can never match/,
    },
    {
      name: 'TZOFFSETTO:+9959 (would move events by days)',
      body: () =>
        wrap(
          'UID:offset@x',
          'SUMMARY:Far off',
          'DTSTART;TZID=Far Campus:20270111T090000',
          'DTEND;TZID=Far Campus:20270111T100000',
          'END:VEVENT',
          'BEGIN:VTIMEZONE',
          'TZID:Far Campus',
          'BEGIN:STANDARD',
          'DTSTART:19700101T000000',
          'TZOFFSETFROM:+0100',
          'TZOFFSETTO:+9959',
          'END:STANDARD',
          'END:VTIMEZONE',
          'BEGIN:VEVENT',
          'UID:other@x',
          'DTSTART:20270112T090000Z',
          'DTEND:20270112T100000Z',
        ),
      expect: 'rejectOrWarn',
      mentions: /±18:00/,
    },
    {
      name: 'DTEND equal to DTSTART',
      body: () =>
        wrap('UID:instant@x', 'SUMMARY:Instant', 'DTSTART:20270111T090000Z', 'DTEND:20270111T090000Z'),
      expect: 'warn',
      reasons: /equals DTSTART/,
    },
    {
      name: '10 MB single line (no line break at all)',
      body: () => `BEGIN:VCALENDAR${'A'.repeat(10 * 1024 * 1024 - 100)}`,
      expect: 'reject',
    },
    {
      name: '10 MB single content line inside a valid event',
      body: () =>
        wrap(
          'UID:long@x',
          'SUMMARY:Long',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T100000Z',
          `DESCRIPTION:${'y'.repeat(10 * 1024 * 1024 - 400)}`,
        ),
      expect: 'any',
    },
    {
      name: 'invalid UTF-8',
      body: () =>
        Buffer.concat([
          Buffer.from(wrap('UID:utf@x', 'SUMMARY:Caf', 'DTSTART:20270111T090000Z')),
          Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        ]),
      expect: 'reject',
      mentions: /UTF-8/i,
    },
    {
      name: 'NUL bytes (binary)',
      body: () => new Uint8Array([...Buffer.from('BEGIN:VCALENDAR\r\n'), 0, 1, 2, 0]),
      expect: 'reject',
      mentions: /binary|NUL/i,
    },
    {
      name: 'unknown TZID',
      body: () =>
        wrap(
          'UID:tz@x',
          'SUMMARY:Mars',
          'DTSTART;TZID=Mars/Olympus_Mons:20270111T090000',
          'DTEND;TZID=Mars/Olympus_Mons:20270111T100000',
        ),
      expect: 'rejectOrWarn',
      mentions: /Mars\/Olympus_Mons|time zone|TZID/i,
    },
    {
      name: 'RRULE:FREQ=SECONDLY with no end',
      body: () =>
        wrap(
          'UID:sec@x',
          'SUMMARY:Every second',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T090001Z',
          'RRULE:FREQ=SECONDLY',
        ),
      expect: 'rejectOrWarn',
    },
    {
      name: 'RRULE that ical.js refuses only when iterating (FREQ=MONTHLY;BYYEARDAY=1)',
      body: () =>
        wrap(
          'UID:yd@x',
          'SUMMARY:Year day',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T100000Z',
          'RRULE:FREQ=MONTHLY;BYYEARDAY=1',
        ),
      expect: 'reject',
      reasons: /BYYEARDAY/,
    },
    {
      name: '100,000 EXDATEs',
      body: () =>
        wrap(
          'UID:ex@x',
          'SUMMARY:Daily',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T100000Z',
          'RRULE:FREQ=DAILY;COUNT=200',
          ...Array.from(
            { length: 100_000 },
            (_, i) =>
              `EXDATE:${new Date(Date.parse('2027-01-12T09:00:00Z') + i * 86_400_000).toISOString().replace(/[-:]/g, '').replace('.000', '')}`,
          ),
        ),
      expect: 'any',
    },
    {
      name: 'HTML error page',
      body: () =>
        '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n',
      expect: 'reject',
      mentions: /iCalendar|BEGIN:VCALENDAR/i,
    },
  ];
}

/** A malformed calendar as real exports write them, uploaded on the day before `firstDay`. */
interface MalformedCase extends Case {
  /** YYYY-MM-DD of the first event: the world's clock starts the day before, so its events are in the horizon. */
  firstDay: string;
}

const lf = (...lines: string[]) => [...lines, ''].join('\n');
const crlf = (...lines: string[]) => [...lines, ''].join('\r\n');

/** Europe/Berlin as exporters write it, with yearly onset rules (RRULE BYDAY=-1SU). */
const BERLIN_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'X-LIC-LOCATION:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

/**
 * The shapes of the malformed calendars that other iCalendar libraries were given by their users (a
 * typo in RRULE, end before start, PERIOD values in RDATE, two RRULEs), written here with our own
 * dates and names.
 */
function malformedCases(): MalformedCase[] {
  return [
    {
      name: 'RRULE with a misspelt part (UNTL= for UNTIL), LF line ends, no VERSION, TZID without VTIMEZONE',
      firstDay: '2027-08-05',
      // Read as a rule without end it would be an endless weekly series: the event must be refused.
      body: () =>
        lf(
          'BEGIN:VCALENDAR',
          'BEGIN:VEVENT',
          'SUMMARY:Seminar',
          'DTSTART;TZID=Europe/London:20270805T140000',
          'DTEND;TZID=Europe/London:20270805T150000',
          'DTSTAMP:20270801T083416Z',
          'UID:seminar@hostile',
          'SEQUENCE:0',
          'RRULE:FREQ=WEEKLY;UNTL=20271023;BYDAY=TH;WKST=SU',
          'CREATED:20270729T105342Z',
          'DESCRIPTION:Weekly seminar',
          'LAST-MODIFIED:20270801T064315Z',
          'LOCATION:',
          'STATUS:CONFIRMED',
          'TRANSP:OPAQUE',
          'END:VEVENT',
          'END:VCALENDAR',
        ),
      expect: 'reject',
      reasons: /unknown part "UNTL"/,
    },
    {
      name: 'DTEND before DTSTART, in a zone given by its VTIMEZONE (CRLF)',
      firstDay: '2027-03-08',
      body: () =>
        crlf(
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'PRODID:-//hostile//DAV//EN',
          'CALSCALE:GREGORIAN',
          'X-WR-CALNAME:test',
          'X-APPLE-CALENDAR-COLOR:#e78074',
          ...BERLIN_VTIMEZONE,
          'BEGIN:VEVENT',
          'CREATED:20270303T111937',
          'DTSTAMP:20270303T111937',
          'LAST-MODIFIED:20270303T111937',
          'UID:backwards@hostile',
          'SUMMARY:Backwards',
          'DTSTART;TZID=Europe/Berlin:20270308T083000',
          'DTEND;TZID=Europe/Berlin:20270308T080000',
          'END:VEVENT',
          'END:VCALENDAR',
        ),
      expect: 'reject',
      reasons: /DTEND is before DTSTART/,
    },
    {
      name: 'DTEND before DTSTART, with a folded ATTENDEE line and a VTODO of the same UID',
      firstDay: '2027-12-13',
      body: () => {
        const item = (kind: string, endName: string) => [
          `BEGIN:${kind}`,
          'SUMMARY:Late',
          'DTSTART;TZID=Europe/Paris:20271213T234500',
          `${endName};TZID=Europe/Paris:20271213T233000`,
          'DTSTAMP:20271210T104027Z',
          'UID:late@hostile',
          'SEQUENCE:1',
          'ATTENDEE;CN="Bea";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPA',
          ' NT;RSVP=TRUE:mailto:bea@uni.example',
          'CLASS:PUBLIC',
          `ORGANIZER;CN="Ada":mailto:${ORGANIZER}`,
          'TRANSP:OPAQUE',
          `END:${kind}`,
        ];
        return lf('BEGIN:VCALENDAR', ...item('VEVENT', 'DTEND'), ...item('VTODO', 'DUE'), 'END:VCALENDAR');
      },
      expect: 'reject',
      reasons: /DTEND is before DTSTART/,
    },
    {
      name: 'RDATE;VALUE=PERIOD with a TZID (start/end), EXDATE with a TZID, an RRULE folded inside BYMONTH, VTIMEZONE with RDATE onsets',
      firstDay: '2027-09-15',
      body: () =>
        lf(
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'X-WR-CALNAME;VALUE=TEXT:Colloquium',
          'BEGIN:VTIMEZONE',
          'TZID:America/Vancouver',
          'BEGIN:STANDARD',
          'DTSTART:20261101T020000',
          'TZOFFSETFROM:-0700',
          'TZOFFSETTO:-0800',
          'RDATE:20271107T020000',
          'TZNAME:PST',
          'END:STANDARD',
          'BEGIN:DAYLIGHT',
          'DTSTART:20270314T020000',
          'TZOFFSETFROM:-0800',
          'TZOFFSETTO:-0700',
          'RDATE:20280312T020000',
          'TZNAME:PDT',
          'END:DAYLIGHT',
          'END:VTIMEZONE',
          'BEGIN:VEVENT',
          'UID:colloquium@hostile',
          'DESCRIPTION:Monthly colloquium',
          'DTSTART;TZID=America/Vancouver:20270915T120000',
          'DTEND;TZID=America/Vancouver:20270915T140000',
          'EXDATE;TZID=America/Vancouver:20271215T120000',
          'RDATE;VALUE=PERIOD;TZID=America/Vancouver:20271208T120000/20271208T150000',
          'RRULE:FREQ=MONTHLY;COUNT=4;INTERVAL=1;BYDAY=+3WE;BYMONTH=1,2,3,4,5,9,10,11,',
          ' 12;WKST=MO',
          'SUMMARY:Colloquium',
          'END:VEVENT',
          'END:VCALENDAR',
        ),
      expect: 'rejectOrWarn',
      mentions: /Colloquium.*no ORGANIZER/,
      // Third Wednesdays 12:00 Vancouver (PDT, then PST from 7 November), 15 December taken out by
      // the EXDATE, 8 December added by the RDATE period.
      skippedStarts: [
        '2027-09-15T19:00:00Z',
        '2027-10-20T19:00:00Z',
        '2027-11-17T20:00:00Z',
        '2027-12-08T20:00:00Z',
      ],
    },
    {
      name: 'RDATE;VALUE=PERIOD with a duration, no UID, no VERSION',
      firstDay: '2027-09-13',
      body: () =>
        lf(
          'BEGIN:VCALENDAR',
          'BEGIN:VEVENT',
          'DTSTART:20270913T120000Z',
          'DTEND:20270913T130000Z',
          'RDATE;VALUE=PERIOD:20270914T120000Z/PT2H',
          'SUMMARY:Period with a duration',
          'END:VEVENT',
          'END:VCALENDAR',
        ),
      expect: 'rejectOrWarn',
      mentions: /Period with a duration.*without UID.*no ORGANIZER/,
      skippedStarts: ['2027-09-13T12:00:00Z', '2027-09-14T12:00:00Z'],
    },
    {
      name: 'two RRULEs (weekly, and monthly on the 2nd Monday), folded PRODID (CRLF)',
      firstDay: '2027-01-14',
      body: () =>
        crlf(
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'PRODID:-//hostile.example//Cyrus ',
          ' 3.9.0-alpha0-85-gd6d859e0cf//EN',
          'BEGIN:VEVENT',
          'CREATED:20270109T084023Z',
          'LAST-MODIFIED:20270110T110732Z',
          'DTSTAMP:20270110T110732Z',
          'UID:twice@hostile',
          'SUMMARY:Repeating twice',
          'RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=10',
          'RRULE:FREQ=MONTHLY;BYDAY=2MO;COUNT=2',
          'DTSTART;TZID=Europe/London:20270114T100000',
          'DTEND;TZID=Europe/London:20270114T120000',
          'END:VEVENT',
          'END:VCALENDAR',
        ),
      expect: 'rejectOrWarn',
      mentions: /Repeating twice.*no ORGANIZER/,
      // Ten Thursdays from 14 January, and DTSTART then 8 February for the monthly rule (DTSTART is its
      // first instance); all in GMT.
      skippedStarts: [
        '2027-01-14T10:00:00Z',
        '2027-01-21T10:00:00Z',
        '2027-01-28T10:00:00Z',
        '2027-02-04T10:00:00Z',
        '2027-02-08T10:00:00Z',
        '2027-02-11T10:00:00Z',
        '2027-02-18T10:00:00Z',
        '2027-02-25T10:00:00Z',
        '2027-03-04T10:00:00Z',
        '2027-03-11T10:00:00Z',
        '2027-03-18T10:00:00Z',
      ],
    },
  ];
}

async function runCases(world: World, feedId: string, goodIcs: string, cases: Case[]) {
  const failures: string[] = [];
  const figures = {
    cases: cases.length,
    rejected: 0,
    acceptedWithWarnings: 0,
    acceptedClean: 0,
    slowestMs: 0,
  };
  for (const c of cases) {
    const before = await snapshot(world, feedId);
    const body = c.body();
    const started = performance.now();
    let outcome: { rejected: ProblemError } | { accepted: UploadResult };
    try {
      outcome = { accepted: await uploadFeed(world.services, feedId, body) };
    } catch (error) {
      if (!(error instanceof ProblemError)) {
        failures.push(
          `${c.name}: threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error)} instead of a 4xx problem`,
        );
        continue;
      }
      outcome = { rejected: error };
    }
    const elapsed = performance.now() - started;
    figures.slowestMs = Math.max(figures.slowestMs, Math.round(elapsed));
    if (elapsed > TIME_BOUND_MS)
      failures.push(`${c.name}: took ${Math.round(elapsed)} ms (bound ${TIME_BOUND_MS})`);
    const after = await snapshot(world, feedId);
    // Uploads never touch meetings, accepted or not.
    if (JSON.stringify(after.rows) !== JSON.stringify(before.rows))
      failures.push(`${c.name}: meeting rows changed`);
    if (JSON.stringify(after.meetings) !== JSON.stringify(before.meetings))
      failures.push(`${c.name}: meetings changed`);
    if ('rejected' in outcome) {
      figures.rejected++;
      const problem = outcome.rejected;
      if (!(problem.status >= 400 && problem.status < 500))
        failures.push(`${c.name}: status ${problem.status}`);
      if (problem.message.length === 0 || problem.message.length > 500)
        failures.push(`${c.name}: unclear message (${problem.message.length} chars)`);
      if (c.expect === 'warn')
        failures.push(`${c.name}: rejected (${problem.message}) but should be accepted with warnings`);
      if (c.mentions && !c.mentions.test(problem.message))
        failures.push(`${c.name}: message "${problem.message}" does not say ${c.mentions}`);
      const listed = ((problem.extensions.warnings ?? []) as { uid: string; reason: string }[])
        .map((w) => `${w.uid} ${w.reason}`)
        .join(' | ');
      if (c.reasons && !c.reasons.test(listed))
        failures.push(`${c.name}: the refusal's warnings "${listed.slice(0, 300)}" do not say ${c.reasons}`);
      if (c.skippedStarts) failures.push(`${c.name}: rejected (${problem.message}) but should be accepted`);
      if (JSON.stringify(after.feed) !== JSON.stringify(before.feed))
        failures.push(`${c.name}: rejected, yet the feed row changed`);
    } else {
      const { warnings, skipped } = outcome.accepted;
      const said = [
        ...warnings.map((w) => `${w.uid} ${w.reason}`),
        ...skipped.map((s) => `${s.uid} ${s.reason} ${s.detail ?? ''}`),
      ].join(' | ');
      if (said === '') figures.acceptedClean++;
      else figures.acceptedWithWarnings++;
      if (c.expect === 'reject')
        failures.push(`${c.name}: accepted (${outcome.accepted.sessions} sessions) but should be refused`);
      if ((c.expect === 'warn' || c.expect === 'rejectOrWarn') && said === '')
        failures.push(`${c.name}: accepted ${outcome.accepted.sessions} sessions without any warning`);
      if (c.mentions && said !== '' && !c.mentions.test(said))
        failures.push(`${c.name}: warnings "${said.slice(0, 300)}" do not say ${c.mentions}`);
      const warned = warnings.map((w) => `${w.uid} ${w.reason}`).join(' | ');
      if (c.reasons && !c.reasons.test(warned))
        failures.push(`${c.name}: warnings "${warned.slice(0, 300)}" do not say ${c.reasons}`);
      if (c.skippedStarts) {
        const starts = skipped.map((s) => s.start).sort();
        if (JSON.stringify(starts) !== JSON.stringify([...c.skippedStarts].sort()))
          failures.push(
            `${c.name}: skipped sessions at ${starts.join(', ')}; expected ${c.skippedStarts.join(', ')}`,
          );
        if (outcome.accepted.sessions !== 0)
          failures.push(`${c.name}: ${outcome.accepted.sessions} sessions accepted without an organizer`);
        for (const s of skipped)
          if (s.reason !== 'noOrganizer' || !c.mentions?.test(s.detail))
            failures.push(`${c.name}: skipped ${s.start} as ${s.reason}: ${s.detail}`);
      }
      // Put the good timetable back for the next case.
      await world.upload(feedId, goodIcs);
    }
  }
  return { ...figures, failures };
}

async function snapshot(world: World, feedId: string) {
  const feed = await world.services.store.feeds.get(feedId);
  const rows = await world.services.store.meetings.listByFeed(feedId);
  return { feed, rows, meetings: world.emulator.control.meetings() };
}

describe('hostile and broken uploads', () => {
  it(
    'each is refused clearly or accepted with warnings, in bounded time and memory; a refusal changes nothing',
    { timeout: 240_000 },
    async () => {
      const world = await harness.world();
      const users = world.seed([ORGANIZER]);
      await world.grant(users.get(ORGANIZER)!);
      const good = weeklyTimetable({ tag: 'victim', organizers: [ORGANIZER], courses: 3, weeks: 3 });
      await world.upload('victim', good.ics);
      expect((await world.sync('victim')).created).toBe(good.sessions.length);

      const cases = generatedCases(good.ics);
      const figures = await runCases(world, 'victim', good.ics, cases);
      const peakRss = process.resourceUsage().maxRSS * 1024;
      reportFigures('hostile-input', {
        ...figures,
        failures: figures.failures.length,
        peakRssMB: Math.round(peakRss / 1024 ** 2),
      });
      expect(peakRss).toBeLessThan(MEMORY_BOUND_BYTES);
      expect(figures.failures, figures.failures.join('\n')).toEqual([]);
    },
  );

  it(
    "malformed calendars of real exports' shapes, each uploaded at its own date (so its events fall in the horizon)",
    { timeout: 120_000 },
    async () => {
      const failures: string[] = [];
      const cases = malformedCases();
      for (const c of cases) {
        const day = Date.parse(`${c.firstDay}T00:00:00Z`);
        const world = await harness.world({ start: new Date(day - 86_400_000).toISOString() });
        const users = world.seed([ORGANIZER]);
        await world.grant(users.get(ORGANIZER)!);
        const good = weeklyTimetable({
          tag: 'victim',
          organizers: [ORGANIZER],
          courses: 2,
          weeks: 2,
          firstDay: new Date(day + 7 * 86_400_000).toISOString(),
        });
        await world.upload('victim', good.ics);
        expect((await world.sync('victim')).created).toBe(good.sessions.length);
        const result = await runCases(world, 'victim', good.ics, [c]);
        failures.push(...result.failures);
      }
      reportFigures('hostile-malformed', { cases: cases.length, failures: failures.length });
      expect(failures, failures.join('\n')).toEqual([]);
    },
  );
});

describe('an HTML error page served for a URL feed', () => {
  it('fails the run with a clear reason and leaves the feed body, meeting rows and meetings as they were', async () => {
    const world = await harness.world();
    const users = world.seed([ORGANIZER]);
    await world.grant(users.get(ORGANIZER)!);
    const good = weeklyTimetable({ tag: 'urlfeed', organizers: [ORGANIZER], courses: 2, weeks: 3 });
    let serveHtml = false;
    const server: Server = createServer((_req, res) => {
      if (serveHtml) {
        // A misconfigured proxy: 200 with an HTML error page.
        res.writeHead(200, { 'content-type': 'text/html', etag: '"html"' });
        res.end('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>');
      } else {
        res.writeHead(200, { 'content-type': 'text/calendar', etag: '"v1"' });
        res.end(good.ics);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/timetable.ics`;
      const template = (await world.upload('template', good.ics)).feed;
      const { etag: _etag, ...fields } = template as typeof template & { etag?: string };
      await world.services.store.feeds.create({
        ...fields,
        id: 'url-feed',
        source: 'url',
        url,
        contentHash: null,
        bodyVersion: null,
        lastRun: null,
      });
      // The real fetcher, only allowed to reach this loopback test server over http.
      const fetchFeed = (u: string, v: { etag: string | null; lastModified: string | null }) =>
        fetchFeedUrl(u, v, { maxBytes: 1024 * 1024, allowHttp: true, isAllowedAddress: () => true });
      const first = await world.sync('url-feed', { deps: { fetchFeed } });
      expect(first.created).toBe(good.sessions.length);

      serveHtml = true;
      const before = await snapshot(world, 'url-feed');
      world.advance(15 * 60_000);
      const run = await world.sync('url-feed', { deps: { fetchFeed } });
      const after = await snapshot(world, 'url-feed');
      expect(run.outcome).toBe('failed');
      expect(run.message).toMatch(/iCalendar|BEGIN:VCALENDAR/);
      expect(world.events.some((e) => e.name === 'feed.rejected' && e.properties.feedId === 'url-feed')).toBe(
        true,
      );
      expect(after.rows).toEqual(before.rows);
      expect(after.meetings).toEqual(before.meetings);
      // ARCHITECTURE.md: "a rejected one leaves the current version in place".
      expect({ contentHash: after.feed?.contentHash, bodyVersion: after.feed?.bodyVersion }).toEqual({
        contentHash: before.feed?.contentHash,
        bodyVersion: before.feed?.bodyVersion,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a truncated download (no END:VCALENDAR) is refused like a truncated upload: the run fails, meetings stay', async () => {
    // uploadFeed refuses a body that ends before END:VCALENDAR; a URL feed's body goes through syncFeed.
    const world = await harness.world();
    const users = world.seed([ORGANIZER]);
    await world.grant(users.get(ORGANIZER)!);
    const good = weeklyTimetable({ tag: 'cutfeed', organizers: [ORGANIZER], courses: 2, weeks: 3 });
    let cut = false;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/calendar', etag: cut ? '"cut"' : '"v1"' });
      res.end(cut ? good.ics.slice(0, good.ics.indexOf('RRULE', good.ics.indexOf('course 1'))) : good.ics);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/timetable.ics`;
      const template = (await world.upload('template', good.ics)).feed;
      const { etag: _etag, ...fields } = template as typeof template & { etag?: string };
      await world.services.store.feeds.create({
        ...fields,
        id: 'cut-feed',
        source: 'url',
        url,
        contentHash: null,
        bodyVersion: null,
        lastRun: null,
      });
      const fetchFeed = (u: string, v: { etag: string | null; lastModified: string | null }) =>
        fetchFeedUrl(u, v, { maxBytes: 1024 * 1024, allowHttp: true, isAllowedAddress: () => true });
      expect((await world.sync('cut-feed', { deps: { fetchFeed } })).created).toBe(good.sessions.length);
      cut = true;
      const before = await snapshot(world, 'cut-feed');
      world.advance(15 * 60_000);
      const run = await world.sync('cut-feed', { deps: { fetchFeed } });
      const after = await snapshot(world, 'cut-feed');
      expect(after.meetings).toEqual(before.meetings);
      expect(run.outcome, JSON.stringify(run)).toBe('failed');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
