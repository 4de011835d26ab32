import { describe, expect, it } from 'vitest';
import type { MeetingRecord, OrganizerRecord, PolicyRecord } from '../../src/core/state.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  organizerRowKey,
  validateFeedId,
  type RunSummary,
} from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';
import { feedRecord, meetingRecord } from '../support/records.js';

const azurite = useAzurite();

const feed = feedRecord;

function meeting(overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  return meetingRecord('a1b2c3d4e5f60718', {
    uid: 'lecture-1@uni.ac.uk',
    externalId: 'ext-1',
    subject: 'Algorithms',
    contentHash: 'h1',
    ...overrides,
  });
}

function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    feedId: 'cs-101',
    startedAt: '2026-02-01T10:00:00.000Z',
    finishedAt: '2026-02-01T10:00:05.000Z',
    durationMs: 5000,
    created: 3,
    updated: 1,
    cancelled: 0,
    unchanged: 10,
    blocked: 2,
    failed: 0,
    skipped: 1,
    held: 0,
    graphCalls: 6,
    throttled: 1,
    outcome: 'partial',
    ...overrides,
  };
}

const withoutEtag = <T extends { etag?: string }>(record: T): Omit<T, 'etag'> => {
  const { etag: _etag, ...rest } = record;
  return rest;
};

