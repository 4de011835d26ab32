// Storage failures while a plan is applied (in-memory StateStore whose meeting writes fail on cue, the
// Graph emulator): they are never reported as Graph errors; three in a row stop the run with one
// storage.unavailable and no further Graph call; a successful write in between resets the count; an
// ETag conflict (another run's write) is not a storage failure at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { contentHash, externalIdFor } from '../../src/core/identity.js';
import type { DesiredSession } from '../../src/core/desired.js';
import type { PlannedOperation } from '../../src/core/plan.js';
import { loadConfig } from '../../src/config.js';
import type { EmulatorUser } from '../../src/emulator/index.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import type { GraphAccess } from '../../src/graph/client.js';
import { ConcurrencyError, StorageError, isStorageFailure } from '../../src/storage/errors.js';
import { createMemoryStateStore, type StateStore } from '../../src/storage/index.js';
import { ApplyRun, applyOperations } from '../../src/sync/apply/index.js';
import { createLimiter } from '../../src/sync/limiter.js';
import { startTestEmulator, type TestEmulator } from '../support/graph-emulator.js';

const FEED = 'cs-101';
const CONNECTION_STRING =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleQ==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1';
let t: TestEmulator;
let graph: GraphAccess;
let ada: EmulatorUser;

beforeAll(async () => {
  t = await startTestEmulator();
  graph = t.access();
  ada = t.users[0] as EmulatorUser;
  t.emulator.control.newPolicy('TimetableSync-OnlineMeetings', [t.emulator.clientId]);
  t.emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: ada.id }, { delayMs: 0 });
}, 60_000);
afterAll(() => t.emulator.stop());

/** What a meeting-row write does, by its 1-based number in the run: succeed, or throw this. */
type WriteFault = 'unavailable' | 'conflict';

/** The in-memory store, with meeting-row writes failing as `faults` says (one operation at a time). */
async function applyWithWriteFaults(
  faults: Record<number, WriteFault>,
  sessions = 6,
  options: { organizerStatusFails?: boolean } = {},
) {
  t.emulator.control.reset();
  const memory = createMemoryStateStore();
  let writes = 0;
  const store: StateStore = {
    ...memory,
    organizers: {
      ...memory.organizers,
      getStatus: (objectId) =>
        options.organizerStatusFails
          ? Promise.reject(
              new StorageError('unavailable', `read organizers/status/${objectId} failed (ETIMEDOUT)`),
            )
          : memory.organizers.getStatus(objectId),
    },
    meetings: {
      ...memory.meetings,
      put: async (record) => {
        writes++;
        const fault = faults[writes];
        if (fault === 'conflict')
          throw new ConcurrencyError(
            `meetings/${FEED}/${record.key} was changed by another writer`,
            record.key,
          );
        // What toStorageError makes of a refused connection: the table and row, the SDK's code, no secret.
        if (fault === 'unavailable')
          throw new StorageError(
            'unavailable',
            `write meetings/${FEED}/${record.key} failed (ECONNREFUSED)`,
            {
              cause: Object.assign(new Error(`connect ECONNREFUSED (${CONNECTION_STRING})`), {
                code: 'ECONNREFUSED',
              }),
            },
          );
        return memory.meetings.put(record);
      },
    },
  };
  const { sink, events } = memorySink();
  const run = new ApplyRun(
    {
      store,
      graph,
      // One operation at a time, so "in a row" is the order of the writes.
      limiter: createLimiter({ initial: 1, min: 1, max: 1, perKeyMax: 1 }),
      logger: createEventLogger(sink),
      config: loadConfig({}),
      now: () => new Date('2027-01-04T08:00:00Z'),
      sleep: () => Promise.resolve(),
      policyRetryWaitsMs: [],
    },
    FEED,
    Number.POSITIVE_INFINITY,
  );
  const ops = Array.from({ length: sessions }, (_, i) => create(session(`s${i}`, i)));
  const error = await applyOperations(run, ops).then(
    () => null,
    (e: unknown) => e,
  );
  const named = (name: string) => events.filter((e) => e.name === name);
  return {
    run,
    error,
    named,
    meetings: t.emulator.control.meetings(),
    createOrGets:
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet']?.[
        '201'
      ] ?? 0,
    rows: await memory.meetings.listByFeed(FEED),
  };
}

function session(key: string, day: number): DesiredSession {
  const start = Date.parse('2027-01-11T09:00:00Z') + day * 86_400_000;
  const draft = {
    key,
    uid: `${key}@uni`,
    recurrenceId: null,
    subject: `Lecture ${key}`,
    start: new Date(start).toISOString().replace('.000', ''),
    end: new Date(start + 3_600_000).toISOString().replace('.000', ''),
    organizerEmail: ada.userPrincipalName,
    cancelled: false,
    location: 'Room 1',
  };
  return { ...draft, contentHash: contentHash(draft) };
}

