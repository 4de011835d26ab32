// Stored records with every field set, for the storage tests: override what a test is about.
import type { MeetingRecord } from '../../src/core/state.js';
import type { FeedRecord } from '../../src/storage/index.js';

export function feedRecord(overrides: Partial<FeedRecord> = {}): FeedRecord {
  return {
    id: 'cs-101',
    source: 'url',
    url: 'https://timetable.example.ac.uk/cs101.ics',
    defaultOrganizer: null,
    timeZone: null,
    horizonDays: null,
    enabled: true,
    httpEtag: null,
    httpLastModified: null,
    contentHash: null,
    bodyVersion: null,
    lastSyncedHash: null,
    lastSyncedHorizonDay: null,
    nextDueRetryAt: null,
    cancellationsConfirmedAt: null,
    guard: null,
    calendarToken: 'tok_abc',
    lastRun: null,
    createdAt: '2026-01-05T09:00:00.000Z',
    updatedAt: '2026-01-05T09:00:00.000Z',
    ...overrides,
  };
}

/** A meeting row of feed cs-101; `key` also derives its UID, externalId and subject. */
export function meetingRecord(key: string, overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  return {
    feedId: 'cs-101',
    key,
    uid: `uid-${key}`,
    recurrenceId: null,
    organizerEmail: 'lecturer@uni.ac.uk',
    organizerId: null,
    externalId: `ext-${key}`,
    generation: 0,
    meetingId: null,
    joinWebUrl: null,
    subject: `Session ${key}`,
    start: '2026-02-02T09:00:00.000Z',
    end: '2026-02-02T10:00:00.000Z',
    contentHash: 'h0',
    state: 'creating',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    ...overrides,
  };
}
