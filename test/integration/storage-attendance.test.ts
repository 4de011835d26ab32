// The attendance repository on real Azurite and on the in-memory store, the same cases: a lecture of
// 600 with 20 stays each fits (rows of one person, transactions of 100), a repeated write gives the same
// rows and drops people no longer reported, one session's rows are one RowKey range, erasure reaches
// every feed that ever stored attendance.
import { describe, expect, it } from 'vitest';
import type { AttendanceRecord } from '../../src/core/attendance.js';
import { createMemoryStateStore, type StateStore } from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';

const azurite = useAzurite();

function record(feedId: string, sessionKey: string, n: number): AttendanceRecord {
  const stays = Array.from({ length: 20 }, (_, i) => ({
    join: new Date(Date.UTC(2027, 0, 11, 9, i * 3)).toISOString(),
    leave: new Date(Date.UTC(2027, 0, 11, 9, i * 3 + 2)).toISOString(),
  }));
  return {
    feedId,
    sessionKey,
    participantKey: n.toString(16).padStart(24, '0'),
    participantId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    displayName: `Student ${n} ${'x'.repeat(200)}`,
    email: `student${n}@uni.example`,
    role: 'Attendee',
    totalSeconds: 2400,
    firstJoin: stays[0]!.join,
    lastLeave: stays[19]!.leave,
    intervals: stays,
    intervalCount: 20,
  };
}

describe.each([
  ['Azurite', () => azurite.store()],
  ['memory', () => Promise.resolve(createMemoryStateStore())],
] as Array<[string, () => Promise<StateStore>]>)('attendance repository on %s', (_name, makeStore) => {
  it('stores a lecture of 600, reads one session as a range and the course as a partition, rewrites idempotently', async () => {
    const store = await makeStore();
    const lecture = Array.from({ length: 600 }, (_, n) => record('cs101', 'a'.repeat(32), n));
    await store.attendance.putRecords('cs101', 'a'.repeat(32), lecture);
    await store.attendance.putRecords('cs101', 'b'.repeat(32), [record('cs101', 'b'.repeat(32), 1)]);
    expect(await store.attendance.listRecords('cs101', { sessionKey: 'a'.repeat(32) })).toHaveLength(600);
    expect(await store.attendance.listRecords('cs101')).toHaveLength(601);
    const [first] = await store.attendance.listRecords('cs101', { sessionKey: 'b'.repeat(32) });
    expect(first).toEqual(record('cs101', 'b'.repeat(32), 1));

    // The same report again, with two people fewer: the same rows, the two gone.
    await store.attendance.putRecords('cs101', 'a'.repeat(32), lecture.slice(2));
    expect(await store.attendance.listRecords('cs101', { sessionKey: 'a'.repeat(32) })).toHaveLength(598);
    expect(await store.attendance.deleteRecords('cs101', 'a'.repeat(32))).toBe(598);
    expect(await store.attendance.listRecords('cs101')).toHaveLength(1);
  });

  it('erasure finds a person in every feed that ever stored attendance', async () => {
    const store = await makeStore();
    for (const feed of ['cs101', 'ma201']) {
      await store.attendance.registerFeed(feed);
      await store.attendance.registerFeed(feed);
      await store.attendance.putRecords(feed, 'c'.repeat(32), [
        record(feed, 'c'.repeat(32), 1),
        record(feed, 'c'.repeat(32), 2),
      ]);
    }
    expect((await store.attendance.listFeeds()).sort()).toEqual(['cs101', 'ma201']);
    const erased = await store.attendance.deleteWhere((r) => r.email === 'student1@uni.example');
    expect(erased).toEqual({ records: 2, feeds: ['cs101', 'ma201'] });
    for (const feed of ['cs101', 'ma201'])
      expect((await store.attendance.listRecords(feed)).map((r) => r.email)).toEqual([
        'student2@uni.example',
      ]);
  });
});
