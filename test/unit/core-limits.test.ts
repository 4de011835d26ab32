// The limits of what a session may carry (core/limits.ts), the last gate in toDesiredSessions, and a
// skipped list whose size does not grow with the length of what was skipped.
import { describe, expect, it } from 'vitest';

import { toDesiredSessions } from '../../src/core/desired.js';
import {
  MAX_EMAIL_OCTETS,
  MAX_LOCATION_CHARS,
  MAX_MEETING_ROW_BYTES,
  MAX_SUBJECT_CHARS,
  MAX_UID_CHARS,
  TABLE_ENTITY_MAX_BYTES,
  TABLE_STRING_MAX_UNITS,
  capList,
  emailLengthProblem,
  eventFieldProblem,
  forDisplay,
} from '../../src/core/limits.js';
import type { Occurrence } from '../../src/core/occurrence.js';
import { expandCalendar } from '../../src/ical/index.js';
import { organizerRowKey } from '../../src/storage/organizers.js';

const fine = {
  uid: 'lec@uni.example',
  summary: 'Algebra',
  location: 'Room 1',
  organizerEmail: 'ada@uni.example',
};

function occurrence(minute: number, overrides: Partial<Occurrence> = {}): Occurrence {
  const start = new Date(Date.UTC(2027, 0, 4, 8, minute)).toISOString().replace('.000Z', 'Z');
  const end = new Date(Date.UTC(2027, 0, 4, 8, minute + 1)).toISOString().replace('.000Z', 'Z');
  return {
    uid: 'desk@uni.example',
    recurrenceId: start,
    start,
    end,
    allDay: false,
    floating: false,
    summary: 'Help desk',
    description: '',
    location: '',
    organizer: null,
    attendees: [],
    status: 'confirmed',
    sequence: 0,
    ...overrides,
  };
}

describe('field limits', () => {
  it('accepts every field at its limit and names the first one over it', () => {
    expect(
      eventFieldProblem({
        uid: 'u'.repeat(MAX_UID_CHARS),
        summary: 's'.repeat(MAX_SUBJECT_CHARS),
        location: 'l'.repeat(MAX_LOCATION_CHARS),
        organizerEmail: `${'o'.repeat(MAX_EMAIL_OCTETS - 12)}@uni.example`,
      }),
    ).toBeNull();
    expect(eventFieldProblem({ ...fine, uid: 'u'.repeat(40_000) })).toBe(
      'UID is 40,000 characters long; at most 16,384 can be stored',
    );
    expect(eventFieldProblem({ ...fine, summary: 's'.repeat(40_000) })).toBe(
      'SUMMARY is 40,000 characters long; a Teams meeting subject may have at most 244',
    );
    expect(eventFieldProblem({ ...fine, location: 'l'.repeat(70_000) })).toBe(
      'LOCATION is 70,000 characters long; at most 16,384 can be stored',
    );
    expect(eventFieldProblem({ ...fine, organizerEmail: `${'o'.repeat(388)}@uni.example` })).toBe(
      'ORGANIZER is 400 octets long; an e-mail address has at most 254 (RFC 5321)',
    );
    // The subject is the trimmed SUMMARY, as the meeting gets it.
    expect(eventFieldProblem({ ...fine, summary: `  ${'s'.repeat(MAX_SUBJECT_CHARS)}  ` })).toBeNull();
  });

  it('counts an address in UTF-8 octets, so its organizer row key always fits', () => {
    const ascii = `${'a'.repeat(MAX_EMAIL_OCTETS - 12)}@uni.example`;
    expect(emailLengthProblem(ascii)).toBeNull();
    // 100 characters, 300 octets: too long although far under 254 characters.
    const wide = `${'ü'.repeat(144)}@uni.example`;
    expect(wide.length).toBeLessThan(MAX_EMAIL_OCTETS);
    expect(emailLengthProblem(wide)).toMatch(/is 300 octets long/);
    const widest = `${'ü'.repeat((MAX_EMAIL_OCTETS - 12) / 2)}@uni.example`;
    expect(emailLengthProblem(widest)).toBeNull();
    expect(organizerRowKey(widest).length).toBeLessThanOrEqual(512);
    // Four octets per emoji (a surrogate pair): 61 of them and '@x.example' are exactly 254.
    expect(emailLengthProblem(`${'😀'.repeat(61)}@x.example`)).toBeNull();
    expect(emailLengthProblem(`${'😀'.repeat(62)}@x.example`)).toMatch(/is 258 octets long/);
  });

  it('a meeting row with every field at its limit stays under the entity size, each string under its property size', () => {
    expect(MAX_MEETING_ROW_BYTES).toBeLessThan(TABLE_ENTITY_MAX_BYTES);
    for (const max of [MAX_UID_CHARS, MAX_LOCATION_CHARS, MAX_SUBJECT_CHARS, MAX_EMAIL_OCTETS])
      expect(max).toBeLessThanOrEqual(TABLE_STRING_MAX_UNITS);
  });

  it('cuts text for display (never inside a surrogate pair) and caps lists with the count of the rest', () => {
    expect(forDisplay('short')).toBe('short');
    expect(forDisplay('x'.repeat(40_000))).toBe(`${'x'.repeat(80)}… (40,000 characters)`);
    expect(forDisplay(`${'x'.repeat(79)}😀tail`)).toBe(`${'x'.repeat(79)}… (85 characters)`);
    expect(capList([1, 2, 3], 2)).toEqual({ shown: [1, 2], omitted: 1 });
    expect(capList([1], 2)).toEqual({ shown: [1], omitted: 0 });
  });
});

