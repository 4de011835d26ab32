import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { foldCalendar, foldLine, unfoldLines } from '../../src/calendar/fold.js';
import ICAL from 'ical.js';

import {
  etagOf,
  feedStamp,
  isPublished,
  matchesIfNoneMatch,
  NO_MEETING_YET,
  renderIcs,
  renderJson,
  toPublishedSessions,
  type PublishedSession,
} from '../../src/calendar/render.js';
import { safeText } from '../../src/calendar/text.js';
import type { MeetingRecord } from '../../src/core/state.js';

describe('foldLine', () => {
  it('keeps every physical line within 75 octets, continuation space included, and unfolds to the original', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const line = `DESCRIPTION:${text.replace(/[\r\n]/g, ' ')}`;
        const folded = foldLine(line);
        for (const physical of folded.split('\r\n'))
          expect(Buffer.byteLength(physical)).toBeLessThanOrEqual(75);
        expect(unfoldLines(folded)).toBe(line);
      }),
    );
  });

  it('never splits a multi-byte character', () => {
    const folded = foldLine(`SUMMARY:${'Ü'.repeat(60)}${'😀'.repeat(30)}`);
    for (const physical of folded.split('\r\n')) expect(physical).not.toContain('\uFFFD');
    expect(Buffer.from(folded, 'utf8').toString('utf8')).toBe(folded);
    expect(folded.split('\r\n')[0]).toBe(`SUMMARY:${'Ü'.repeat(33)}`); // 8 + 66 octets; one more would be 76
  });

  it('leaves short lines alone; foldCalendar ends with CRLF', () => {
    expect(foldLine('VERSION:2.0')).toBe('VERSION:2.0');
    expect(foldCalendar('BEGIN:VCALENDAR\nEND:VCALENDAR')).toBe('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
  });
});

const session = (overrides: Partial<PublishedSession> = {}): PublishedSession => ({
  uid: 'abc@timetable-sync',
  feedId: 'f',
  summary: 'Lecture, part 1; intro',
  start: '2026-09-14T08:15:00Z',
  end: '2026-09-14T10:00:00Z',
  joinUrl:
    'https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d',
  location: '',
  lecturer: '',
  description: '',
  stamp: '2026-08-01T12:00:00Z',
  ...overrides,
});

describe('renderIcs', () => {
  it('escapes text values (RFC 5545 §3.3.11) and writes UTC times', () => {
    const ics = unfoldLines(renderIcs('maths', [session()]));
    expect(ics).toContain('SUMMARY:Lecture\\, part 1\\; intro');
    expect(ics).toContain('DTSTART:20260914T081500Z');
    expect(ics).toContain('DTEND:20260914T100000Z');
    expect(ics).toContain('DTSTAMP:20260801T120000Z');
    expect(ics).toContain('UID:abc@timetable-sync');
    expect(ics).toMatch(/^BEGIN:VCALENDAR\r\nPRODID:[^\r]+\r\nVERSION:2\.0\r\n/);
    expect(ics).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H');
  });

  it('keeps the room and appends the Teams link in LOCATION; the link alone when there is no room', () => {
    const withRoom = unfoldLines(renderIcs('maths', [session({ location: 'Room 101' })]));
    expect(withRoom).toContain(
      'LOCATION:Room 101\\; Microsoft Teams Meeting: https://teams.microsoft.com/l/meetup-join/',
    );
    const without = unfoldLines(renderIcs('maths', [session()]));
    expect(without).toContain('LOCATION:Microsoft Teams Meeting: https://teams.microsoft.com/l/meetup-join/');
  });

  it('is independent of input order', () => {
    const a = session({
      uid: 'a@timetable-sync',
      start: '2026-09-15T08:00:00Z',
      end: '2026-09-15T09:00:00Z',
    });
    const b = session({ uid: 'b@timetable-sync' });
    expect(renderIcs('x', [a, b])).toBe(renderIcs('x', [b, a]));
  });
});

