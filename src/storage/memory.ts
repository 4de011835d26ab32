// An in-memory StateStore with the observable semantics of the Azure one (createStateStore): the same
// repositories on an in-memory Table adapter, feed bodies and queues in memory. No I/O and no SDK,
// so tests of the sync's apply units run in milliseconds; test/support/state-store-contract.ts runs
// the same suite against both.

import { attendanceRepository } from './attendance.js';
import { deploymentKeyRepository } from './deploymentKeys.js';
import { blobName, blobPrefix, bodyVersion, type FeedBodyStore } from './feedBodies.js';
import { feedLeaseRepository } from './feedLeases.js';
import { feedRepository } from './feeds.js';
import { graphRateRepository } from './graphRates.js';
import { meetingRepository } from './meetings.js';
import { organizerRepository } from './organizers.js';
import { policyRepository } from './policies.js';
import { runRepository } from './runs.js';
import type { StateStore } from './stateStore.js';
import { storageNames } from './storageNames.js';
import { MemoryQueue, createMemorySyncQueue } from './memoryQueue.js';
import { answer, createMemoryTable, etagCounter } from './memoryTable.js';

export interface MemoryStateStoreOptions {
  /** Names as createStateStore would give them (validated the same way); default ''. */
  namePrefix?: string;
  /** The clock of queue visibility timeouts, deployment-key and feed-body timestamps (default: real time). */
  now?: () => Date;
}

export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): StateStore {
  const names = storageNames(options.namePrefix);
  const now = options.now ?? (() => new Date());
  const etags = etagCounter();
  const table = (name: string) => createMemoryTable(name, etags);
  const nowMs = () => now().getTime();
  const feeds = table(names.tables.feeds);
  return {
    // Nothing to create; the Azure store's "before ensure() the tables are missing" is not modelled.
    ensure: () => Promise.resolve(),
    names,
    feeds: feedRepository(feeds),
    feedLeases: feedLeaseRepository(feeds, nowMs),
    graphRates: graphRateRepository(feeds),
    meetings: meetingRepository(table(names.tables.meetings)),
    organizers: organizerRepository(table(names.tables.organizers)),
    policies: policyRepository(table(names.tables.policies)),
    runs: runRepository(table(names.tables.runs)),
    deploymentKeys: deploymentKeyRepository(table(names.tables.deploymentKeys), now),
    feedBodies: createMemoryFeedBodyStore(now),
    syncQueue: createMemorySyncQueue(
      new MemoryQueue(names.queue, nowMs),
      new MemoryQueue(names.poisonQueue, nowMs),
    ),
    attendance: attendanceRepository(table(names.tables.attendance), table(names.tables.attendanceSessions)),
    attendanceQueue: createMemorySyncQueue(
      new MemoryQueue(names.attendanceQueue, nowMs),
      new MemoryQueue(names.attendancePoisonQueue, nowMs),
    ),
  };
}

/** feedBodies.ts on a Map of blob names: the same names, versions and never-overwrite rule. */
function createMemoryFeedBodyStore(now: () => Date): FeedBodyStore {
  const blobs = new Map<string, Buffer>();
  const namesOf = (feedId: string): string[] => {
    const prefix = blobPrefix(feedId);
    return [...blobs.keys()].filter((name) => name.startsWith(prefix));
  };
  return {
    put: (feedId, text) =>
      answer(() => {
        const body = Buffer.from(text, 'utf8');
        const version = bodyVersion(body, now());
        const name = blobName(feedId, version);
        // Never overwrite: the same name means the same millisecond and the same content anyway.
        if (!blobs.has(name)) blobs.set(name, body);
        return { version };
      }),
    get: (feedId, version) => answer(() => blobs.get(blobName(feedId, version))?.toString('utf8') ?? null),
    list: (feedId) =>
      answer(() => {
        const prefix = blobPrefix(feedId);
        return namesOf(feedId)
          .map((name) => name.slice(prefix.length).replace(/\.ics$/, ''))
          .sort();
      }),
    deleteAll: (feedId) =>
      answer(() => {
        const doomed = namesOf(feedId);
        for (const name of doomed) blobs.delete(name);
        return doomed.length;
      }),
  };
}
