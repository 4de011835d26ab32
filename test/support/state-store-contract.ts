// One contract suite for every StateStore backend (in memory: test/unit/storage-memory.contract.test.ts;
// Azurite: test/integration/storage-azurite.contract.test.ts). Each case is behaviour the product relies
// on: no lost updates, no duplicate meetings, nothing half-written, lists in the order the service keeps.
// Backend-specific cases (wire encoding, credentials, pagination tokens) stay in their own files.

import { describe, expect, it } from 'vitest';
import type { MeetingRecord, OrganizerRecord, PolicyRecord } from '../../src/core/state.js';
import {
  ConcurrencyError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  StorageError,
} from '../../src/storage/errors.js';
import { NOT_READ } from '../../src/storage/meetings.js';
import { organizerRowKey } from '../../src/storage/organizers.js';
import type { StateStore } from '../../src/storage/stateStore.js';
import { newLeaseHolder } from '../../src/storage/feedLeases.js';
import { decodeSyncMessage } from '../../src/storage/syncQueue.js';
import { validateFeedId } from '../../src/storage/table.js';
import type { RunSummary } from '../../src/storage/types.js';
import { feedRecord as feed, meetingRecord as meeting } from './records.js';

export interface StoreUnderTest {
  store: StateStore;
  cleanup(): Promise<void>;
  /** Lets `seconds` pass on the store's clock (default: really waits). */
  elapse?: (seconds: number) => Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const withoutEtag = <T extends { etag?: string }>(record: T): Omit<T, 'etag'> => {
  const { etag: _etag, ...rest } = record;
  return rest;
};

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

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

const policy = (objectId: string, overrides: Partial<PolicyRecord> = {}): PolicyRecord => ({
  objectId,
  state: 'granted',
  grantedAt: '2026-01-01T00:00:00.000Z',
  verifiedAt: null,
  firstDeniedAt: null,
  lastDeniedAt: null,
  lastProbeAt: null,
  ...overrides,
});

const organizer = (email: string, overrides: Partial<OrganizerRecord> = {}): OrganizerRecord => ({
  email,
  objectId: '00000000-0000-0000-0000-00000000000a',
  displayName: 'Ada Lovelace',
  notFound: false,
  userType: 'Member',
  accountEnabled: true,
  resolvedAt: '2026-01-05T09:00:00.000Z',
  expiresAt: '2026-01-06T09:00:00.000Z',
  ...overrides,
});

const hexKey = (i: number) => i.toString(16).padStart(4, '0');

export function describeStateStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  /** Runs `test` on a fresh store and cleans up after it. */
  const withStore =
    (test: (store: StateStore, elapse: (seconds: number) => Promise<void>) => Promise<void>) => async () => {
      const subject = await makeStore();
      try {
        await test(subject.store, subject.elapse ?? ((seconds) => sleep(seconds * 1000 + 150)));
      } finally {
        await subject.cleanup();
      }
    };

