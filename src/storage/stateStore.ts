// The only place the Table, Blob and Queue SDK clients are built. compose.ts calls createStateStore
// once per process; tests pass a namePrefix so each gets its own tables, container and queues.

import type { TokenCredential } from '@azure/core-auth';
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { createAttendanceRepository, type AttendanceRepository } from './attendance.js';
import { createDeploymentKeyRepository, type DeploymentKeyRepository } from './deploymentKeys.js';
import { InvalidInputError, StorageError, toStorageError } from './errors.js';
import { createFeedBodyStore, type FeedBodyStore } from './feedBodies.js';
import { createFeedLeaseRepository, type FeedLeaseRepository } from './feedLeases.js';
import { createGraphRateRepository, type GraphRateRepository } from './graphRates.js';
import { createFeedRepository, type FeedRepository } from './feeds.js';
import { createMeetingRepository, type MeetingRepository } from './meetings.js';
import { createOrganizerRepository, type OrganizerRepository } from './organizers.js';
import { createPolicyRepository, type PolicyRepository } from './policies.js';
import { createRunRepository, type RunRepository } from './runs.js';
import { storageNames, type StorageNames } from './storageNames.js';
import { createSyncQueue, type SyncQueue } from './syncQueue.js';

export { storageNames, type StorageNames } from './storageNames.js';

export type StateStoreOptions =
  | { connectionString: string; namePrefix?: string }
  /** Managed identity / Entra ID (the account has shared-key access disabled in infra). */
  | { accountName: string; credential: TokenCredential; namePrefix?: string };

export interface StateStore {
  /** Creates the tables, container and queues when missing. Idempotent; the first call's work is reused. */
  ensure(): Promise<void>;
  readonly names: StorageNames;
  readonly feeds: FeedRepository;
  /** Fencing: the lease a sync or a removal holds on one feed (rows in the feeds table). */
  readonly feedLeases: FeedLeaseRepository;
  /** The Graph rate each syncing instance learned, to share the tenant's ceiling (rows in the feeds table). */
  readonly graphRates: GraphRateRepository;
  readonly meetings: MeetingRepository;
  readonly organizers: OrganizerRepository;
  readonly policies: PolicyRepository;
  readonly runs: RunRepository;
  /** Per-deployment secrets (the organizer-calendar HMAC key). */
  readonly deploymentKeys: DeploymentKeyRepository;
  readonly feedBodies: FeedBodyStore;
  readonly syncQueue: SyncQueue;
  /** Attendance records and their collection state (src/attendance). */
  readonly attendance: AttendanceRepository;
  /** One message per feed whose attendance is collected (same message shape as the sync queue). */
  readonly attendanceQueue: SyncQueue;
}

// How storage calls are retried. The SDK defaults retry a refused connection for long: Tables 3 retries
// 0.5-1, 1-2 and 2-4 s apart (up to 7 s per call), Blobs and Queues 4 tries 0, 4 and 12 s apart (16 s),
// and nothing bounds a call to an endpoint that never answers but the OS's connect timeout (about two
// minutes on Linux). A sync makes a few calls per operation, so with the storage gone a run took minutes
// to fail (374 s for 259 sessions). With these a call to a storage that refuses connections fails
// within about 3 s, after 4 tries, which still rides out a transient 503 (ServerBusy) or a dropped
// connection; a run counts such failures and stops after a few in a row (src/sync/apply/run.ts).

/** Tables: 4 tries, 0.2-0.4, 0.4-0.8 and 0.8-1.6 s apart (exponential with jitter): ≤ 2.8 s of waiting. */
export const TABLE_RETRY_OPTIONS = { maxRetries: 3, retryDelayInMs: 400, maxRetryDelayInMs: 3_000 } as const;
/**
 * One table request (one try) is abandoned after this long without a response: a partition page, a
 * point write or a 100-row transaction answers in well under a second. A timed-out try is not retried
 * (the SDK treats it as an abort), so an unresponsive endpoint costs at most this per call.
 */
export const TABLE_TRY_TIMEOUT_MS = 15_000;
/** Blobs and queues: 4 tries, 0, 0.5 and 1.5 s apart. No try timeout: a feed body may be 10 MB. */
export const BLOB_QUEUE_RETRY_OPTIONS = {
  maxTries: 4,
  retryDelayInMs: 500,
  maxRetryDelayInMs: 4_000,
} as const;

const tableOptions: TableServiceClientOptions = {
  retryOptions: TABLE_RETRY_OPTIONS,
  additionalPolicies: [
    {
      position: 'perCall',
      policy: {
        name: 'timetableSyncTryTimeout',
        sendRequest: (request, next) => {
          if (!request.timeout) request.timeout = TABLE_TRY_TIMEOUT_MS;
          return next(request);
        },
      },
    },
  ],
};
const blobQueueOptions = { retryOptions: BLOB_QUEUE_RETRY_OPTIONS };

interface Clients {
  table(name: string): TableClient;
  container: ContainerClient;
  queue: QueueClient;
  poisonQueue: QueueClient;
  attendanceQueue: QueueClient;
  attendancePoisonQueue: QueueClient;
}

