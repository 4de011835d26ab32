// Public surface of the storage layer; the rest of the app imports from here.
export {
  createStateStore,
  storageNames,
  type StateStore,
  type StateStoreOptions,
  type StorageNames,
} from './stateStore.js';
export { createMemoryStateStore, type MemoryStateStoreOptions } from './memory.js';
export {
  ConcurrencyError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  StorageError,
  type StorageErrorCode,
} from './errors.js';
export { validateFeedId, MAX_TRANSACTION_ROWS } from './table.js';
export type { FeedRepository } from './feeds.js';
export {
  holderIsDead,
  newLeaseHolder,
  type FeedLease,
  type FeedLeaseRepository,
  type RemovalRequest,
} from './feedLeases.js';
export type { GraphRateRepository } from './graphRates.js';
export type { MeetingRepository } from './meetings.js';
export { normaliseEmail, organizerRowKey, type OrganizerRepository } from './organizers.js';
export type { PolicyRepository } from './policies.js';
export { ALL_RUNS_PARTITION, type RunRepository } from './runs.js';
export type { DeploymentKey, DeploymentKeyRepository } from './deploymentKeys.js';
export type { FeedBodyStore } from './feedBodies.js';
export { SYNC_QUEUE_NAME, POISON_SUFFIX, ATTENDANCE_QUEUE_NAME } from './names.js';
export type { AttendanceRepository } from './attendance.js';
export { decodeSyncMessage, encodeSyncMessage, type SyncQueue } from './syncQueue.js';
export type { FeedGuard, FeedRecord, FeedSource, RunOutcome, RunSummary, SyncMessage } from './types.js';
