import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  InvalidInputError,
  NotFoundError,
  type FeedRecord,
} from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';
import { feedRecord, meetingRecord } from '../support/records.js';

const azurite = useAzurite();

const meeting = meetingRecord;

const feed: FeedRecord = feedRecord({
  source: 'upload',
  url: null,
  horizonDays: 90,
  calendarToken: 'tok',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('ETag concurrency', () => {
  it('two writers update the same meeting: the second gets ConcurrencyError and the first write survives', async () => {
    const store = await azurite.store();
    await store.meetings.put(meeting('aa'));
    const [writerA] = await store.meetings.listByFeed('cs-101');
    const [writerB] = await store.meetings.listByFeed('cs-101');
    const savedA = await store.meetings.put({ ...writerA!, state: 'active', meetingId: 'm-1' });
    const error = await store.meetings
      .put({ ...writerB!, state: 'failed', attempts: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      code: 'concurrency',
      row: expect.stringContaining('cs-101/aa') as unknown,
    });

    const [stored] = await store.meetings.listByFeed('cs-101');
    expect(stored).toMatchObject({ state: 'active', meetingId: 'm-1', attempts: 0, etag: savedA.etag });
    // Re-read and retry wins.
    await store.meetings.put({ ...stored!, attempts: 1 });
  });

  it('two writers inserting the same meeting: the second insert is a ConcurrencyError', async () => {
    const store = await azurite.store();
    const [a, b] = await Promise.allSettled([
      store.meetings.put(meeting('bb')),
      store.meetings.put(meeting('bb', { subject: 'B' })),
    ]);
    const outcomes = [a, b].map((r) => r.status).sort();
    expect(outcomes).toEqual(['fulfilled', 'rejected']);
    const rejected = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConcurrencyError);
  });

  it('two writers update the same feed: the second gets ConcurrencyError, no lost update', async () => {
    const store = await azurite.store();
    await store.feeds.create(feed);
    const readA = (await store.feeds.get('cs-101'))!;
    const readB = (await store.feeds.get('cs-101'))!;
    await store.feeds.update({ ...readA, contentHash: 'from-A', updatedAt: '2026-01-02T00:00:00.000Z' });
    await expect(store.feeds.update({ ...readB, enabled: false })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.feeds.get('cs-101')).toMatchObject({ contentHash: 'from-A', enabled: true });
    await expect(store.feeds.update({ ...feed, etag: undefined })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('updating a row deleted meanwhile is a NotFoundError', async () => {
    const store = await azurite.store();
    const created = await store.feeds.create(feed);
    await store.feeds.delete('cs-101');
    await expect(store.feeds.update(created)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('putMany', () => {
  it('stores 250 rows of one feed in ≤100-row transactions and listByFeed returns all of them', async () => {
    const store = await azurite.store();
    const records = Array.from({ length: 250 }, (_, i) => meeting(i.toString(16).padStart(4, '0')));
    const saved = await store.meetings.putMany(records);
    expect(saved).toHaveLength(250);
    expect(saved.map((r) => r.key)).toEqual(records.map((r) => r.key));
    expect(new Set(saved.map((r) => r.etag)).has(undefined)).toBe(false);

    const listed = await store.meetings.listByFeed('cs-101');
    expect(listed).toHaveLength(250);
    expect(listed.map((r) => r.key).sort()).toEqual(records.map((r) => r.key).sort());
    // The returned etags are the stored ones: a second putMany as conditional updates succeeds.
    const again = await store.meetings.putMany(saved.map((r) => ({ ...r, state: 'active' as const })));
    expect((await store.meetings.listByFeed('cs-101')).every((r) => r.state === 'active')).toBe(true);
    expect(again.every((r, i) => r.etag !== saved[i]!.etag)).toBe(true);
  });

  it('listByFeed follows continuation tokens past the service page size of 1000 entities', async () => {
    const store = await azurite.store();
    await store.meetings.putMany(
      Array.from({ length: 1_050 }, (_, i) => meeting(i.toString(16).padStart(4, '0'))),
    );
    expect(await store.meetings.listByFeed('cs-101')).toHaveLength(1_050);
  });

  it('groups rows of several feeds, keeping input order in the result', async () => {
    const store = await azurite.store();
    const records = [
      meeting('01'),
      meeting('01', { feedId: 'ma-200' }),
      meeting('02'),
      meeting('02', { feedId: 'ma-200' }),
    ];
    const saved = await store.meetings.putMany(records);
    expect(saved.map((r) => `${r.feedId}/${r.key}`)).toEqual([
      'cs-101/01',
      'ma-200/01',
      'cs-101/02',
      'ma-200/02',
    ]);
    expect(await store.meetings.listByFeed('ma-200')).toHaveLength(2);
  });

  it('a stale row fails its whole transaction with a ConcurrencyError naming the row', async () => {
    const store = await azurite.store();
    const saved = await store.meetings.putMany([meeting('10'), meeting('11'), meeting('12')]);
    await store.meetings.put({ ...saved[1]!, subject: 'changed by another run' });
    const error = await store.meetings
      .putMany([{ ...saved[0]!, state: 'active' }, { ...saved[1]!, state: 'active' }, meeting('13')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).row).toMatch(/cs-101\/11$/);
    const listed = await store.meetings.listByFeed('cs-101');
    // Nothing of the failed transaction was applied.
    expect(listed.map((r) => [r.key, r.state])).toEqual([
      ['10', 'creating'],
      ['11', 'creating'],
      ['12', 'creating'],
    ]);
    expect(listed[1]!.subject).toBe('changed by another run');
  });

  it('an insert of an existing row in a batch is a ConcurrencyError naming it; duplicates in one call are refused', async () => {
    const store = await azurite.store();
    await store.meetings.put(meeting('20'));
    const error = await store.meetings.putMany([meeting('21'), meeting('20')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).row).toMatch(/cs-101\/20$/);
    await expect(store.meetings.putMany([meeting('30'), meeting('30')])).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(await store.meetings.putMany([])).toEqual([]);
  });
});
