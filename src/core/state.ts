// What the daemon remembers between runs (persisted by src/storage, planned over by src/core).
// Graph has no list API for onlineMeetings: these records are the only memory of what was created.

export type MeetingState =
  | 'creating' // row written with its externalId before createOrGet; meeting may or may not exist yet
  | 'active' // meeting exists, matches contentHash
  | 'blocked' // cannot be created/updated until someone acts (policy missing, organizer unknown)
  | 'failed' // last attempt failed; retried at nextAttemptAt
  | 'cancelling' // decided to cancel; DELETE/lock not confirmed yet
  | 'cancelled'; // meeting deleted or locked; kept so a session that comes back gets a new generation

export interface MeetingError {
  /** GraphErrorKind or an internal code such as 'organizerUnresolved'. */
  code: string;
  message: string;
  /** Graph's request-id for support tickets, when the failure came from Graph. */
  requestId?: string;
  at: string;
  /**
   * An earlier create of this row may have committed without an answer (a lost response), so a meeting
   * may exist although no id is stored: kept through later failures until createOrGet settles it.
   */
  meetingMayExist?: boolean;
}

export interface MeetingRecord {
  feedId: string;
  /** occurrenceKey(): stable identity of the session (feed, UID, original start). */
  key: string;
  uid: string;
  recurrenceId: string | null;
  organizerEmail: string;
  /** Entra object id of the organizer the meeting was (or is being) created under. */
  organizerId: string | null;
  /** createOrGet idempotency key; changes only when a cancelled session is created again. */
  externalId: string;
  /** Incremented each time the session's meeting is cancelled, so a revived session gets a new meeting. */
  generation: number;
  meetingId: string | null;
  joinWebUrl: string | null;
  subject: string;
  /** UTC ISO instants. */
  start: string;
  end: string;
  /** The session's room from the feed, for published calendars (absent on rows written before it was kept). */
  location?: string | null;
  /** The session's DESCRIPTION from the feed, for published calendars only (absent on older rows). */
  description?: string | null;
  /** contentHash() of what the meeting should look like (subject, start, end, organizer). */
  contentHash: string;
  state: MeetingState;
  attempts: number;
  /** UTC ISO; when a failed/blocked operation may be tried again. */
  nextAttemptAt: string | null;
  lastError: MeetingError | null;
  /** Storage ETag for conditional updates; absent on records not yet stored. */
  etag?: string;
}

export type PolicyStateName = 'unknown' | 'granted' | 'propagating' | 'active' | 'missing';

export interface PolicyRecord {
  /** Organizer object id, or 'global' for the tenant-wide grant. */
  objectId: string;
  state: PolicyStateName;
  /** UTC ISO of the Grant-CsApplicationAccessPolicy an admin recorded (or the global grant time). */
  grantedAt: string | null;
  verifiedAt: string | null;
  firstDeniedAt: string | null;
  lastDeniedAt: string | null;
  lastProbeAt: string | null;
  etag?: string;
}

export interface OrganizerRecord {
  /** Normalised (lower-case, trimmed) e-mail. */
  email: string;
  objectId: string | null;
  displayName: string | null;
  /** True when the directory said there is no such user. */
  notFound: boolean;
  /** 'Member' or 'Guest' as the directory said; null when unknown (rows cached before it was kept). */
  userType: string | null;
  /** false for a disabled account; null when unknown. */
  accountEnabled: boolean | null;
  resolvedAt: string;
  /** UTC ISO after which the cache entry must be refreshed. */
  expiresAt: string;
  etag?: string;
}

/** Graph refused an organizer for a reason other than the access policy (guest, licence, disabled, deleted). */
export interface OrganizerRefusal {
  /** HTTP status Graph answered (403, 404), or null when the directory look-up gave the reason. */
  status: number | null;
  /** Graph's error code, when it gave one. */
  code: string | null;
  requestId: string | null;
  /** What was refused and what to check, for the alert and the blocked rows. */
  message: string;
  firstAt: string;
  lastAt: string;
  /** Refusals in a row; the back-off grows with it. */
  attempts: number;
  /** UTC ISO: the organizer is probed again (with one operation) at this time. */
  retryAt: string;
}

/**
 * What the daemon knows of one organizer across feeds (by Entra object id): a standing refusal, and the
 * meetings this app created for them in the current month (Graph allows 2,000 per user per month).
 */
export interface OrganizerStatusRecord {
  objectId: string;
  refusal: OrganizerRefusal | null;
  /** UTC month 'YYYY-MM' that `created` counts; null before the first create. */
  month: string | null;
  /** Meetings this app created for this organizer in `month` (confirmed at the end of each run). */
  created: number;
  /** Creations runs in progress may still make (each run's own, until it ends or the lease expires). */
  leases: CreationLease[];
  etag?: string;
}

/** A run's claim on part of an organizer's monthly budget; a crashed run's claim lapses at `expiresAt`. */
export interface CreationLease {
  runId: string;
  month: string;
  count: number;
  expiresAt: string;
}
