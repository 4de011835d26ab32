// Occurrence identity through the real iCalendar parser (test/unit/core-desired.test.ts checks the same
// rule on Occurrence objects; this generates calendar *text*): the set of session keys — and so the set
// of meetings — does not change when VEVENTs are reordered, SEQUENCE is bumped, long lines are folded
// differently, or an instance is moved/renamed through a RECURRENCE-ID override.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toDesiredSessions } from '../../src/core/desired.js';
import { expandCalendar } from '../../src/ical/index.js';
import { scaled } from '../support/reliability-env.js';

const WINDOW = { from: Date.parse('2027-01-01T00:00:00Z'), to: Date.parse('2027-07-01T00:00:00Z') };
const BASE = Date.parse('2027-01-11T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const pad = (n: number) => String(n).padStart(2, '0');
function icsUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00Z`;
}

const arbOverride = fc.record({
  instance: fc.integer({ min: 0, max: 5 }),
  shiftHours: fc.integer({ min: -20, max: 20 }),
  rename: fc.boolean(),
});
const arbEvent = fc.record({
  day: fc.integer({ min: 0, max: 60 }),
  hour: fc.integer({ min: 7, max: 18 }),
  minutes: fc.constantFrom(45, 60, 90, 120),
  freq: fc.constantFrom('NONE', 'DAILY', 'WEEKLY'),
  count: fc.integer({ min: 1, max: 6 }),
  organizer: fc.constantFrom('ada@uni.example', 'brian@uni.example'),
  summary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,;:]{0,90}$/),
  sequence: fc.integer({ min: 0, max: 3 }),
  overrides: fc.uniqueArray(arbOverride, { selector: (o) => o.instance, maxLength: 3 }),
  exdate: fc.option(fc.integer({ min: 0, max: 5 })),
});
type EventSpec = typeof arbEvent extends fc.Arbitrary<infer T> ? T : never;

interface Variation {
  order: number[];
  sequenceBump: number;
  foldAt: number;
  /** Move/rename overrides by this much (0 = as generated). */
  extraShiftHours: number;
  renameSuffix: string;
}

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,');
}

/** RFC 5545 §3.1 folding at `width` characters (a CRLF followed by one space). */
function fold(line: string, width: number): string {
  if (line.length <= width) return line;
  const parts = [line.slice(0, width)];
  for (let i = width; i < line.length; i += width - 1) parts.push(` ${line.slice(i, i + width - 1)}`);
  return parts.join('\r\n');
}

function render(events: EventSpec[], v: Variation): string {
  const blocks: string[][] = [];
  events.forEach((e, index) => {
    const uid = `ev${index}@identity.example`;
    const start = BASE + e.day * DAY + e.hour * HOUR;
    const length = e.minutes * 60_000;
    const step = e.freq === 'DAILY' ? DAY : 7 * DAY;
    const instances = e.freq === 'NONE' ? 1 : e.count;
    const seq = e.sequence + v.sequenceBump;
    const master = [
      `UID:${uid}`,
      `SEQUENCE:${seq}`,
      `ORGANIZER:mailto:${e.organizer}`,
      `SUMMARY:${escapeText(e.summary)}`,
      `DTSTART:${icsUtc(start)}`,
      `DTEND:${icsUtc(start + length)}`,
      ...(e.freq === 'NONE' ? [] : [`RRULE:FREQ=${e.freq};COUNT=${e.count}`]),
      ...(e.freq !== 'NONE' && e.exdate !== null && e.exdate < instances
        ? [`EXDATE:${icsUtc(start + e.exdate * step)}`]
        : []),
    ];
    blocks.push(master);
    if (e.freq === 'NONE') return;
    for (const o of e.overrides) {
      if (o.instance >= instances || o.instance === e.exdate) continue;
      const original = start + o.instance * step;
      const moved = original + (o.shiftHours + v.extraShiftHours) * HOUR;
      blocks.push([
        `UID:${uid}`,
        `SEQUENCE:${seq + 1}`,
        `RECURRENCE-ID:${icsUtc(original)}`,
        `ORGANIZER:mailto:${e.organizer}`,
        `SUMMARY:${escapeText(`${e.summary}${o.rename ? ' (moved)' : ''}${v.renameSuffix}`)}`,
        `DTSTART:${icsUtc(moved)}`,
        `DTEND:${icsUtc(moved + length)}`,
      ]);
    }
  });
  const ordered = v.order.length === blocks.length ? v.order.map((i) => blocks[i] as string[]) : blocks;
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//reliability identity//EN'];
  for (const block of ordered)
    lines.push(
      'BEGIN:VEVENT',
      'DTSTAMP:20261201T000000Z',
      ...block.map((l) => fold(l, v.foldAt)),
      'END:VEVENT',
    );
  lines.push('END:VCALENDAR');
  return `${lines.join('\r\n')}\r\n`;
}

function sessionsOf(ics: string): Map<string, { start: string; end: string; subject: string }> {
  const expanded = expandCalendar(ics, WINDOW);
  const { sessions } = toDesiredSessions('identity-feed', expanded.occurrences);
  return new Map(
    sessions
      .filter((s) => !s.cancelled)
      .map((s) => [s.key, { start: s.start, end: s.end, subject: s.subject }]),
  );
}

function blockCount(events: EventSpec[]): number {
  return events.reduce(
    (n, e) =>
      n +
      1 +
      (e.freq === 'NONE'
        ? 0
        : e.overrides.filter((o) => o.instance < e.count && o.instance !== e.exdate).length),
    0,
  );
}

const arbCase = fc
  .uniqueArray(arbEvent, { minLength: 1, maxLength: 6, selector: (e) => `${e.day}|${e.hour}` })
  .chain((events) =>
    fc.record({
      events: fc.constant(events),
      order: fc.shuffledSubarray([...Array(blockCount(events)).keys()], {
        minLength: blockCount(events),
        maxLength: blockCount(events),
      }),
      sequenceBump: fc.integer({ min: 1, max: 5 }),
      foldAt: fc.integer({ min: 8, max: 75 }),
    }),
  );

const NUM_RUNS = scaled(60, 600);

describe('occurrence keys through the iCalendar parser', () => {
  it('are the same under VEVENT reordering, SEQUENCE bumps and different line folding (and so are the sessions)', () => {
    fc.assert(
      fc.property(arbCase, ({ events, order, sequenceBump, foldAt }) => {
        const original = sessionsOf(
          render(events, { order: [], sequenceBump: 0, foldAt: 1_000, extraShiftHours: 0, renameSuffix: '' }),
        );
        const variant = sessionsOf(
          render(events, { order, sequenceBump, foldAt, extraShiftHours: 0, renameSuffix: '' }),
        );
        expect([...variant.keys()].sort()).toEqual([...original.keys()].sort());
        for (const [key, session] of original) expect(variant.get(key)).toEqual(session);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('are the same when instances are moved or renamed through their RECURRENCE-ID overrides', () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.integer({ min: 1, max: 30 }),
        ({ events, order, sequenceBump, foldAt }, shift) => {
          const original = sessionsOf(
            render(events, {
              order: [],
              sequenceBump: 0,
              foldAt: 1_000,
              extraShiftHours: 0,
              renameSuffix: '',
            }),
          );
          const moved = sessionsOf(
            render(events, {
              order,
              sequenceBump,
              foldAt,
              extraShiftHours: shift,
              renameSuffix: ' [room 2]',
            }),
          );
          expect([...moved.keys()].sort()).toEqual([...original.keys()].sort());
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