  describe(`StateStore contract: ${name}`, () => {
    describe('feeds', () => {
      it(
        'round-trips every field, null or set (nested guard and lastRun included), with the etag it returns',
        withStore(async (store) => {
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
            guard: { held: true, reason: 'would cancel 80%', wouldCancel: 40, futureMeetings: 50, at: 'x' },
            lastRun: run({ message: 'two organizers lack a policy' }),
          });
          await store.feeds.create(sparse);
          const createdFull = await store.feeds.create(full);
          expect(withoutEtag((await store.feeds.get('sparse'))!)).toEqual(sparse);
          const readFull = await store.feeds.get('Full_Feed-2');
          expect(withoutEtag(readFull!)).toEqual(full);
          expect(readFull!.etag).toBe(createdFull.etag);
          expect(await store.feeds.get('missing')).toBeNull();
        }),
      );

      it(
        'lists feeds in id order (ordinal: digits, upper case, then lower case)',
        withStore(async (store) => {
          for (const id of ['b', 'B', 'a-1', 'a_1', 'A', '0', 'z']) await store.feeds.create(feed({ id }));
          expect((await store.feeds.list()).map((f) => f.id)).toEqual([
            '0',
            'A',
            'B',
            'a-1',
            'a_1',
            'b',
            'z',
          ]);
        }),
      );

      it(
        'create of an existing id is a ConflictError and keeps the first feed',
        withStore(async (store) => {
          await store.feeds.create(feed({ url: 'https://first.example/a.ics' }));
          const error = await rejection(store.feeds.create(feed({ url: 'https://second.example/b.ics' })));
          expect(error).toBeInstanceOf(ConflictError);
          expect(error).toMatchObject({ code: 'conflict', isUserError: true });
          expect((await store.feeds.get('cs-101'))?.url).toBe('https://first.example/a.ics');
        }),
      );

      it(
        'two writers update the same feed: the second gets ConcurrencyError, no lost update',
        withStore(async (store) => {
          await store.feeds.create(feed());
          const readA = (await store.feeds.get('cs-101'))!;
          const readB = (await store.feeds.get('cs-101'))!;
          const savedA = await store.feeds.update({ ...readA, contentHash: 'from-A' });
          expect(savedA.etag).not.toBe(readA.etag);
          await expect(store.feeds.update({ ...readB, enabled: false })).rejects.toBeInstanceOf(
            ConcurrencyError,
          );
          expect(await store.feeds.get('cs-101')).toMatchObject({ contentHash: 'from-A', enabled: true });
          await expect(store.feeds.update({ ...readA, etag: undefined })).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          // Re-read and retry wins.
          await store.feeds.update({ ...(await store.feeds.get('cs-101'))!, enabled: false });
          expect((await store.feeds.get('cs-101'))?.enabled).toBe(false);
        }),
      );

      it(
        'a value set back to null is removed, not kept from the previous version',
        withStore(async (store) => {
          const created = await store.feeds.create(
            feed({
              timeZone: 'Europe/London',
              guard: { held: true, reason: null, wouldCancel: 1, futureMeetings: 1, at: 'x' },
            }),
          );
          await store.feeds.update({ ...created, timeZone: null, guard: null });
          expect(await store.feeds.get(created.id)).toMatchObject({ timeZone: null, guard: null });
        }),
      );

      it(
        'delete: gone for get and list; deleting or updating it again is a NotFoundError',
        withStore(async (store) => {
          const created = await store.feeds.create(feed());
          await store.feeds.delete('cs-101');
          expect(await store.feeds.get('cs-101')).toBeNull();
          expect(await store.feeds.list()).toEqual([]);
          await expect(store.feeds.delete('cs-101')).rejects.toBeInstanceOf(NotFoundError);
          await expect(store.feeds.update(created)).rejects.toBeInstanceOf(NotFoundError);
        }),
      );

      it(
        'refuses invalid feed ids before storing anything',
        withStore(async (store) => {
          for (const ok of ['a', 'A1', 'cs-101', 'x_y', '9'.repeat(63)])
            expect(validateFeedId(ok)).toBeNull();
          for (const bad of ['', '-a', '_a', 'a/b', 'a#b', 'a?b', 'a\\b', 'a b', 'ä', '9'.repeat(64), 'a.b'])
            expect(validateFeedId(bad)).toMatch(/feed id .* is invalid/);
          await expect(store.feeds.create(feed({ id: 'a/b' }))).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.feeds.get('a#b')).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.meetings.listByFeed('../x')).rejects.toBeInstanceOf(InvalidInputError);
          expect(await store.feeds.list()).toEqual([]);
        }),
      );