describe('toDesiredSessions: the last gate and the skipped list', () => {
  it('skips a session whose fields cannot be stored, whoever called it, naming the field', () => {
    const { sessions, skipped } = toDesiredSessions('f', [
      occurrence(0, { organizer: { email: 'ada@uni.example' } }),
      occurrence(1, { uid: 'big', summary: 'S'.repeat(40_000), organizer: { email: 'ada@uni.example' } }),
      occurrence(2, { uid: 'loc', location: 'L'.repeat(70_000), organizer: { email: 'ada@uni.example' } }),
    ]);
    expect(sessions.map((s) => s.uid)).toEqual(['desk@uni.example']);
    expect(skipped.map((s) => [s.uid, s.reason])).toEqual([
      ['big', 'tooLong'],
      ['loc', 'tooLong'],
    ]);
    expect(skipped[0]?.detail).toMatch(/SUMMARY is 40,000 characters long/);
    expect(skipped[0]?.detail.length).toBeLessThan(400);
    expect(skipped[1]?.detail).toMatch(/LOCATION is 70,000 characters long/);
  });

  it('a default organizer over the limit (stored before it was checked) skips the sessions that use it', () => {
    const long = `${'p'.repeat(288)}@uni.example`;
    const { sessions, skipped } = toDesiredSessions(
      'f',
      [occurrence(0), occurrence(1, { uid: 'own', organizer: { email: 'ada@uni.example' } })],
      { defaultOrganizer: long },
    );
    expect(sessions.map((s) => s.organizerEmail)).toEqual(['ada@uni.example']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ uid: 'desk@uni.example', reason: 'tooLong' });
    expect(skipped[0]?.detail).toMatch(/organizer p+… \(300 characters\) is 300 octets long/);
  });

  it('an event skipped every minute shares one bounded detail across its sessions', () => {
    const summary = 'Drop-in help desk '.repeat(13).trim(); // 233 characters: a valid subject
    const occurrences = Array.from({ length: 10_000 }, (_, i) => occurrence(i, { summary }));
    const { skipped } = toDesiredSessions('f', occurrences);
    expect(skipped).toHaveLength(10_000);
    expect(new Set(skipped.map((s) => s.detail)).size).toBe(1);
    const detail = skipped[0]?.detail ?? '';
    expect(detail).toMatch(
      /^"Drop-in help desk .*… \(233 characters\)" \(UID desk@uni\.example\) has no ORGANIZER/,
    );
    expect(detail.length).toBeLessThan(300);
    // Each session keeps its own start and key.
    expect(new Set(skipped.map((s) => s.key)).size).toBe(10_000);
    expect(skipped[9_999]?.start).toBe('2027-01-11T06:39:00Z');
  });
});

describe('the iCalendar engine on its own', () => {
  it('keeps a long SUMMARY unless the caller checks the fields (the expand command and conformance are unchanged)', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:long@x',
      `SUMMARY:${'s'.repeat(1_000)}`,
      'DTSTART:20270104T090000Z',
      'DTEND:20270104T100000Z',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    const window = { from: Date.UTC(2027, 0, 1), to: Date.UTC(2027, 1, 1) };
    expect(expandCalendar(text, window).occurrences).toHaveLength(1);
    const checked = expandCalendar(text, window, { checkEvent: eventFieldProblem });
    expect(checked.occurrences).toEqual([]);
    expect(checked.warnings).toEqual([
      {
        uid: 'long@x',
        line: 3,
        reason:
          'event skipped: SUMMARY is 1,000 characters long; a Teams meeting subject may have at most 244',
      },
    ]);
  });
});
