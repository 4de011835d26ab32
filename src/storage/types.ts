// Records that only the storage layer and the sync shell share (the planner's records live in core/state.ts).

export type FeedSource = 'url' | 'upload';

/** Deletion-guard state: set when a run would cancel too much, cleared when an admin confirms. */
export interface FeedGuard {
  held: boolean;
  reason: string | null;
  wouldCancel: number;
  futureMeetings: number;
  at: string;
}

/**
 * Creation-guard state: set when a run held creates (too many new meetings for the feed, one event's
 * runaway recurrence, a lecturer past their monthly budget), cleared when nothing is held any more.
 */
export interface FeedCreationGuard {
  held: boolean;
  /** CreationGuardReason values, in the order the rules run. */
  reasons: string[];
  /** New meetings the run would have created, and how many of them were held. */
  wouldCreate: number;
  heldCreates: number;
  futureMeetings: number;
  /** The events with the most held sessions (a few, for the admin). */
  events: Array<{ uid: string; summary: string; organizerEmail: string; sessions: number; reason: string }>;
  /** Lecturers over their remaining monthly budget (a few). */
  organizers: Array<{ email: string; creates: number; remaining: number }>;
  /** What the next run keeps holding until an admin confirms (core/creationGuard.ts CreationHoldScope). */
  scope: { all: boolean; uids: string[]; organizers: string[] };
  at: string;
}

export type RunOutcome = 'completed' | 'partial' | 'failed' | 'skipped' | 'unchanged';

export interface RunSummary {
  feedId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  created: number;
  updated: number;
  cancelled: number;
  unchanged: number;
  blocked: number;
  failed: number;
  skipped: number;
  held: number;
  graphCalls: number;
  throttled: number;
  outcome: RunOutcome;
  message?: string;
}

export interface FeedRecord {
  /** Validated by validateFeedId: [A-Za-z0-9][A-Za-z0-9_-]{0,62}. */
  id: string;
  source: FeedSource;
  url: string | null;
  defaultOrganizer: string | null;
  timeZone: string | null;
  horizonDays: number | null;
  enabled: boolean;
  /** Conditional-GET validators of the last fetch of a URL feed. */
  httpEtag: string | null;
  httpLastModified: string | null;
  contentHash: string | null;
  /** feedBodies version of the current accepted body. */
  bodyVersion: string | null;
  /** Content hash of the last fully successful run. */
  lastSyncedHash: string | null;
  lastSyncedHorizonDay: string | null;
  nextDueRetryAt: string | null;
  cancellationsConfirmedAt: string | null;
  guard: FeedGuard | null;
  /** An admin confirmed the creations the creation guard holds; used up by the next complete run. Absent = null. */
  creationsConfirmedAt?: string | null;
  /** Absent = null (read back absent when null, as rows from before the creation guard). */
  creationGuard?: FeedCreationGuard | null;
  calendarToken: string;
  /** The timetable's own name (its X-WR-CALNAME), the published calendar's name. Absent = none (the feed id). */
  calendarName?: string | null;
  /** Attendance is collected after each session (opt-in). Absent = false. */
  attendance?: boolean;
  lastRun: RunSummary | null;
  createdAt: string;
  updatedAt: string;
  /** Storage ETag; set on every record read or written, required by update(). */
  etag?: string;
}

/** The queue message that asks for one feed to be synced. */
export interface SyncMessage {
  feedId: string;
  reason: string;
  requestedAt: string;
  /** An admin asked for this run ("sync now"): skip the unchanged-feed fast path. */
  force?: boolean;
}
