import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toDesiredSessions } from '../../src/core/desired.js';
import { contentHash, occurrenceKey } from '../../src/core/identity.js';
import type { Occurrence } from '../../src/core/occurrence.js';

function occurrence(overrides: Partial<Occurrence> = {}): Occurrence {
  return {
    uid: 'lec-101@uni.example',
    recurrenceId: '2025-03-10T09:00:00Z',
    start: '2025-03-10T09:00:00Z',
    end: '2025-03-10T10:00:00Z',
    allDay: false,
    floating: false,
    summary: 'Algebra',
    description: '',
    location: 'Room 1',
    organizer: { email: 'ada@uni.example' },
    attendees: [],
    status: 'confirmed',
    sequence: 0,
    ...overrides,
  };
}

describe('toDesiredSessions', () => {
  it('turns a timed occurrence into a session with its key and content hash', () => {
    const occ = occurrence();
    const { sessions, skipped } = toDesiredSessions('feed-1', [occ]);
    expect(skipped).toEqual([]);
    expect(sessions).toEqual([
      {
        key: occurrenceKey('feed-1', occ),
        uid: occ.uid,
        recurrenceId: occ.recurrenceId,
        subject: 'Algebra',
        start: '2025-03-10T09:00:00Z',
        end: '2025-03-10T10:00:00Z',
        organizerEmail: 'ada@uni.example',
        cancelled: false,
        contentHash: contentHash({
          subject: 'Algebra',
          start: occ.start,
          end: occ.end,
          organizerEmail: 'ada@uni.example',
        }),
        location: 'Room 1',
        description: '',
      },
    ]);
  });

  it('keeps the DESCRIPTION for published calendars, cut to 1,000 characters, outside the content hash', () => {
    const long = 'x'.repeat(5_000);
    const [withNotes] = toDesiredSessions('feed-1', [occurrence({ description: `  ${long}  ` })]).sessions;
    const [without] = toDesiredSessions('feed-1', [occurrence()]).sessions;
    expect(withNotes?.description).toBe('x'.repeat(1_000));
    expect(withNotes?.contentHash).toBe(without?.contentHash);
  });

  it.each([
    ['allDay', { allDay: true, start: '2025-03-10', end: '2025-03-11' }, {}],
    ['floating', { floating: true, start: '2025-03-10T09:00:00', end: '2025-03-10T10:00:00' }, {}],
    ['noOrganizer', { organizer: null }, {}],
    ['noOrganizer', { organizer: { email: '' } }, { defaultOrganizer: '  ' }],
    ['invalidTime', { end: '2025-03-10T08:00:00Z' }, {}],
  ] as const)('skips %s with a reason naming the event', (reason, change, options) => {
    const occ = occurrence(change);
    const { sessions, skipped } = toDesiredSessions('feed-1', [occ], options);
    expect(sessions).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ key: occurrenceKey('feed-1', occ), uid: occ.uid, reason });
    expect(skipped[0]?.detail).toContain(occ.uid);
  });

  it('uses the feed default organizer, normalised, when the event has none', () => {
    const { sessions } = toDesiredSessions('feed-1', [occurrence({ organizer: null })], {
      defaultOrganizer: ' MAILTO:Office@Uni.Example',
    });
    expect(sessions[0]?.organizerEmail).toBe('office@uni.example');
  });

  it("prefers the event's own organizer over the default", () => {
    const { sessions } = toDesiredSessions('feed-1', [occurrence()], {
      defaultOrganizer: 'office@uni.example',
    });
    expect(sessions[0]?.organizerEmail).toBe('ada@uni.example');
  });

  it.each([
    ['', '(untitled session)'],
    ['   ', '(untitled session)'],
    ['  Algebra  ', 'Algebra'],
  ])('subject of %j is %j', (summary, subject) => {
    expect(toDesiredSessions('f', [occurrence({ summary })]).sessions[0]?.subject).toBe(subject);
  });

  it('marks STATUS:CANCELLED sessions cancelled, even without any organizer', () => {
    const { sessions, skipped } = toDesiredSessions('f', [
      occurrence({ status: 'cancelled', organizer: null }),
    ]);
    expect(skipped).toEqual([]);
    expect(sessions).toMatchObject([{ cancelled: true, organizerEmail: '' }]);
  });

  it('writes instants as UTC without milliseconds', () => {
    const { sessions } = toDesiredSessions('f', [
      occurrence({ start: '2025-03-10T10:00:00.000+01:00', end: '2025-03-10T10:00:00.000Z' }),
    ]);
    expect(sessions[0]).toMatchObject({ start: '2025-03-10T09:00:00Z', end: '2025-03-10T10:00:00Z' });
  });

  it('keeps the higher SEQUENCE of two occurrences with one key, whatever their order', () => {
    const old = occurrence({ sequence: 1, summary: 'Old' });
    const revised = occurrence({
      sequence: 2,
      summary: 'New',
      start: '2025-03-10T11:00:00Z',
      end: '2025-03-10T12:00:00Z',
    });
    for (const input of [
      [old, revised],
      [revised, old],
    ]) {
      const { sessions, skipped } = toDesiredSessions('f', input);
      expect(sessions.map((s) => s.subject)).toEqual(['New']);
      expect(skipped).toMatchObject([{ reason: 'duplicate', summary: 'Old' }]);
    }
  });

  it('keeps the later of two duplicates with equal SEQUENCE', () => {
    const { sessions, skipped } = toDesiredSessions('f', [
      occurrence({ summary: 'First' }),
      occurrence({ summary: 'Second' }),
    ]);
    expect(sessions.map((s) => s.subject)).toEqual(['Second']);
    expect(skipped.map((s) => [s.reason, s.summary])).toEqual([['duplicate', 'First']]);
  });

  it('gives the same sessions and skips when it consumes the occurrences, and leaves none of them in the array', () => {
    const occurrences = [
      occurrence({ sequence: 1 }),
      occurrence({ summary: 'Algebra (old)' }), // the same session, an earlier revision
      occurrence({
        recurrenceId: null,
        uid: 'x',
        start: '2025-03-11T09:00:00Z',
        end: '2025-03-11T10:00:00Z',
      }),
      occurrence({ uid: 'y', allDay: true, start: '2025-03-12', end: '2025-03-13' }),
    ];
    const expected = toDesiredSessions('feed-1', occurrences);

    const consumed = [...occurrences];
    expect(toDesiredSessions('feed-1', consumed, { consumeOccurrences: true })).toEqual(expected);
    expect(consumed.filter((o) => o !== undefined)).toEqual([]);
    expect(expected.skipped.map((s) => s.reason)).toEqual(['duplicate', 'allDay']);
  });

  it('sorts sessions by start', () => {
    const later = occurrence({ uid: 'a', start: '2025-03-11T09:00:00Z', end: '2025-03-11T10:00:00Z' });
    const earlier = occurrence({ uid: 'b', start: '2025-03-10T09:00:00Z' });
    expect(toDesiredSessions('f', [later, earlier]).sessions.map((s) => s.uid)).toEqual(['b', 'a']);
  });

  it('gives every session the same key under VEVENT reordering, SEQUENCE bumps, moves and renames', () => {
    const instance = fc.record({
      uid: fc.constantFrom('u1', 'u2', 'u3', ''),
      recurrenceId: fc.option(
        fc.integer({ min: 0, max: 50 }).map((d) => new Date(Date.UTC(2025, 2, 1 + d, 9)).toISOString()),
      ),
      summary: fc.constantFrom('Algebra', 'Physics', 'Chemistry'),
      startHour: fc.integer({ min: 0, max: 24 * 60 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(instance, {
          selector: (i) =>
            `${i.uid}|${i.recurrenceId ?? ''}|${i.uid === '' ? `${i.summary}|${i.startHour}` : ''}`,
          maxLength: 20,
        }),
        fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (instances, order, bump, editUidEvents) => {
          const toOcc = (
            i: (typeof instances)[number],
            sequence: number,
            shift: number,
            rename: boolean,
          ): Occurrence => {
            const startMs = Date.UTC(2025, 2, 1) + (i.startHour + shift) * 3_600_000;
            return occurrence({
              uid: i.uid,
              recurrenceId: i.recurrenceId,
              summary: rename ? `${i.summary} (moved)` : i.summary,
              start: new Date(startMs).toISOString(),
              end: new Date(startMs + 3_600_000).toISOString(),
              sequence,
            });
          };
          const before = instances.map((i) => toOcc(i, 0, 0, false));
          // Edits that must not change identity: only UID'd events (or UID-less instances, whose
          // RECURRENCE-ID still holds) may move or be renamed.
          const after = instances.map((i) => {
            const editable = editUidEvents && (i.uid !== '' || i.recurrenceId !== null);
            return toOcc(i, bump, editable ? 3 : 0, editable && i.uid !== '');
          });
          const shuffled = after
            .map((occ, index) => ({ occ, rank: order[index] ?? 0 }))
            .sort((a, b) => a.rank - b.rank)
            .map((entry) => entry.occ);
          const keyOf = (occ: Occurrence) => occurrenceKey('feed', occ);
          expect(new Set(shuffled.map(keyOf))).toEqual(new Set(before.map(keyOf)));
          instances.forEach((_, index) => expect(keyOf(after[index]!)).toBe(keyOf(before[index]!)));
          expect(new Set(toDesiredSessions('feed', shuffled).sessions.map((s) => s.key))).toEqual(
            new Set(toDesiredSessions('feed', before).sessions.map((s) => s.key)),
          );
        },
      ),
    );
  });
});