      it(
        'records are copies: changing a returned record changes nothing stored',
        withStore(async (store) => {
          const created = await store.feeds.create(
            feed({ guard: { held: true, reason: 'r', wouldCancel: 1, futureMeetings: 2, at: 'x' } }),
          );
          created.guard!.held = false;
          const read = (await store.feeds.get('cs-101'))!;
          read.guard!.reason = 'changed';
          read.enabled = false;
          expect(await store.feeds.get('cs-101')).toMatchObject({
            enabled: true,
            guard: { held: true, reason: 'r' },
          });
        }),
      );
    });

    describe('meetings', () => {
      it(
        'round-trips nulls, the room and the nested lastError, and lists one feed only, in key order',
        withStore(async (store) => {
          const bare = meeting('bb02');
          const full = meeting('Aa01', {
            recurrenceId: '2026-02-09T09:00:00.000Z',
            organizerId: '00000000-0000-0000-0000-000000000001',
            generation: 2,
            meetingId: 'MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ',
            joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting',
            subject: '',
            location: 'Room 1.01 – Hörsaal',
            state: 'failed',
            attempts: 3,
            nextAttemptAt: '2026-02-02T08:00:00.000Z',
            lastError: { code: 'throttled', message: 'Too many requests', requestId: 'req-1', at: 'x' },
          });
          const saved = await store.meetings.put(bare);
          await store.meetings.put(full);
          await store.meetings.put(meeting('cc03', { feedId: 'other' }));
          const listed = await store.meetings.listByFeed('cs-101');
          expect(listed.map(withoutEtag)).toEqual([full, bare]);
          expect(listed[1]!.etag).toBe(saved.etag);
          // A row without a room reads back without the field (as rows written before rooms were kept).
          expect(listed[1]).not.toHaveProperty('location');
          expect(await store.meetings.listByFeed('nobody')).toEqual([]);
        }),
      );

      it(
        'a planning read keeps no meeting id, join link or createOrGet key, keeps only the rows asked for, and getMany reads named rows in full',
        withStore(async (store) => {
          const withMeeting = meeting('aa01', {
            meetingId: 'MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ',
            joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting',
            state: 'active',
          });
          await store.meetings.putMany([withMeeting, meeting('bb02'), meeting('cc03')]);
          const full = await store.meetings.listByFeed('cs-101');

          const planning = await store.meetings.listByFeed('cs-101', {
            forPlanning: true,
            keep: (r) => r.key !== 'cc03',
          });
          expect(planning).toEqual([
            { ...full[0], meetingId: NOT_READ, joinWebUrl: NOT_READ, externalId: NOT_READ },
            { ...full[1], externalId: NOT_READ },
          ]);
          const named = await store.meetings.getMany('cs-101', new Set(['aa01', 'cc03', 'zz99']));
          expect([...named.values()]).toEqual([full[0], full[2]]);
          expect(named.get('aa01')?.joinWebUrl).toBe(withMeeting.joinWebUrl);
          // A planning row is never written back: it would lose the meeting and its link.
          await expect(store.meetings.put(planning[0] as MeetingRecord)).rejects.toThrow(
            /planning read cannot be written back/,
          );
          expect((await store.meetings.listByFeed('cs-101'))[0]?.joinWebUrl).toBe(withMeeting.joinWebUrl);
        }),
      );

      it(
        'two writers update the same meeting: the second gets ConcurrencyError naming the row, the first survives',
        withStore(async (store) => {
          await store.meetings.put(meeting('aa'));
          const [writerA] = await store.meetings.listByFeed('cs-101');
          const [writerB] = await store.meetings.listByFeed('cs-101');
          const savedA = await store.meetings.put({ ...writerA!, state: 'active', meetingId: 'm-1' });
          const error = await rejection(store.meetings.put({ ...writerB!, state: 'failed', attempts: 1 }));
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect((error as ConcurrencyError).row).toMatch(/cs-101\/aa$/);
          const [stored] = await store.meetings.listByFeed('cs-101');
          expect(stored).toMatchObject({ state: 'active', meetingId: 'm-1', attempts: 0, etag: savedA.etag });
          await store.meetings.put({ ...stored!, attempts: 1 });
        }),
      );

      it(
        'two writers inserting the same meeting: one wins, the other gets ConcurrencyError (no duplicate)',
        withStore(async (store) => {
          const results = await Promise.allSettled([
            store.meetings.put(meeting('bb')),
            store.meetings.put(meeting('bb', { subject: 'B' })),
          ]);
          expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
          const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          expect(rejected.reason).toBeInstanceOf(ConcurrencyError);
          expect(await store.meetings.listByFeed('cs-101')).toHaveLength(1);
        }),
      );

      it(
        'updating a meeting deleted meanwhile is a NotFoundError and does not bring it back',
        withStore(async (store) => {
          const saved = await store.meetings.put(meeting('gone'));
          await store.meetings.deleteByFeed('cs-101');
          await expect(store.meetings.put({ ...saved, state: 'active' })).rejects.toBeInstanceOf(
            NotFoundError,
          );
          expect(await store.meetings.listByFeed('cs-101')).toEqual([]);
        }),
      );

      it(
        'refuses meeting keys a Table key cannot hold, and values a Table property cannot hold',
        withStore(async (store) => {
          for (const key of ['a/b', 'a\\b', 'a#b', 'a?b', 'a\tb', ''])
            await expect(store.meetings.put(meeting(key))).rejects.toBeInstanceOf(InvalidInputError);
          const error = await rejection(store.meetings.put(meeting('big', { subject: 'x'.repeat(40_000) })));
          expect(error).toBeInstanceOf(StorageError);
          expect(error).toMatchObject({ code: 'unavailable' });
          expect(await store.meetings.listByFeed('cs-101')).toEqual([]);
        }),
      );

      it(
        'putMany stores 250 rows in ≤100-row transactions; the etags it returns make the next putMany work',
        withStore(async (store) => {
          const records = Array.from({ length: 250 }, (_, i) => meeting(hexKey(i)));
          const saved = await store.meetings.putMany(records);
          expect(saved.map((r) => r.key)).toEqual(records.map((r) => r.key));
          expect(saved.every((r) => typeof r.etag === 'string')).toBe(true);
          expect((await store.meetings.listByFeed('cs-101')).map(withoutEtag)).toEqual(records);
          const again = await store.meetings.putMany(saved.map((r) => ({ ...r, state: 'active' as const })));
          expect((await store.meetings.listByFeed('cs-101')).every((r) => r.state === 'active')).toBe(true);
          expect(again.every((r, i) => r.etag !== saved[i]!.etag)).toBe(true);
          expect(await store.meetings.putMany([])).toEqual([]);
        }),
      );

      it(
        'putMany groups rows of several feeds, keeping input order in the result',
        withStore(async (store) => {
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
        }),
      );

      it(
        'a stale row fails its whole transaction with a ConcurrencyError naming the row',
        withStore(async (store) => {
          const saved = await store.meetings.putMany([meeting('10'), meeting('11'), meeting('12')]);
          await store.meetings.put({ ...saved[1]!, subject: 'changed by another run' });
          const error = await rejection(
            store.meetings.putMany([
              { ...saved[0]!, state: 'active' },
              { ...saved[1]!, state: 'active' },
              meeting('13'),
            ]),
          );
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect((error as ConcurrencyError).row).toMatch(/cs-101\/11$/);
          const listed = await store.meetings.listByFeed('cs-101');
          expect(listed.map((r) => [r.key, r.state, r.subject])).toEqual([
            ['10', 'creating', 'Session 10'],
            ['11', 'creating', 'changed by another run'],
            ['12', 'creating', 'Session 12'],
          ]);
        }),
      );

      it(
        'a failing transaction leaves the transactions before it applied and writes none of its own rows',
        withStore(async (store) => {
          await store.meetings.put(meeting(hexKey(150)));
          const records = Array.from({ length: 200 }, (_, i) => meeting(hexKey(i)));
          const error = await rejection(store.meetings.putMany(records));
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect((error as ConcurrencyError).row).toMatch(new RegExp(`cs-101/${hexKey(150)}$`));
          const keys = (await store.meetings.listByFeed('cs-101')).map((r) => r.key);
          expect(keys).toEqual([...Array.from({ length: 100 }, (_, i) => hexKey(i)), hexKey(150)]);
        }),
      );

      it(
        'putMany: inserting an existing row is a ConcurrencyError naming it; a meeting twice in one call writes nothing',
        withStore(async (store) => {
          await store.meetings.put(meeting('20'));
          const error = await rejection(store.meetings.putMany([meeting('21'), meeting('20')]));
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect((error as ConcurrencyError).row).toMatch(/cs-101\/20$/);
          await expect(
            store.meetings.putMany([meeting('29'), meeting('30'), meeting('30')]),
          ).rejects.toBeInstanceOf(InvalidInputError);
          expect((await store.meetings.listByFeed('cs-101')).map((r) => r.key)).toEqual(['20']);
        }),
      );

      it(
        'move re-keys a row in one transaction: the old key keeps a cancelled row, the new key the meeting',
        withStore(async (store) => {
          const old = await store.meetings.put(
            meeting('40', { state: 'active', meetingId: 'm-40', joinWebUrl: 'https://teams.example/40' }),
          );
          const moved = { ...withoutEtag(old), key: '41', start: '2027-01-04T10:00:00Z' };
          const vacated = { ...old, state: 'cancelled' as const, meetingId: null, joinWebUrl: null };
          const result = await store.meetings.move(vacated, moved);
          expect(result.moved.etag).toBeTruthy();
          const listed = await store.meetings.listByFeed('cs-101');
          expect(listed.map((r) => [r.key, r.state, r.meetingId, r.externalId])).toEqual([
            ['40', 'cancelled', null, old.externalId],
            ['41', 'active', 'm-40', old.externalId],
          ]);
          // The etags it returns are the rows' own: moving back replaces the cancelled row at '40'.
          const back = await store.meetings.move(
            { ...result.moved, state: 'cancelled', meetingId: null, joinWebUrl: null },
            { ...result.moved, key: '40', etag: result.vacated.etag },
          );
          expect(back.moved.key).toBe('40');
          const again = await store.meetings.listByFeed('cs-101');
          expect(again.map((r) => [r.key, r.state, r.meetingId])).toEqual([
            ['40', 'active', 'm-40'],
            ['41', 'cancelled', null],
          ]);
        }),
      );

      it(
        'move writes neither row when the old row changed meanwhile or the new key is taken',
        withStore(async (store) => {
          const old = await store.meetings.put(meeting('50', { state: 'active', meetingId: 'm-50' }));
          const vacated = { ...old, state: 'cancelled' as const, meetingId: null };
          await store.meetings.put({ ...old, subject: 'changed by another run' });
          const stale = await rejection(store.meetings.move(vacated, { ...withoutEtag(old), key: '51' }));
          expect(stale).toBeInstanceOf(ConcurrencyError);
          const current = (await store.meetings.listByFeed('cs-101'))[0]!;
          await store.meetings.put(meeting('52'));
          const taken = await rejection(
            store.meetings.move({ ...current, state: 'cancelled' }, { ...withoutEtag(current), key: '52' }),
          );
          expect(taken).toBeInstanceOf(ConcurrencyError);
          const listed = await store.meetings.listByFeed('cs-101');
          expect(listed.map((r) => [r.key, r.state, r.subject])).toEqual([
            ['50', 'active', 'changed by another run'],
            ['52', 'creating', 'Session 52'],
          ]);
          await expect(
            store.meetings.move(withoutEtag(current) as MeetingRecord, {
              ...withoutEtag(current),
              key: '53',
            }),
          ).rejects.toBeInstanceOf(InvalidInputError);
        }),
      );

      it(
        'deleteByFeed removes every row of the feed (more than one transaction) and only that feed',
        withStore(async (store) => {
          await store.meetings.putMany(Array.from({ length: 130 }, (_, i) => meeting(`k${i}`)));
          await store.meetings.put(meeting('k0', { feedId: 'keep' }));
          expect(await store.meetings.deleteByFeed('cs-101')).toBe(130);
          expect(await store.meetings.listByFeed('cs-101')).toEqual([]);
          expect(await store.meetings.listByFeed('keep')).toHaveLength(1);
          expect(await store.meetings.deleteByFeed('cs-101')).toBe(0);
          // The feed's keys are free again: an insert is not a conflict.
          await store.meetings.put(meeting('k0'));
        }),
      );
    });

    describe('organizers', () => {
      it(
        'stores and finds e-mails with / \\ # ? and Unicode, normalised, under a key the Table can hold',
        withStore(async (store) => {
          for (const email of [
            "o'brien+x@uni.ac.uk",
            'dept/head@uni.ac.uk',
            'back\\slash@uni.ac.uk',
            'room#12@uni.ac.uk',
            'what?@uni.ac.uk',
            'Ünïcödé@uni.ac.uk',
          ]) {
            expect(organizerRowKey(email)).not.toMatch(/[/\\#?]/);
            const saved = await store.organizers.put(organizer(`  ${email.toUpperCase()} `));
            expect(saved.email).toBe(email.toLowerCase());
            const read = await store.organizers.get(email);
            expect(read).toEqual({ ...organizer(email.toLowerCase()), etag: saved.etag });
          }
          expect(await store.organizers.get('nobody@uni.ac.uk')).toBeNull();
        }),
      );

      it(
        'keeps notFound entries; a stale or duplicate put is a ConcurrencyError and keeps the stored entry',
        withStore(async (store) => {
          const ghost = organizer('ghost@uni.ac.uk', { objectId: null, displayName: null, notFound: true });
          const saved = await store.organizers.put(ghost);
          expect(withoutEtag((await store.organizers.get('GHOST@uni.ac.uk'))!)).toEqual(ghost);
          await expect(store.organizers.put(organizer('ghost@uni.ac.uk'))).rejects.toBeInstanceOf(
            ConcurrencyError,
          );
          await store.organizers.put({ ...saved, expiresAt: '2026-02-01T00:00:00.000Z' });
          await expect(store.organizers.put({ ...saved, notFound: false })).rejects.toBeInstanceOf(
            ConcurrencyError,
          );
          expect(await store.organizers.get('ghost@uni.ac.uk')).toMatchObject({
            notFound: true,
            expiresAt: '2026-02-01T00:00:00.000Z',
          });
        }),
      );
      it(
        "keeps each organizer's refusal and monthly count by object id; a stale put is a ConcurrencyError",
        withStore(async (store) => {
          const objectId = '00000000-0000-0000-0000-00000000000a';
          expect(await store.organizers.getStatus(objectId)).toBeNull();
          const refusal = {
            status: 403,
            code: 'Forbidden',
            requestId: 'r-1',
            message: 'Graph refused',
            firstAt: '2026-01-05T09:00:00.000Z',
            lastAt: '2026-01-05T09:00:00.000Z',
            attempts: 1,
            retryAt: '2026-01-05T10:00:00.000Z',
          };
          const leases = [
            { runId: 'run-1', month: '2026-01', count: 25, expiresAt: '2026-01-05T09:20:00.000Z' },
          ];
          const saved = await store.organizers.putStatus({
            objectId,
            refusal,
            month: '2026-01',
            created: 7,
            leases,
          });
          expect(withoutEtag((await store.organizers.getStatus(objectId))!)).toEqual({
            objectId,
            refusal,
            month: '2026-01',
            created: 7,
            leases,
          });
          await store.organizers.putStatus({ ...saved, refusal: null, created: 8, leases: [] });
          await expect(store.organizers.putStatus({ ...saved, created: 9 })).rejects.toBeInstanceOf(
            ConcurrencyError,
          );
          expect(await store.organizers.getStatus(objectId)).toMatchObject({
            refusal: null,
            created: 8,
            leases: [],
          });
          // The status rows do not shadow the e-mail rows of the same table.
          expect(await store.organizers.get('ada@uni.ac.uk')).toBeNull();
        }),
      );
    });

    describe('policies', () => {
      it(
        'round-trips per-organizer and global records, lists them in key order, updates If-Match only',
        withStore(async (store) => {
          const global = policy('global');
          const one = policy('00000000-0000-0000-0000-000000000001', {
            state: 'missing',
            grantedAt: null,
            firstDeniedAt: '2026-01-02T00:00:00.000Z',
            lastDeniedAt: '2026-01-03T00:00:00.000Z',
            lastProbeAt: '2026-01-03T00:00:00.000Z',
          });
          await store.policies.put(global);
          const saved = await store.policies.put(one);
          expect(withoutEtag((await store.policies.get('global'))!)).toEqual(global);
          expect((await store.policies.list()).map(withoutEtag)).toEqual([one, global]);
          await expect(store.policies.put(one)).rejects.toBeInstanceOf(ConcurrencyError);
          const updated = await store.policies.put({ ...saved, state: 'active', verifiedAt: 'v' });
          expect(updated.etag).not.toBe(saved.etag);
          await expect(store.policies.put({ ...saved, state: 'unknown' })).rejects.toBeInstanceOf(
            ConcurrencyError,
          );
          expect(await store.policies.get(one.objectId)).toMatchObject({ state: 'active', verifiedAt: 'v' });
          expect(await store.policies.get('nobody')).toBeNull();
          await expect(store.policies.get('a/b')).rejects.toBeInstanceOf(InvalidInputError);
        }),
      );
    });

    describe('runs', () => {
      it(
        'returns a feed’s runs newest first (limit honoured), and the latest across feeds',
        withStore(async (store) => {
          for (const finishedAt of [
            '2026-02-01T10:00:00.000Z',
            '2026-02-03T10:00:00.000Z',
            '2026-02-02T10:00:00.000Z',
          ])
            await store.runs.add(run({ finishedAt }));
          const at = '2026-02-02T12:00:00.000Z';
          await store.runs.add(
            run({ feedId: 'ma-200', finishedAt: at, outcome: 'completed', message: 'ok' }),
          );
          // Two runs finishing in the same millisecond are both kept.
          await store.runs.add(run({ feedId: 'ma-200', finishedAt: at, outcome: 'skipped' }));
          const latest = await store.runs.latest('cs-101', 10);
          expect(latest.map((r) => r.finishedAt)).toEqual([
            '2026-02-03T10:00:00.000Z',
            '2026-02-02T10:00:00.000Z',
            '2026-02-01T10:00:00.000Z',
          ]);
          expect(latest[0]).toEqual(run({ finishedAt: '2026-02-03T10:00:00.000Z' }));
          expect((await store.runs.latest('cs-101', 2)).map((r) => r.finishedAt)).toEqual(
            latest.slice(0, 2).map((r) => r.finishedAt),
          );
          const all = await store.runs.latestAll(3);
          expect(all.map((r) => [r.feedId, r.finishedAt])).toEqual([
            ['cs-101', '2026-02-03T10:00:00.000Z'],
            ['ma-200', at],
            ['ma-200', at],
          ]);
          expect(all.find((r) => r.outcome === 'completed')?.message).toBe('ok');
          expect(await store.runs.latest('none', 5)).toEqual([]);
        }),
      );

      it(
        'keeps the first 2,000 characters of a message; refuses bad limits, dates and feed ids',
        withStore(async (store) => {
          await store.runs.add(run({ message: 'm'.repeat(5_000) }));
          expect((await store.runs.latest('cs-101', 1))[0]?.message).toBe('m'.repeat(2_000));
          await expect(store.runs.latest('cs-101', 0)).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.runs.latestAll(1.5)).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.runs.add(run({ finishedAt: 'yesterday' }))).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          await expect(store.runs.add(run({ feedId: 'a/b' }))).rejects.toBeInstanceOf(InvalidInputError);
          expect(await store.runs.latestAll(10)).toHaveLength(1);
        }),
      );
    });

    describe('graph rates', () => {
      it(
        "keeps each instance's latest report (time stamp, null ceiling, left, idle) and deletes a gone one",
        withStore(async (store) => {
          const at = Date.parse('2026-12-01T10:00:00.000Z');
          await store.graphRates.report({
            instance: 'host-a-1',
            ceiling: null,
            at,
            left: false,
            idle: false,
          });
          await store.graphRates.report({
            instance: 'host-b-2',
            ceiling: 12.5,
            at: at + 1,
            left: false,
            idle: true,
          });
          await store.graphRates.report({
            instance: 'host-a-1',
            ceiling: 24.75,
            at: at + 2_000,
            left: true,
            idle: true,
          });
          const byInstance = (reports: { instance: string }[]) =>
            [...reports].sort((x, y) => x.instance.localeCompare(y.instance));
          expect(byInstance(await store.graphRates.list())).toEqual([
            { instance: 'host-a-1', ceiling: 24.75, at: at + 2_000, left: true, idle: true },
            { instance: 'host-b-2', ceiling: 12.5, at: at + 1, left: false, idle: true },
          ]);
          await store.graphRates.remove('host-b-2');
          expect((await store.graphRates.list()).map((r) => r.instance)).toEqual(['host-a-1']);
          // Its rows live beside the feeds, which the feed list does not show.
          expect(await store.feeds.list()).toEqual([]);
          await expect(
            store.graphRates.report({ instance: 'a/b', ceiling: 1, at, left: false, idle: false }),
          ).rejects.toBeInstanceOf(InvalidInputError);
        }),
      );
    });

    describe('deployment keys', () => {
      it(
        'getOrCreate inserts once, racing callers all get the one inserted key; rotate replaces it with a new etag',
        withStore(async (store) => {
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              store.deploymentKeys.getOrCreate('shared', () => `candidate-${i}`),
            ),
          );
          expect(new Set(results.map((r) => r.value)).size).toBe(1);
          const stored = (await store.deploymentKeys.get('shared'))!;
          expect(stored).toEqual(results[0]);
          expect(Date.parse(stored.createdAt)).not.toBeNaN();
          expect(await store.deploymentKeys.getOrCreate('shared', () => 'never')).toEqual(stored);
          const rotated = await store.deploymentKeys.rotate('shared', 'v2');
          expect(rotated).toMatchObject({ name: 'shared', value: 'v2' });
          expect(rotated.etag).not.toBe(stored.etag);
          expect(await store.deploymentKeys.get('shared')).toEqual(rotated);
          expect(await store.deploymentKeys.rotate('new', 'v1')).toMatchObject({ name: 'new', value: 'v1' });
          expect(await store.deploymentKeys.get('absent')).toBeNull();
        }),
      );

      it(
        'concurrent rotations all succeed (each re-reads after losing the ETag race); the last write stays',
        withStore(async (store) => {
          await store.deploymentKeys.getOrCreate('k', () => 'v0');
          const results = await Promise.all(['a', 'b', 'c'].map((v) => store.deploymentKeys.rotate('k', v)));
          expect(results.map((r) => r.value)).toEqual(['a', 'b', 'c']);
          const stored = await store.deploymentKeys.get('k');
          expect(results.find((r) => r.etag === stored?.etag)?.value).toBe(stored?.value);
        }),
      );

      it(
        'refuses bad names and values as InvalidInputError, without quoting the value or storing it',
        withStore(async (store) => {
          await expect(store.deploymentKeys.get('a/b')).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.deploymentKeys.getOrCreate('k', () => '')).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          const error = await rejection(store.deploymentKeys.rotate('k', 'S'.repeat(5000)));
          expect(error).toBeInstanceOf(InvalidInputError);
          expect((error as Error).message).not.toContain('SSSS');
          expect(await store.deploymentKeys.get('k')).toBeNull();
        }),
      );
    });

    describe('feed bodies', () => {
      const ICS_A = 'BEGIN:VCALENDAR\r\nX-WR-CALNAME:Vorlesung Übung – Café\r\nEND:VCALENDAR\r\n';
      const ICS_B = ICS_A.replace('Café', 'Mensa');

      it(
        'stores every body as its own version and reads each back exactly; unknown versions are null',
        withStore(async (store) => {
          const { version: v1 } = await store.feedBodies.put('cs-101', ICS_A);
          const { version: v2 } = await store.feedBodies.put('cs-101', ICS_B);
          expect(v1).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{16}$/);
          expect(v2).not.toBe(v1);
          expect(await store.feedBodies.get('cs-101', v1)).toBe(ICS_A);
          expect(await store.feedBodies.get('cs-101', v2)).toBe(ICS_B);
          expect(await store.feedBodies.list('cs-101')).toEqual([v1, v2].sort());
          expect(await store.feedBodies.get('cs-101', '20000101T000000000Z-0000000000000000')).toBeNull();
          expect(await store.feedBodies.get('other', v1)).toBeNull();
          await expect(store.feedBodies.get('cs-101', '../x')).rejects.toBeInstanceOf(InvalidInputError);
          await expect(store.feedBodies.put('a/b', ICS_A)).rejects.toBeInstanceOf(InvalidInputError);
        }),
      );

      it(
        'deleteAll removes the feed’s versions and no other feed’s (not even one sharing a name prefix)',
        withStore(async (store) => {
          await store.feedBodies.put('cs-101', ICS_A);
          await store.feedBodies.put('cs-101', ICS_B);
          const { version: kept } = await store.feedBodies.put('cs-1010', ICS_A);
          expect(await store.feedBodies.list('cs-1010')).toEqual([kept]);
          expect(await store.feedBodies.deleteAll('cs-101')).toBe(2);
          expect(await store.feedBodies.list('cs-101')).toEqual([]);
          expect(await store.feedBodies.get('cs-1010', kept)).toBe(ICS_A);
          expect(await store.feedBodies.deleteAll('cs-101')).toBe(0);
        }),
      );
    });

    describe('feed leases', () => {
      it(
        'one live holder at a time; a lapsed or released lease is taken, a stale renewal is refused',
        withStore(async (store) => {
          const [a, b] = [newLeaseHolder(), newLeaseHolder()];
          try {
            const first = await store.feedLeases.acquire('cs-101', a.id, 'sync', 60_000);
            if (!('lease' in first)) throw new Error('expected the lease');
            const refused = await store.feedLeases.acquire('cs-101', b.id, 'remove', 60_000);
            expect(refused).toMatchObject({ heldBy: { holder: a.id, purpose: 'sync', feedId: 'cs-101' } });
            // Another feed's lease is independent.
            expect('lease' in (await store.feedLeases.acquire('cs-102', b.id, 'sync', 60_000))).toBe(true);

            // a's lease lapses (it renewed it into the past): b takes it; a's next renewal is refused.
            const lapsed = await store.feedLeases.renew(first.lease, -1_000);
            const taken = await store.feedLeases.acquire('cs-101', b.id, 'remove', 60_000);
            if (!('lease' in taken)) throw new Error('expected the lapsed lease to be taken');
            expect(await rejection(store.feedLeases.renew(lapsed, 60_000))).toBeInstanceOf(ConcurrencyError);
            // a's late release leaves b's lease alone.
            await store.feedLeases.release(lapsed);
            expect('heldBy' in (await store.feedLeases.acquire('cs-101', a.id, 'sync', 60_000))).toBe(true);
            await store.feedLeases.release(taken.lease);
            expect('lease' in (await store.feedLeases.acquire('cs-101', a.id, 'sync', 60_000))).toBe(true);
          } finally {
            a.ended();
            b.ended();
          }
        }),
      );

      it(
        'a lease whose holder in this process has ended is taken at once; removal requests round-trip',
        withStore(async (store) => {
          const gone = newLeaseHolder();
          expect('lease' in (await store.feedLeases.acquire('cs-101', gone.id, 'sync', 60_000))).toBe(true);
          gone.ended(); // its run ended without releasing (crashed)
          const next = newLeaseHolder();
          try {
            expect('lease' in (await store.feedLeases.acquire('cs-101', next.id, 'sync', 60_000))).toBe(true);
          } finally {
            next.ended();
          }
          expect(await store.feedLeases.removalRequest('cs-101')).toBeNull();
          const request = {
            feedId: 'cs-101',
            requestedAt: '2027-01-04T08:00:00.000Z',
            cancelFutureMeetings: true,
          };
          await store.feedLeases.requestRemoval(request);
          await store.feedLeases.requestRemoval({ ...request, cancelFutureMeetings: false }); // asked again
          expect(await store.feedLeases.removalRequest('cs-101')).toEqual({
            ...request,
            cancelFutureMeetings: false,
          });
          await store.feedLeases.clearRemovalRequest('cs-101');
          expect(await store.feedLeases.removalRequest('cs-101')).toBeNull();
          // Lease and request rows live beside the feeds: list() still shows only feeds.
          expect(await store.feeds.list()).toEqual([]);
        }),
      );
    });

    describe('sync queue', () => {
      const message = (feedId: string) => ({ feedId, reason: 'test', requestedAt: '2027-01-04T08:00:00Z' });
      const feedIds = (items: { text: string }[]) => items.map((m) => decodeSyncMessage(m.text)?.feedId);

      it(
        'hands out each message once while it is leased: complete deletes it, poison moves it to the poison queue',
        withStore(async (store) => {
          await store.syncQueue.enqueue({ ...message('done'), force: true });
          await store.syncQueue.enqueue(message('broken'));
          const received = await store.syncQueue.receive(8, 30);
          expect(feedIds(received)).toEqual(['done', 'broken']);
          expect(decodeSyncMessage(received[0]!.text)).toEqual({ ...message('done'), force: true });
          expect(received.map((m) => m.dequeueCount)).toEqual([1, 1]);
          expect(await store.syncQueue.receive(8, 30)).toEqual([]);
          await received[0]!.complete();
          await received[1]!.poison();
          expect(await store.syncQueue.peekPoison(5)).toEqual({ count: 1, feedIds: ['broken'] });
          await expect(received[0]!.complete()).rejects.toBeInstanceOf(StorageError);
          await expect(store.syncQueue.enqueue(message('a/b'))).rejects.toBeInstanceOf(InvalidInputError);
        }),
      );

      it(
        'receive takes at most 32 (and at least 1) messages, oldest first',
        withStore(async (store) => {
          for (let i = 0; i < 34; i++) await store.syncQueue.enqueue(message(`f${i}`));
          expect(feedIds(await store.syncQueue.receive(0, 30))).toEqual(['f0']);
          const batch = await store.syncQueue.receive(100, 30);
          expect(feedIds(batch)).toEqual(Array.from({ length: 32 }, (_, i) => `f${i + 1}`));
        }),
      );

      it(
        'retryLater makes a message visible again behind the waiting ones, delivered once more',
        withStore(async (store) => {
          for (const id of ['flaky', 'b', 'c']) await store.syncQueue.enqueue(message(id));
          const [first] = await store.syncQueue.receive(1, 30);
          await first!.retryLater(0);
          const again = await store.syncQueue.receive(8, 30);
          expect(feedIds(again)).toEqual(['b', 'c', 'flaky']);
          expect(again.map((m) => m.dequeueCount)).toEqual([1, 1, 2]);
          await expect(first!.complete()).rejects.toBeInstanceOf(StorageError); // its lease ended with the second delivery
          await again[2]!.complete();
          await expect(again[2]!.retryLater(0)).rejects.toBeInstanceOf(StorageError);
        }),
      );

      it(
        'a lease that runs out hands the message to the next receiver; the first one can then no longer complete it',
        withStore(async (store, elapse) => {
          await store.syncQueue.enqueue(message('slow'));
          const [lease] = await store.syncQueue.receive(1, 1);
          expect(await store.syncQueue.receive(1, 1)).toEqual([]);
          await elapse(1);
          const [next] = await store.syncQueue.receive(1, 30);
          expect(next?.id).toBe(lease?.id);
          expect(next?.dequeueCount).toBe(2);
          await expect(lease!.complete()).rejects.toBeInstanceOf(StorageError);
          await next!.complete();
          expect(await store.syncQueue.receive(1, 1)).toEqual([]);
          await expect(store.syncQueue.receive(1, 0)).rejects.toBeInstanceOf(StorageError);
        }),
      );

      it(
        'peekPoison counts poison messages and names their feeds without removing them',
        withStore(async (store) => {
          expect(await store.syncQueue.peekPoison(10)).toEqual({ count: 0, feedIds: [] });
          for (const id of ['cs-101', 'ma-200', 'ph-300']) await store.syncQueue.enqueue(message(id));
          for (const item of await store.syncQueue.receive(8, 30)) await item.poison();
          expect(await store.syncQueue.peekPoison(2)).toEqual({ count: 3, feedIds: ['cs-101', 'ma-200'] });
          expect(await store.syncQueue.peekPoison(0)).toEqual({ count: 3, feedIds: [] });
          expect(await store.syncQueue.peekPoison(10)).toEqual({
            count: 3,
            feedIds: ['cs-101', 'ma-200', 'ph-300'],
          });
          await expect(store.syncQueue.peekPoison(-1)).rejects.toBeInstanceOf(InvalidInputError);
          expect(await store.syncQueue.receive(8, 30)).toEqual([]);
        }),
      );
    });
  });
}