function create(desired: DesiredSession): PlannedOperation {
  return { kind: 'create', desired, record: null, generation: 0, externalId: externalIdFor(desired.key, 0) };
}

describe('storage failures while applying a plan', () => {
  it('are storage failures unless they are ETag conflicts', () => {
    expect(isStorageFailure(new StorageError('unavailable', 'write x failed (ECONNREFUSED)'))).toBe(true);
    expect(isStorageFailure(new StorageError('notFound', 'x no longer exists'))).toBe(true);
    expect(isStorageFailure(new ConcurrencyError('x was changed by another writer', 'x'))).toBe(false);
    expect(isStorageFailure(new Error('Graph said no'))).toBe(false);
  });

  it('three in a row stop the run: one storage.unavailable, no graph.error, no Graph call after it, and the run throws the storage error', async () => {
    // Writes: 1 s0 creating, 2 s0 active, then s1, s2 and s3 each fail their first (creating) write.
    const r = await applyWithWriteFaults({ 3: 'unavailable', 4: 'unavailable', 5: 'unavailable' });
    expect(r.error).toBeInstanceOf(StorageError);
    expect(r.named('graph.error')).toEqual([]);
    expect(r.named('storage.unavailable')).toHaveLength(1);
    const [event] = r.named('storage.unavailable');
    expect(event?.level).toBe('error');
    expect(event?.properties).toMatchObject({
      feedId: FEED,
      operation: 'create',
      code: 'unavailable',
      storageCode: 'ECONNREFUSED',
      message: `write meetings/${FEED}/s3 failed (ECONNREFUSED)`,
    });
    expect(String(event?.properties.action)).toContain('AzureWebJobsStorage');
    expect(JSON.stringify(r.named('storage.unavailable'))).not.toContain('AccountKey');
    // s0 was made; s1-s3 never reached Graph (their rows could not be written first); s4, s5 were not tried.
    expect(r.meetings.map((m) => m.subject)).toEqual(['Lecture s0']);
    expect(r.createOrGets).toBe(1);
    expect(r.run.complete).toBe(false);
    expect(r.run.stopCause?.code).toBe('storageUnavailable');
  });

  it('a successful write in between resets the count: the run goes on, and what failed is left for the next run', async () => {
    // s1, s2 fail; s3 is written (reset); s4, s5 fail: never three in a row.
    const r = await applyWithWriteFaults({
      3: 'unavailable',
      4: 'unavailable',
      7: 'unavailable',
      8: 'unavailable',
    });
    expect(r.error).toBeNull();
    expect(r.named('storage.unavailable')).toEqual([]);
    expect(r.named('graph.error')).toEqual([]);
    expect(r.meetings.map((m) => m.subject).sort()).toEqual(['Lecture s0', 'Lecture s3']);
    expect(r.run.counters).toMatchObject({ created: 2, failed: 0, storageFailed: 4 });
    // Not complete: the unchanged-feed fast path must not skip the sessions that got no row.
    expect(r.run.complete).toBe(false);
    expect(r.rows.map((row) => row.key).sort()).toEqual(['s0', 's3']);
  });

  it('ETag conflicts are another run’s writes, not storage failures: they neither count nor stop the run', async () => {
    // Two storage failures, then three conflicts: were conflicts counted, the run would stop.
    const r = await applyWithWriteFaults({
      3: 'unavailable',
      4: 'unavailable',
      5: 'conflict',
      6: 'conflict',
      7: 'conflict',
    });
    expect(r.error).toBeNull();
    expect(r.named('storage.unavailable')).toEqual([]);
    expect(r.named('graph.error')).toEqual([]);
    expect(r.named('meeting.write.conflict')).toHaveLength(3);
    expect(r.run.counters).toMatchObject({ raced: 3, storageFailed: 2, created: 1 });
    expect(r.run.stopped).toBe(false);
  });

  it('a lane that cannot go on (its lecturer’s standing cannot be read) stops the run at once, with one storage.unavailable', async () => {
    const r = await applyWithWriteFaults({}, 6, { organizerStatusFails: true });
    expect(r.error).toBeInstanceOf(StorageError);
    expect(r.named('graph.error')).toEqual([]);
    expect(r.named('storage.unavailable').map((e) => e.properties.operation)).toEqual(['organizer lane']);
    expect(r.createOrGets).toBe(0);
  });
});