function buildClients(options: StateStoreOptions, names: StorageNames): Clients {
  if ('connectionString' in options) {
    const connectionString = options.connectionString;
    // Azurite speaks http; the Tables SDK refuses http unless told. Only an explicit http endpoint enables it.
    const allowInsecureConnection =
      /(^|;)\s*(DefaultEndpointsProtocol=http|TableEndpoint=http:|UseDevelopmentStorage=true)/i.test(
        connectionString,
      );
    try {
      const blobService = BlobServiceClient.fromConnectionString(connectionString, blobQueueOptions);
      const queueService = QueueServiceClient.fromConnectionString(connectionString, blobQueueOptions);
      const options = { ...tableOptions, allowInsecureConnection };
      // Parse once now so a malformed string fails here, not on the first table call.
      TableClient.fromConnectionString(connectionString, names.tables.feeds, options);
      return {
        table: (name) => TableClient.fromConnectionString(connectionString, name, options),
        container: blobService.getContainerClient(names.container),
        queue: queueService.getQueueClient(names.queue),
        poisonQueue: queueService.getQueueClient(names.poisonQueue),
        attendanceQueue: queueService.getQueueClient(names.attendanceQueue),
        attendancePoisonQueue: queueService.getQueueClient(names.attendancePoisonQueue),
      };
    } catch {
      // The SDK's parse errors can quote the string, key included: say what is wrong without it.
      throw new StorageError(
        'invalidInput',
        'the storage connection string is malformed (expected AccountName, AccountKey and endpoints)',
        {
          isUserError: true,
        },
      );
    }
  }
  const { accountName, credential } = options;
  if (!/^[a-z0-9]{3,24}$/.test(accountName))
    throw new InvalidInputError('storage account name must be 3-24 lower-case letters or digits');
  const blobService = new BlobServiceClient(
    `https://${accountName}.blob.core.windows.net`,
    credential,
    blobQueueOptions,
  );
  const queueService = new QueueServiceClient(
    `https://${accountName}.queue.core.windows.net`,
    credential,
    blobQueueOptions,
  );
  return {
    table: (name) =>
      new TableClient(`https://${accountName}.table.core.windows.net`, name, credential, tableOptions),
    container: blobService.getContainerClient(names.container),
    queue: queueService.getQueueClient(names.queue),
    poisonQueue: queueService.getQueueClient(names.poisonQueue),
    attendanceQueue: queueService.getQueueClient(names.attendanceQueue),
    attendancePoisonQueue: queueService.getQueueClient(names.attendancePoisonQueue),
  };
}

export function createStateStore(options: StateStoreOptions): StateStore {
  const names = storageNames(options.namePrefix);
  const clients = buildClients(options, names);
  const tables = {
    feeds: clients.table(names.tables.feeds),
    meetings: clients.table(names.tables.meetings),
    organizers: clients.table(names.tables.organizers),
    policies: clients.table(names.tables.policies),
    runs: clients.table(names.tables.runs),
    deploymentKeys: clients.table(names.tables.deploymentKeys),
    attendance: clients.table(names.tables.attendance),
    attendanceSessions: clients.table(names.tables.attendanceSessions),
  };

  let ensured: Promise<void> | null = null;
  const ensure = (): Promise<void> => {
    ensured ??= (async () => {
      try {
        await Promise.all([
          // createTable() treats "already exists" as success.
          ...Object.values(tables).map((table) => table.createTable()),
          clients.container.createIfNotExists(),
          clients.queue.createIfNotExists(),
          // Created up front so peekPoison and operators see it before the first failure.
          clients.poisonQueue.createIfNotExists(),
          clients.attendanceQueue.createIfNotExists(),
          clients.attendancePoisonQueue.createIfNotExists(),
        ]);
      } catch (error) {
        ensured = null; // let the next call try again instead of caching the failure
        throw toStorageError(error, 'create tables, container and queues');
      }
    })();
    return ensured;
  };

  return {
    ensure,
    names,
    feeds: createFeedRepository(tables.feeds, names.tables.feeds),
    feedLeases: createFeedLeaseRepository(tables.feeds, names.tables.feeds),
    graphRates: createGraphRateRepository(tables.feeds, names.tables.feeds),
    meetings: createMeetingRepository(tables.meetings, names.tables.meetings),
    organizers: createOrganizerRepository(tables.organizers, names.tables.organizers),
    policies: createPolicyRepository(tables.policies, names.tables.policies),
    runs: createRunRepository(tables.runs, names.tables.runs),
    deploymentKeys: createDeploymentKeyRepository(tables.deploymentKeys, names.tables.deploymentKeys),
    feedBodies: createFeedBodyStore(clients.container),
    syncQueue: createSyncQueue(clients.queue, clients.poisonQueue),
    attendance: createAttendanceRepository(
      tables.attendance,
      names.tables.attendance,
      tables.attendanceSessions,
      names.tables.attendanceSessions,
    ),
    attendanceQueue: createSyncQueue(clients.attendanceQueue, clients.attendancePoisonQueue),
  };
}
