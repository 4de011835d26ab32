// Step 1 of a sync: the feed's body (conditional GET for URL feeds, the stored version for uploads),
// the unchanged-feed fast path, and the body parsed into desired sessions. A body that fails as a whole
// changes nothing: the previous version, its hash and its HTTP validators stay current.
import { toDesiredSessions, type DesiredResult, type SkippedSession } from '../core/desired.js';
import { feedContentHash, meetingOptionsKey, toUtcIso } from '../core/identity.js';
import { capList, eventFieldProblem, forDisplay } from '../core/limits.js';
import type { ExpandWarning } from '../core/occurrence.js';
import type { AppConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import type { EventLogger } from '../events.js';
import { incompleteCalendarReason } from '../feeds/completeness.js';
import type { FeedFetcher } from '../feeds/fetch.js';
import { CalendarError, expandCalendar } from '../ical/index.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord } from '../storage/types.js';

/** Sessions one feed may hold within its horizon; more is refused as a whole with a clear error. */
export const MAX_SESSIONS_PER_FEED = 500_000;
/** Sessions that started up to this long ago are still read (a run just after a session starts sees it). */
const WINDOW_GRACE_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;

export interface FeedWindow {
  /** UTC ISO of the run's clock. */
  now: string;
  from: number;
  to: number;
}

/** The expansion window of a feed at `nowMs`: a day back, the feed's (or the default) horizon ahead. */
export function feedWindow(nowMs: number, horizonDays: number): FeedWindow {
  const now = toUtcIso(nowMs);
  const at = Date.parse(now);
  return { now, from: at - WINDOW_GRACE_MS, to: at + horizonDays * DAY_MS };
}

export interface FeedExpansion {
  desired: DesiredResult;
  warnings: ExpandWarning[];
  /** Timed occurrences found (before organizers and duplicates are checked). */
  occurrences: number;
  /** Why the body may not replace a stored timetable (truncated, nothing usable); null when whole. */
  incomplete: string | null;
  /** The calendar's own name (X-WR-CALNAME), for its published calendar; null when none. */
  calendarName: string | null;
}

/** Warnings and skipped sessions logged (or answered) per run or upload at most; the rest are counted. */
export const MAX_LISTED = 50;

/**
 * Parses and expands a body the way every sync does; the upload check and the dry run use it too.
 * An event with a field over its limit (core/limits.ts) is skipped here with a warning naming its UID
 * and line, so a URL feed and an upload behave the same. Throws CalendarError when the body is not a
 * usable calendar at all.
 */
export function expandFeedBody(
  body: string,
  feed: { id: string; timeZone: string | null; defaultOrganizer: string | null },
  window: FeedWindow,
  config: Pick<AppConfig, 'sync' | 'meeting'>,
): FeedExpansion {
  const defaultTimeZone = config.sync.defaultTimeZone;
  const zone = feed.timeZone ?? defaultTimeZone;
  const expanded = expandCalendar(
    body,
    { from: window.from, to: window.to },
    {
      // A whole university's semester in one feed is ~225,000 sessions: allow it, with headroom.
      maxOccurrences: MAX_SESSIONS_PER_FEED,
      checkEvent: eventFieldProblem,
      ...(zone ? { defaultTimeZone: zone } : {}),
    },
  );
  const occurrences = expanded.occurrences.length;
  const incomplete = incompleteCalendarReason(body, expanded.warnings, occurrences);
  // The occurrences are not needed past this point: each is dropped as its session is built (a
  // semester's are ~30 MB).
  const desired = toDesiredSessions(feed.id, expanded.occurrences, {
    defaultOrganizer: feed.defaultOrganizer,
    meetingOptions: meetingOptionsKey(config.meeting),
    consumeOccurrences: true,
  });
  return {
    desired,
    warnings: expanded.warnings,
    occurrences,
    incomplete,
    calendarName: expanded.calendarName ?? null,
  };
}

export interface LoadDeps {
  store: Pick<StateStore, 'feedBodies'>;
  logger: EventLogger;
  config: Pick<AppConfig, 'sync' | 'meeting'>;
  fetchFeed?: FeedFetcher;
}

export type LoadedFeed =
  /** Same content, same horizon day, no retry due: nothing to do. */
  | { status: 'unchanged' }
  /** Nothing usable: the reason is logged as feed.rejected; `feedUpdate` is what may still be kept. */
  | { status: 'rejected'; reason: string; feedUpdate: Partial<FeedRecord> }
  | {
      status: 'loaded';
      desired: DesiredResult;
      window: FeedWindow;
      contentHash: string | null;
      /** Fields of the feed row this run changes (validators, a new body version). */
      feedUpdate: Partial<FeedRecord>;
    };

export async function loadFeed(
  deps: LoadDeps,
  feed: FeedRecord,
  nowMs: number,
  options: { force: boolean },
): Promise<LoadedFeed> {
  const log = deps.logger;
  const feedId = feed.id;
  const reject = (reason: string, feedUpdate: Partial<FeedRecord> = {}): LoadedFeed => {
    log.error('feed.rejected', { feedId, reason });
    return { status: 'rejected', reason, feedUpdate };
  };

  let body: string | null = null;
  let contentHash = feed.contentHash;
  let feedUpdate: Partial<FeedRecord> = {};
  /** A downloaded body that is new: stored as a version only once it has proved whole. */
  let newBody = false;
  if (feed.source === 'url') {
    if (!deps.fetchFeed || !feed.url)
      throw new Error(`feed '${feedId}' is a URL feed but no fetcher is configured`);
    let fetched;
    try {
      fetched = await deps.fetchFeed(feed.url, { etag: feed.httpEtag, lastModified: feed.httpLastModified });
    } catch (error) {
      return reject(`fetch failed: ${errorMessage(error)}`);
    }
    if (fetched.status === 'ok') {
      body = fetched.body;
      contentHash = feedContentHash(body);
      newBody = contentHash !== feed.contentHash;
      // The validators are kept only with an accepted body: a rejected one is fetched (and reported) again.
      feedUpdate = {
        httpEtag: fetched.etag,
        httpLastModified: fetched.lastModified,
        ...(newBody ? { contentHash } : {}),
      };
    }
  }

  const window = feedWindow(nowMs, feed.horizonDays ?? deps.config.sync.horizonDays);
  const retryDue = feed.nextDueRetryAt !== null && feed.nextDueRetryAt <= window.now;
  // An admin's confirmation (held cancels, or held new meetings) is carried out even on an unchanged feed.
  const confirmationPending =
    (feed.cancellationsConfirmedAt !== null && feed.guard?.held === true) ||
    ((feed.creationsConfirmedAt ?? null) !== null && feed.creationGuard?.held === true);
  if (
    !options.force &&
    contentHash !== null &&
    contentHash === feed.lastSyncedHash &&
    window.now.slice(0, 10) === feed.lastSyncedHorizonDay &&
    !retryDue &&
    !confirmationPending
  ) {
    return { status: 'unchanged' };
  }

  body ??= feed.bodyVersion ? await deps.store.feedBodies.get(feedId, feed.bodyVersion) : null;
  if (body === null) return reject('no feed body stored: upload the timetable again', feedUpdate);

  let expansion: FeedExpansion;
  try {
    expansion = expandFeedBody(body, feed, window, deps.config);
  } catch (error) {
    if (!(error instanceof CalendarError)) throw error;
    return reject(error.message);
  }
  if (newBody) {
    // A download cut short or an error page must not replace (and so empty) the timetable.
    if (expansion.incomplete)
      return reject(`the downloaded feed cannot replace the timetable: ${expansion.incomplete}`);
    const { version } = await deps.store.feedBodies.put(feedId, body);
    feedUpdate = { ...feedUpdate, bodyVersion: version };
  }
  // The published calendar's name follows the timetable's own (also for a body stored before it was kept).
  if (expansion.calendarName !== (feed.calendarName ?? null))
    feedUpdate = { ...feedUpdate, calendarName: expansion.calendarName };
  const warnings = capList(expansion.warnings, MAX_LISTED);
  for (const warning of warnings.shown) {
    log.warning('feed.event.skipped', {
      feedId,
      uid: forDisplay(warning.uid),
      line: warning.line,
      reason: forDisplay(warning.reason, 1_000),
    });
  }
  if (warnings.omitted > 0)
    log.warning('feed.event.skipped', {
      feedId,
      uid: '',
      reason: `${warnings.omitted} more warnings about this feed are not logged one by one`,
    });
  reportSkipped(log, feedId, expansion.desired.skipped);
  return { status: 'loaded', desired: expansion.desired, window, contentHash, feedUpdate };
}

function reportSkipped(log: EventLogger, feedId: string, skipped: readonly SkippedSession[]): void {
  // Counts and three examples per reason: a rule repeating every minute skips 170,000 sessions.
  const byReason = new Map<string, { count: number; examples: SkippedSession[] }>();
  for (const s of skipped) {
    const entry = byReason.get(s.reason);
    if (!entry) byReason.set(s.reason, { count: 1, examples: [s] });
    else if (++entry.count <= 3) entry.examples.push(s);
  }
  for (const [reason, { count, examples }] of byReason) {
    // Duplicates and all-day events are expected in real feeds; the others need someone to act.
    const level =
      reason === 'noOrganizer' || reason === 'floating' || reason === 'tooLong' ? 'error' : 'info';
    log[level]('session.skipped', {
      feedId,
      reason,
      count,
      examples: examples.map((s) => ({ uid: forDisplay(s.uid), start: s.start, detail: s.detail })),
    });
  }
}