describe('feeds', () => {
  it('round-trips a record with every field null and one with every field set (nested JSON included)', async () => {
    const store = await azurite.store();
    const sparse = feed({ id: 'sparse' });
    const full = feed({
      id: 'Full_Feed-2',
      source: 'upload',
      url: null,
      defaultOrganizer: 'office@uni.ac.uk',
      timeZone: 'W. Europe Standard Time',
      horizonDays: 120,
      enabled: false,
      httpEtag: '"abc"',
      httpLastModified: 'Mon, 05 Jan 2026 09:00:00 GMT',
      contentHash: 'c'.repeat(64),
      bodyVersion: '20260105T090000000Z-0123456789abcdef',
      lastSyncedHash: 'd'.repeat(64),
      lastSyncedHorizonDay: '2026-01-05',
      nextDueRetryAt: '2026-01-05T10:00:00.000Z',
      cancellationsConfirmedAt: '2026-01-04T08:00:00.000Z',
      guard: {
        held: true,
        reason: 'would cancel 80% of future meetings',
        wouldCancel: 40,
        futureMeetings: 50,
        at: '2026-01-05T09:00:00.000Z',
      },
      lastRun: run({ message: 'two organizers lack a policy' }),
    });
    const createdSparse = await store.feeds.create(sparse);
    const createdFull = await store.feeds.create(full);
    expect(createdSparse.etag).toBeTruthy();
    expect(createdFull.etag).toBeTruthy();

    const readSparse = await store.feeds.get('sparse');
    const readFull = await store.feeds.get('Full_Feed-2');
    expect(withoutEtag(readSparse!)).toEqual(sparse);
    expect(withoutEtag(readFull!)).toEqual(full);
    expect(readFull!.etag).toBe(createdFull.etag);
    expect((await store.feeds.list()).map((f) => f.id).sort()).toEqual(['Full_Feed-2', 'sparse']);
    expect(await store.feeds.get('missing')).toBeNull();
  });

  it('create of an existing id is a ConflictError; delete of a missing feed is a NotFoundError', async () => {
    const store = await azurite.store();
    await store.feeds.create(feed());
    const error = await store.feeds.create(feed()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'conflict', isUserError: true });
    await store.feeds.delete('cs-101');
    expect(await store.feeds.get('cs-101')).toBeNull();
    await expect(store.feeds.delete('cs-101')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a value set back to null is removed, not kept from the previous version', async () => {
    const store = await azurite.store();
    const created = await store.feeds.create(
      feed({
        timeZone: 'Europe/London',
        guard: { held: true, reason: null, wouldCancel: 1, futureMeetings: 1, at: 'x' },
      }),
    );
    await store.feeds.update({ ...created, timeZone: null, guard: null });
    const read = await store.feeds.get(created.id);
    expect(read).toMatchObject({ timeZone: null, guard: null });
  });

  it('validates feed ids, and the repositories refuse invalid ones before calling storage', async () => {
    for (const ok of ['a', 'A1', 'cs-101', 'x_y', '9'.repeat(63)]) expect(validateFeedId(ok)).toBeNull();
    for (const bad of ['', '-a', '_a', 'a/b', 'a#b', 'a?b', 'a\\b', 'a b', 'ä', '9'.repeat(64), 'a.b']) {
      expect(validateFeedId(bad)).toMatch(/feed id .* is invalid/);
    }
    const store = await azurite.store();
    await expect(store.feeds.create(feed({ id: 'a/b' }))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.feeds.get('a#b')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.meetings.listByFeed('../x')).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('meetings', () => {
  it('round-trips nulls and the nested lastError, and lists one feed only', async () => {
    const store = await azurite.store();
    const bare = meeting({ key: 'aa01' });
    const full = meeting({
      key: 'bb02',
      recurrenceId: '2026-02-09T09:00:00.000Z',
      organizerId: '00000000-0000-0000-0000-000000000001',
      generation: 2,
      meetingId: 'MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ',
      joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting',
      subject: '',
      state: 'failed',
      attempts: 3,
      nextAttemptAt: '2026-02-02T08:00:00.000Z',
      lastError: {
        code: 'throttled',
        message: 'Too many requests',
        requestId: 'req-1',
        at: '2026-02-02T07:00:00.000Z',
      },
    });
    await store.meetings.put(bare);
    await store.meetings.put(full);
    await store.meetings.put(meeting({ feedId: 'other', key: 'cc03' }));
    const listed = await store.meetings.listByFeed('cs-101');
    expect(listed.map(withoutEtag)).toEqual([bare, full]);
    expect(listed.every((m) => typeof m.etag === 'string')).toBe(true);
    expect(await store.meetings.listByFeed('nobody')).toEqual([]);
  });

  it('refuses meeting keys a Table key cannot hold', async () => {
    const store = await azurite.store();
    for (const key of ['a/b', 'a\\b', 'a#b', 'a?b', 'a\tb', '']) {
      await expect(store.meetings.put(meeting({ key }))).rejects.toBeInstanceOf(InvalidInputError);
    }
  });

  it('deleteByFeed removes every row of the feed and only that feed', async () => {
    const store = await azurite.store();
    await store.meetings.putMany(Array.from({ length: 130 }, (_, i) => meeting({ key: `k${i}` })));
    await store.meetings.put(meeting({ feedId: 'keep', key: 'k0' }));
    expect(await store.meetings.deleteByFeed('cs-101')).toBe(130);
    expect(await store.meetings.listByFeed('cs-101')).toEqual([]);
    expect(await store.meetings.listByFeed('keep')).toHaveLength(1);
  });
});

describe('organizers', () => {
  it.each([
    "o'brien+x@uni.ac.uk",
    'dept/head@uni.ac.uk',
    'back\\slash@uni.ac.uk',
    'room#12@uni.ac.uk',
    'what?@uni.ac.uk',
    'Ünïcödé@uni.ac.uk',
  ])('stores and finds %s under a key without / \\ # ?', async (email) => {
    const store = await azurite.store();
    const record: OrganizerRecord = {
      email,
      objectId: '00000000-0000-0000-0000-00000000000a',
      displayName: null,
      notFound: false,
      resolvedAt: '2026-01-05T09:00:00.000Z',
      expiresAt: '2026-01-06T09:00:00.000Z',
    };
    expect(organizerRowKey(email)).not.toMatch(/[/\\#?]/);
    const saved = await store.organizers.put({ ...record, email: `  ${email.toUpperCase()} ` });
    expect(saved.email).toBe(email.toUpperCase().toLowerCase());
    const read = await store.organizers.get(email);
    expect(read).toMatchObject({ ...record, email: email.toLowerCase() });
    expect(read!.etag).toBe(saved.etag);
  });

  it('keeps notFound entries (objectId null) and misses unknown addresses', async () => {
    const store = await azurite.store();
    await store.organizers.put({
      email: 'ghost@uni.ac.uk',
      objectId: null,
      displayName: null,
      notFound: true,
      resolvedAt: 'a',
      expiresAt: 'b',
    });
    expect(await store.organizers.get('GHOST@uni.ac.uk')).toMatchObject({
      objectId: null,
      notFound: true,
      displayName: null,
    });
    expect(await store.organizers.get('nobody@uni.ac.uk')).toBeNull();
  });
});

describe('policies', () => {
  it('round-trips per-organizer and global records, lists them, and updates If-Match', async () => {
    const store = await azurite.store();
    const global: PolicyRecord = {
      objectId: 'global',
      state: 'granted',
      grantedAt: '2026-01-01T00:00:00.000Z',
      verifiedAt: null,
      firstDeniedAt: null,
      lastDeniedAt: null,
      lastProbeAt: null,
    };
    const one: PolicyRecord = {
      objectId: '00000000-0000-0000-0000-000000000001',
      state: 'missing',
      grantedAt: null,
      verifiedAt: null,
      firstDeniedAt: '2026-01-02T00:00:00.000Z',
      lastDeniedAt: '2026-01-03T00:00:00.000Z',
      lastProbeAt: '2026-01-03T00:00:00.000Z',
    };
    await store.policies.put(global);
    const saved = await store.policies.put(one);
    expect(withoutEtag((await store.policies.get('global'))!)).toEqual(global);
    expect((await store.policies.list()).map(withoutEtag)).toEqual([one, global]);
    const updated = await store.policies.put({
      ...saved,
      state: 'active',
      verifiedAt: '2026-01-04T00:00:00.000Z',
    });
    expect(updated.etag).not.toBe(saved.etag);
    expect(await store.policies.get(one.objectId)).toMatchObject({
      state: 'active',
      verifiedAt: '2026-01-04T00:00:00.000Z',
    });
    expect(await store.policies.get('nobody')).toBeNull();
  });
});

describe('runs', () => {
  it('returns a feed’s runs newest first, and the latest across feeds', async () => {
    const store = await azurite.store();
    const times = ['2026-02-01T10:00:00.000Z', '2026-02-03T10:00:00.000Z', '2026-02-02T10:00:00.000Z'];
    for (const finishedAt of times) await store.runs.add(run({ finishedAt }));
    await store.runs.add(
      run({ feedId: 'ma-200', finishedAt: '2026-02-02T12:00:00.000Z', outcome: 'completed', message: 'ok' }),
    );
    // Two runs finishing in the same millisecond are both kept.
    await store.runs.add(
      run({ feedId: 'ma-200', finishedAt: '2026-02-02T12:00:00.000Z', outcome: 'skipped' }),
    );

    const latest = await store.runs.latest('cs-101', 10);
    expect(latest.map((r) => r.finishedAt)).toEqual([
      '2026-02-03T10:00:00.000Z',
      '2026-02-02T10:00:00.000Z',
      '2026-02-01T10:00:00.000Z',
    ]);
    expect(latest[0]).toEqual(run({ finishedAt: '2026-02-03T10:00:00.000Z' }));
    expect(await store.runs.latest('cs-101', 2)).toHaveLength(2);

    const all = await store.runs.latestAll(3);
    expect(all.map((r) => [r.feedId, r.finishedAt])).toEqual([
      ['cs-101', '2026-02-03T10:00:00.000Z'],
      ['ma-200', '2026-02-02T12:00:00.000Z'],
      ['ma-200', '2026-02-02T12:00:00.000Z'],
    ]);
    expect(all.find((r) => r.outcome === 'completed')?.message).toBe('ok');
    expect(await store.runs.latest('none', 5)).toEqual([]);
  });
});