describe('helpers', () => {
  it('If-None-Match: list, weak forms and *', () => {
    const etag = etagOf('body');
    expect(matchesIfNoneMatch(etag, etag)).toBe(true);
    expect(matchesIfNoneMatch(`"x", W/${etag}`, etag)).toBe(true);
    expect(matchesIfNoneMatch('*', etag)).toBe(true);
    expect(matchesIfNoneMatch('"x"', etag)).toBe(false);
    expect(matchesIfNoneMatch(null, etag)).toBe(false);
    expect(etagOf('body')).toBe(etag);
    expect(etagOf('body2')).not.toBe(etag);
  });

  it('DTSTAMP is when the current body was accepted, else the feed creation', () => {
    expect(
      feedStamp({
        bodyVersion: '20260801T120000123Z-0123456789abcdef',
        createdAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toBe('2026-08-01T12:00:00Z');
    expect(feedStamp({ bodyVersion: null, createdAt: '2026-01-01T00:00:00.000Z' })).toBe(
      '2026-01-01T00:00:00Z',
    );
  });

  it('publishes every session not cancelled and not older than 30 days, with or without a meeting', () => {
    const now = Date.parse('2026-09-01T00:00:00Z');
    const base = {
      joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/x',
      meetingId: 'm',
      state: 'active',
      end: '2026-09-14T10:00:00Z',
    } as MeetingRecord;
    expect(isPublished(base, now)).toBe(true);
    expect(isPublished({ ...base, state: 'failed' }, now)).toBe(true); // an update failed; the meeting still exists
    expect(isPublished({ ...base, state: 'cancelled' }, now)).toBe(false);
    expect(isPublished({ ...base, state: 'cancelling' }, now)).toBe(false);
    expect(isPublished({ ...base, joinWebUrl: null, meetingId: null, state: 'blocked' }, now)).toBe(true);
    expect(isPublished({ ...base, end: '2026-07-01T00:00:00Z' }, now)).toBe(false);
  });
});

const row = (overrides: Partial<MeetingRecord> = {}): MeetingRecord => ({
  feedId: 'f',
  key: '0123456789abcdef0123456789abcdef',
  uid: 'u',
  recurrenceId: null,
  organizerEmail: 'Ada@Uni.example',
  organizerId: 'oid-ada',
  externalId: 'tts-x-0',
  generation: 0,
  meetingId: 'm-1',
  joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/x',
  subject: 'Lecture',
  start: '2026-09-14T08:00:00Z',
  end: '2026-09-14T09:00:00Z',
  location: 'Room 1',
  contentHash: 'h',
  state: 'active',
  attempts: 0,
  nextAttemptAt: null,
  lastError: null,
  ...overrides,
});
const FEED = { id: 'maths', bodyVersion: null, createdAt: '2026-01-01T00:00:00.000Z' };
const NOW_MS = Date.parse('2026-09-01T00:00:00Z');

describe('every session, with or without its link', () => {
  it('a session without a meeting has its time, room and lecturer, a status and no link', () => {
    const blocked = row({ state: 'blocked', meetingId: null, joinWebUrl: null });
    const sessions = toPublishedSessions(
      FEED,
      [blocked],
      NOW_MS,
      new Map([['ada@uni.example', 'Ada Lovelace']]),
    );
    const ics = unfoldLines(renderIcs('maths', sessions));
    expect(ics).toContain('DTSTART:20260914T080000Z');
    expect(ics).toContain('LOCATION:Room 1\r\n');
    expect(ics).toContain(
      `DESCRIPTION:Lecturer: Ada Lovelace\\n\\n${NO_MEETING_YET}\\nThe join link appears here as soon as the meeting exists.`,
    );
    expect(ics).not.toMatch(/^URL|X-MICROSOFT-SKYPETEAMSMEETINGURL|teams\.microsoft/m);
    const json = JSON.parse(renderJson('maths', sessions)) as { events: Array<Record<string, unknown>> };
    expect(json.events[0]).toMatchObject({
      joinUrl: null,
      status: 'meetingNotYetAvailable',
      lecturer: 'Ada Lovelace',
      location: 'Room 1',
    });
  });

  it('once the meeting exists the same event carries the link, below the description and the lecturer', () => {
    const [session] = toPublishedSessions(
      FEED,
      [row({ description: 'Bring a laptop.\r\nSlides online.' })],
      NOW_MS,
    );
    const ics = unfoldLines(renderIcs('maths', [session!]));
    expect(ics).toContain(
      'DESCRIPTION:Bring a laptop.\\nSlides online.\\n\\nLecturer: Ada@Uni.example\\n\\nJoin the Microsoft Teams meeting:\\nhttps://teams.microsoft.com/l/meetup-join/x',
    );
    expect(ics).toContain('X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/x');
  });
});

/** Splits where any reader might end a line: CRLF, CR, LF, VT, FF, NEL, LS, PS. */
// eslint-disable-next-line no-control-regex
const ALL_LINE_BREAKS = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/;
const HOSTILE = [
  '\r',
  '\n',
  '\r\n',
  '\u000b',
  '\u000c',
  '\u0085',
  '\u2028',
  '\u2029',
  '\u0000',
  '\u001b',
  '\u007f',
  '\u009b',
];

describe('safe text', () => {
  const hostile = (text: string) =>
    `${text}END:VEVENT${text}BEGIN:VEVENT${text}UID:fake${text}URL:https://evil.example/join${text}X-MICROSOFT-SKYPETEAMSMEETINGURL:https://evil.example${text}`;

  it('a SUMMARY, LOCATION or lecturer with CR, VT, U+2028 … adds no property and no event, to a strict parser or a line splitter', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 4 }),
        fc.string({ maxLength: 20 }),
        (breaks, filler) => {
          const text = hostile(breaks.join(filler));
          const records = [
            row({ subject: text, location: text, description: text, organizerEmail: 'x@uni.example' }),
            row({
              key: 'fedcba9876543210fedcba9876543210',
              subject: 'Plain',
              meetingId: null,
              joinWebUrl: null,
            }),
          ];
          const sessions = toPublishedSessions(FEED, records, NOW_MS, new Map([['x@uni.example', text]]));
          const ics = renderIcs(text, sessions);
          // The strict parser finds the two events, each with one UID, and no URL but the real one.
          const calendar = new ICAL.Component(ICAL.parse(ics) as unknown[]);
          const events = calendar.getAllSubcomponents('vevent');
          expect(events.map((e) => e.getFirstPropertyValue('uid'))).toEqual(
            sessions.map((s) => s.uid).sort(),
          );
          for (const event of events) expect(event.getAllProperties('uid')).toHaveLength(1);
          // A reader splitting on every kind of line break sees the same: every physical line is a
          // property line or a folded continuation, two events, no line of ours starts with "URL:https://evil".
          const lines = ics.split(ALL_LINE_BREAKS).filter((l) => l !== '');
          for (const line of lines) expect(line).toMatch(/^( |[A-Z-]+[;:])/);
          expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(2);
          expect(
            lines.filter((l) => /^(UID|URL|X-MICROSOFT-SKYPETEAMSMEETINGURL)[;:].*evil/.test(l)),
          ).toEqual([]);
          // The JSON twin holds the same text, without those characters either.
          const json = renderJson(text, sessions);
          expect(json).not.toMatch(/[\u2028\u2029\u0085]/);
          const parsed = JSON.parse(json) as { name: string; events: Array<Record<string, string>> };
          // One-line values hold no line break at all; DESCRIPTION only the one `\n` TEXT allows.
          // eslint-disable-next-line no-control-regex
          const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
          // eslint-disable-next-line no-control-regex
          const oneLineBreaks = /[\n\r\u000b\u000c\u0085\u2028\u2029]/;
          for (const value of [
            parsed.name,
            ...parsed.events.flatMap((e) => [e.summary, e.location, e.lecturer]),
          ])
            expect(value).not.toMatch(oneLineBreaks);
          for (const e of parsed.events) expect(e.description).not.toMatch(controls);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('safeText: line breaks become a space (or \\n where the value has lines); other controls go', () => {
    expect(safeText('a\rb\u000bc\u2028d\r\ne\u0085f\u0000g\tg')).toBe('a b c d e fg\tg');
    expect(safeText('a\r\nb\u2029c', { multiline: true })).toBe('a\nb\nc');
  });
});
