import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { foldCalendar, foldLine, unfoldLines } from '../../src/calendar/fold.js';
import {
  etagOf,
  feedStamp,
  isPublished,
  matchesIfNoneMatch,
  renderIcs,
  type PublishedSession,
} from '../../src/calendar/render.js';
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

  it('publishes only rows with a live meeting, not cancelled, not older than 30 days', () => {
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
    expect(isPublished({ ...base, joinWebUrl: null }, now)).toBe(false);
    expect(isPublished({ ...base, end: '2026-07-01T00:00:00Z' }, now)).toBe(false);
  });
});
