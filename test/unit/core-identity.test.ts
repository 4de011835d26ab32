import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  contentHash,
  externalIdFor,
  meetingOptionsKey,
  normalizeEmail,
  occurrenceKey,
} from '../../src/core/identity.js';

const base = {
  uid: 'lec-101@uni.example',
  recurrenceId: '2025-03-10T09:00:00Z',
  start: '2025-03-10T09:00:00Z',
  summary: 'Algebra',
};

describe('normalizeEmail', () => {
  it.each([
    ['  Ada@Uni.Example ', 'ada@uni.example'],
    ['mailto:Ada@Uni.Example', 'ada@uni.example'],
    ['MAILTO:ada@uni.example', 'ada@uni.example'],
    [' mailto: ada@uni.example', 'ada@uni.example'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });
});

describe('occurrenceKey', () => {
  const key = occurrenceKey('feed-1', base);

  it('is at least 32 lower-case hex characters, safe as a Table RowKey', () => {
    expect(key).toMatch(/^[0-9a-f]{32,}$/);
  });

  it.each([
    ['the session moves', { start: '2025-03-11T14:00:00Z' }],
    ['the session is renamed', { summary: 'Linear Algebra' }],
    ['the RECURRENCE-ID is written with milliseconds', { recurrenceId: '2025-03-10T09:00:00.000Z' }],
    ['the RECURRENCE-ID is written with an offset', { recurrenceId: '2025-03-10T10:00:00+01:00' }],
  ])('does not change when %s', (_what, change) => {
    expect(occurrenceKey('feed-1', { ...base, ...change })).toBe(key);
  });

  it.each([
    ['another feed', 'feed-2', {}],
    ['another UID', 'feed-1', { uid: 'lec-102@uni.example' }],
    ['another instance', 'feed-1', { recurrenceId: '2025-03-17T09:00:00Z' }],
    ['a single event with the same UID', 'feed-1', { recurrenceId: null }],
  ])('differs for %s', (_what, feedId, change) => {
    expect(occurrenceKey(feedId, { ...base, ...change })).not.toBe(key);
  });

  it('identifies a single event by UID alone (it may move)', () => {
    const single = { ...base, recurrenceId: null };
    expect(occurrenceKey('f', single)).toBe(occurrenceKey('f', { ...single, start: '2026-01-01T00:00:00Z' }));
  });

  it('falls back to summary + original start for events without UID', () => {
    const noUid = { ...base, uid: '', recurrenceId: null };
    expect(occurrenceKey('f', noUid)).toBe(occurrenceKey('f', { ...noUid }));
    expect(occurrenceKey('f', noUid)).not.toBe(occurrenceKey('f', { ...noUid, summary: 'Geometry' }));
    expect(occurrenceKey('f', noUid)).not.toBe(
      occurrenceKey('f', { ...noUid, start: '2025-03-10T10:00:00Z' }),
    );
    // A UID-less recurring instance keeps its key when moved: RECURRENCE-ID is its original start.
    const noUidInstance = { ...base, uid: '' };
    expect(occurrenceKey('f', noUidInstance)).toBe(
      occurrenceKey('f', { ...noUidInstance, start: '2025-03-12T09:00:00Z' }),
    );
  });

  it('does not confuse field boundaries', () => {
    expect(occurrenceKey('a', { ...base, uid: 'bc' })).not.toBe(occurrenceKey('ab', { ...base, uid: 'c' }));
  });

  it('never yields characters forbidden in RowKeys, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.string()),
        fc.string(),
        fc.string(),
        (feedId, uid, rid, start, summary) => {
          const k = occurrenceKey(feedId, { uid, recurrenceId: rid, start, summary });
          expect(k).toMatch(/^[0-9a-f]{32,}$/);
        },
      ),
    );
  });
});

describe('externalIdFor', () => {
  const key = occurrenceKey('feed-1', base);

  it('is deterministic, short and ASCII', () => {
    expect(externalIdFor(key, 0)).toBe(externalIdFor(key, 0));
    expect(externalIdFor(key, 0).length).toBeLessThanOrEqual(64);
    expect(externalIdFor(key, 12)).toMatch(/^[\x21-\x7e]+$/);
  });

  it('gives a fresh id for each generation and each key', () => {
    const ids = new Set([
      externalIdFor(key, 0),
      externalIdFor(key, 1),
      externalIdFor(key, 2),
      externalIdFor('0'.repeat(32), 0),
    ]);
    expect(ids.size).toBe(4);
  });

  it('refuses a negative or fractional generation', () => {
    expect(() => externalIdFor(key, -1)).toThrow(RangeError);
    expect(() => externalIdFor(key, 1.5)).toThrow(RangeError);
  });
});

describe('contentHash', () => {
  const content = {
    subject: 'Algebra',
    start: '2025-03-10T09:00:00Z',
    end: '2025-03-10T10:00:00Z',
    organizerEmail: 'ada@uni.example',
  };
  const hash = contentHash(content);

  it.each([
    ['subject', { subject: 'Algebra II' }],
    ['start', { start: '2025-03-10T09:05:00Z' }],
    ['end', { end: '2025-03-10T10:30:00Z' }],
    ['organizer', { organizerEmail: 'bob@uni.example' }],
    // Meetings made before the options were applied (or under other MEETING_* settings) get PATCHed.
    [
      'meeting options',
      { options: meetingOptionsKey({ lobbyBypass: 'organizer', allowedPresenters: 'organizer' }) },
    ],
  ])('changes with the %s', (_what, change) => {
    expect(contentHash({ ...content, ...change })).not.toBe(hash);
  });

  it('ignores how the same organizer and instant are written', () => {
    expect(
      contentHash({
        ...content,
        organizerEmail: 'mailto:ADA@uni.example',
        start: '2025-03-10T09:00:00.000Z',
      }),
    ).toBe(hash);
  });
});
