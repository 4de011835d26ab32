// Storage names the function registrations need at load time (functions/syncTimer.ts and
// functions/syncFeedQueue.ts bind to the queue). No imports: registering a trigger must not load the
// Storage SDKs (cold start, docs/performance.md part 4).

/** The queue the timer fans out to and syncFeedQueue is triggered by (before any test namePrefix). */
export const SYNC_QUEUE_NAME = 'sync-feeds';
/** Where the Functions host moves a message after maxDequeueCount failed attempts. */
export const POISON_SUFFIX = '-poison';
/** The queue the attendance timer fans out to and attendanceFeedQueue is triggered by. */
export const ATTENDANCE_QUEUE_NAME = 'attendance-feeds';
