// Feed administration shared by the HTTP routes and the CLI: upload/register, list, remove, confirm
// held cancellations, request a sync, dry-run plan. A rejected input changes nothing that is stored.
import { randomBytes } from 'node:crypto';

import type { AppServices } from '../compose.js';
import type { DesiredResult, SkippedSession, SkipReason } from '../core/desired.js';
import { feedContentHash, normalizeEmail } from '../core/identity.js';
import { capList, emailLengthProblem, forDisplay } from '../core/limits.js';
import type { ExpandWarning } from '../core/occurrence.js';
import type { SyncPlan } from '../core/plan.js';
import { decidePolicyGate, effectivePolicySettings } from '../core/policy.js';
import { validateFeedUrl, FeedFetchError } from '../feeds/fetch.js';
import {
  CalendarError,
  firstInvalidUtf8Line,
  joinSplitCharacters,
  resolveDefaultTimeZone,
} from '../ical/index.js';
import { ConflictError, validateFeedId, type FeedRecord } from '../storage/index.js';
import {
  expandFeedBody,
  feedWindow,
  MAX_LISTED,
  type FeedExpansion,
  type FeedWindow,
} from '../sync/loadFeed.js';
import { preparePlan } from '../sync/preparePlan.js';
import { previewCreationGuard, type CreationGuardPreview } from './creationPreview.js';
import { problems } from './problems.js';

export type AdminDeps = Pick<AppServices, 'store' | 'config' | 'now'>;

export interface FeedSettingsInput {
  defaultOrganizer?: string | null;
  timeZone?: string | null;
  horizonDays?: number | null;
  enabled?: boolean;
  /** Collect attendance after each session (opt-in; README: Attendance). */
  attendance?: boolean;
}

/** Bounded lists for an answer: the first MAX_LISTED of each, UIDs and texts cut for display. */
export interface ListedProblems {
  /** Events skipped as unreadable or over a limit, and other warnings about the file. */
  warnings: ExpandWarning[];
  /** Warnings beyond those listed. */
  warningsOmitted: number;
  /** Sessions that get no meeting, with why. */
  skipped: SkippedSession[];
  /** Skipped sessions beyond those listed. */
  skippedOmitted: number;
  /** Every skipped session counted by reason. */
  skippedByReason: Partial<Record<SkipReason, number>>;
}

export interface UploadResult extends ListedProblems {
  feed: FeedRecord;
  created: boolean;
  /** Sessions found in the horizon (timed, not cancelled). */
  sessions: number;
  /** What the creation guard would hold in the next sync, with its warning; null: nothing. */
  creationGuard: CreationGuardPreview | null;
}

/** A warning as an answer or a log line shows it: a UID of 40,000 characters is cut. */
export function warningView(warning: ExpandWarning): ExpandWarning {
  return {
    ...warning,
    uid: forDisplay(warning.uid),
    reason: forDisplay(warning.reason, 1_000),
  };
}

function skippedView(s: SkippedSession): SkippedSession {
  return { ...s, uid: forDisplay(s.uid), summary: forDisplay(s.summary) };
}

/** What an answer says about the warnings and skipped sessions: bounded whatever the feed holds. */
export function listProblems(
  warnings: readonly ExpandWarning[],
  skipped: DesiredResult['skipped'],
): ListedProblems {
  const listedWarnings = capList(warnings, MAX_LISTED);
  const listedSkipped = capList(skipped, MAX_LISTED);
  const skippedByReason: Partial<Record<SkipReason, number>> = {};
  for (const s of skipped) skippedByReason[s.reason] = (skippedByReason[s.reason] ?? 0) + 1;
  return {
    warnings: listedWarnings.shown.map(warningView),
    warningsOmitted: listedWarnings.omitted,
    skipped: listedSkipped.shown.map(skippedView),
    skippedOmitted: listedSkipped.omitted,
    skippedByReason,
  };
}

function requireValidFeedId(id: string): string {
  const problem = validateFeedId(id);
  if (problem) throw problems.badRequest(`feed id '${id.slice(0, 80)}': ${problem}`);
  return id;
}

function isKnownTimeZone(name: string): boolean {
  try {
    return resolveDefaultTimeZone(name) !== null;
  } catch (error) {
    if (error instanceof CalendarError) return false;
    throw error;
  }
}

function validateSettings(input: FeedSettingsInput): FeedSettingsInput {
  if (input.timeZone && !isKnownTimeZone(input.timeZone)) {
    throw problems.badRequest(`timeZone '${input.timeZone}' is not a known IANA or Windows time zone`);
  }
  if (
    input.horizonDays !== undefined &&
    input.horizonDays !== null &&
    !(Number.isInteger(input.horizonDays) && input.horizonDays >= 1 && input.horizonDays <= 400)
  ) {
    throw problems.badRequest('horizonDays must be a whole number from 1 to 400');
  }
  if (input.defaultOrganizer) {
    const tooLong = emailLengthProblem(normalizeEmail(input.defaultOrganizer));
    if (tooLong !== null)
      throw problems.badRequest(`defaultOrganizer '${forDisplay(input.defaultOrganizer)}' ${tooLong}`);
  }
  if (input.defaultOrganizer && !/^[^@\s]+@[^@\s]+$/.test(normalizeEmail(input.defaultOrganizer))) {
    throw problems.badRequest(
      `defaultOrganizer '${forDisplay(input.defaultOrganizer)}' is not an e-mail address`,
    );
  }
  return {
    ...input,
    ...(input.defaultOrganizer ? { defaultOrganizer: normalizeEmail(input.defaultOrganizer) } : {}),
  };
}

/** Decodes and checks an uploaded body before anything is stored. */
export function decodeCalendarBody(body: Uint8Array | string, maxBytes: number, what = 'the upload'): string {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > maxBytes)
    throw problems.tooLarge(`${what} is ${size} bytes; the limit is ${maxBytes} (MAX_FEED_BYTES)`);
  if (size === 0) throw problems.invalidCalendar(`${what} is empty`);
  if (typeof body === 'string') return body;
  if (body.includes(0))
    throw problems.invalidCalendar(
      `${what} is binary data (it contains NUL bytes), not an iCalendar text file`,
    );
  // Folds may split a UTF-8 character (RFC 5545 §3.1): unfolded as octets before decoding.
  const joined = joinSplitCharacters(body);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(joined);
  } catch {
    throw problems.invalidCalendar(
      `${what} is not valid UTF-8 text (line ${firstInvalidUtf8Line(joined) ?? '?'}; RFC 5545 §3.1.4 requires UTF-8)`,
    );
  }
}

/** Expands a body the way a sync does (same window, same limits), to validate it and report what it holds. */
export function inspectCalendar(
  deps: AdminDeps,
  text: string,
  settings: FeedSettingsInput,
  feedId: string,
): FeedExpansion & { window: FeedWindow } {
  const window = feedWindow(deps.now().getTime(), settings.horizonDays ?? deps.config.sync.horizonDays);
  if (!/^BEGIN:VEVENT\b/im.test(text) && /^BEGIN:VCALENDAR\b/im.test(text)) {
    throw problems.invalidCalendar('the calendar has no VEVENT: a timetable needs at least one event');
  }
  try {
    const feed = {
      id: feedId,
      timeZone: settings.timeZone ?? null,
      defaultOrganizer: settings.defaultOrganizer ?? null,
    };
    return { ...expandFeedBody(text, feed, window, deps.config), window };
  } catch (error) {
    if (error instanceof CalendarError) throw problems.invalidCalendar(error.message, { code: error.code });
    throw error;
  }
}

function newFeedRecord(id: string, now: string, fields: Partial<FeedRecord>): FeedRecord {
  return {
    id,
    source: 'upload',
    url: null,
    defaultOrganizer: null,
    timeZone: null,
    horizonDays: null,
    enabled: true,
    httpEtag: null,
    httpLastModified: null,
    contentHash: null,
    bodyVersion: null,
    lastSyncedHash: null,
    lastSyncedHorizonDay: null,
    nextDueRetryAt: null,
    cancellationsConfirmedAt: null,
    guard: null,
    calendarToken: randomBytes(24).toString('base64url'),
    lastRun: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

/** Validates an uploaded timetable, then stores it as a new version of the feed (creating the feed if new). */
export async function uploadFeed(
  deps: AdminDeps,
  feedId: string,
  body: Uint8Array | string,
  settingsInput: FeedSettingsInput = {},
): Promise<UploadResult> {
  requireValidFeedId(feedId);
  const settings = validateSettings(settingsInput);
  const text = decodeCalendarBody(body, deps.config.sync.maxFeedBytes);
  const existing = await deps.store.feeds.get(feedId);
  const effective = { ...pickSettings(existing), ...settings };
  // Everything that can refuse the upload, and the whole answer, comes before the first write: a
  // request that fails stores nothing (the sessions themselves are garbage before the writes).
  const { expansion, ...checked } = checkUpload(deps, text, effective, feedId);
  // What the creation guard would hold in the next sync, from the same sessions (not parsed twice).
  const creationGuard = await previewCreationGuard(deps, feedId, existing, text, expansion);
  // Valid: only now is anything written. The blob version first, then the feed row points at it. If
  // the row write fails, the new version is never pointed at, and nothing reads a version that the
  // feed row does not name (syncs, the dry run and the published calendar go by bodyVersion).
  const { version } = await deps.store.feedBodies.put(feedId, text);
  const now = deps.now().toISOString();
  const fields: Partial<FeedRecord> = {
    source: 'upload',
    url: null,
    contentHash: feedContentHash(text),
    bodyVersion: version,
    calendarName: expansion.calendarName,
    // A new version is judged afresh (its answer told the admin): an earlier creation hold is for the old one.
    creationGuard: null,
    creationsConfirmedAt: null,
    updatedAt: now,
    ...settings,
  };
  let feed: FeedRecord;
  if (existing) {
    feed = await deps.store.feeds.update({ ...existing, ...fields, httpEtag: null, httpLastModified: null });
  } else {
    try {
      feed = await deps.store.feeds.create(newFeedRecord(feedId, now, fields));
    } catch (error) {
      if (error instanceof ConflictError)
        throw problems.conflict(
          `feed '${feedId}' was created by someone else at the same time; upload again`,
        );
      throw error;
    }
  }
  return { feed, created: !existing, creationGuard, ...checked };
}

/** The upload's calendar checked as a sync would read it; what the answer says about it (bounded). */
function checkUpload(
  deps: AdminDeps,
  text: string,
  settings: FeedSettingsInput,
  feedId: string,
): ListedProblems & {
  sessions: number;
  expansion: { desired: DesiredResult; window: FeedWindow; calendarName: string | null };
} {
  const { desired, warnings, incomplete, window, calendarName } = inspectCalendar(
    deps,
    text,
    settings,
    feedId,
  );
  if (incomplete)
    throw problems.invalidCalendar(`the upload cannot replace the timetable: ${incomplete}`, {
      warnings: capList(warnings, MAX_LISTED).shown.map(warningView),
    });
  let sessions = 0;
  for (const s of desired.sessions) if (!s.cancelled) sessions++;
  return {
    sessions,
    ...listProblems(warnings, desired.skipped),
    expansion: { desired, window, calendarName },
  };
}

function pickSettings(feed: FeedRecord | null): FeedSettingsInput {
  if (!feed) return {};
  return {
    defaultOrganizer: feed.defaultOrganizer,
    timeZone: feed.timeZone,
    horizonDays: feed.horizonDays,
    enabled: feed.enabled,
    attendance: feed.attendance === true,
  };
}

/** Registers (or re-points) a URL feed. The URL is checked now (scheme, literal addresses) and at every fetch (DNS). */
export async function registerFeedUrl(
  deps: AdminDeps,
  feedId: string,
  url: string,
  settingsInput: FeedSettingsInput = {},
): Promise<{ feed: FeedRecord; created: boolean }> {
  requireValidFeedId(feedId);
  const settings = validateSettings(settingsInput);
  try {
    validateFeedUrl(url, { allowHttp: deps.config.sync.allowHttpFeeds });
  } catch (error) {
    if (error instanceof FeedFetchError)
      throw problems.badRequest(`url: ${error.message}`, { code: error.code });
    throw error;
  }
  const existing = await deps.store.feeds.get(feedId);
  const now = deps.now().toISOString();
  if (existing) {
    const changedUrl = existing.url !== url;
    const feed = await deps.store.feeds.update({
      ...existing,
      ...settings,
      source: 'url',
      url,
      updatedAt: now,
      // A new URL must be fetched in full; the old body stays until the new one is accepted.
      ...(changedUrl ? { httpEtag: null, httpLastModified: null, lastSyncedHash: null } : {}),
    });
    return { feed, created: false };
  }
  const feed = await deps.store.feeds.create(newFeedRecord(feedId, now, { ...settings, source: 'url', url }));
  return { feed, created: true };
}

export async function updateFeedSettings(
  deps: AdminDeps,
  feedId: string,
  settingsInput: FeedSettingsInput,
): Promise<FeedRecord> {
  const settings = validateSettings(settingsInput);
  const feed = await requireFeed(deps, feedId);
  // Settings change what the plan looks like: force the next run past the unchanged-feed fast path.
  return deps.store.feeds.update({
    ...feed,
    ...settings,
    lastSyncedHash: null,
    updatedAt: deps.now().toISOString(),
  });
}

export async function requireFeed(deps: Pick<AdminDeps, 'store'>, feedId: string): Promise<FeedRecord> {
  requireValidFeedId(feedId);
  const feed = await deps.store.feeds.get(feedId);
  if (!feed) throw problems.notFound(`feed '${feedId}' is not registered`);
  return feed;
}

export async function confirmCancellations(deps: AdminDeps, feedId: string): Promise<FeedRecord> {
  const feed = await requireFeed(deps, feedId);
  if (!feed.guard?.held)
    throw problems.conflict(`feed '${feedId}' has no cancellations held by the deletion guard`);
  return deps.store.feeds.update({
    ...feed,
    cancellationsConfirmedAt: deps.now().toISOString(),
    updatedAt: deps.now().toISOString(),
  });
}

/** Lets the creation guard's held new meetings go ahead; the next sync runs even if the feed is unchanged. */
export async function confirmCreations(deps: AdminDeps, feedId: string): Promise<FeedRecord> {
  const feed = await requireFeed(deps, feedId);
  if (!feed.creationGuard?.held)
    throw problems.conflict(`feed '${feedId}' has no new meetings held by the creation guard`);
  return deps.store.feeds.update({
    ...feed,
    creationsConfirmedAt: deps.now().toISOString(),
    lastSyncedHash: null,
    updatedAt: deps.now().toISOString(),
  });
}

/** Enqueues a sync now; an admin's request (force) runs even when the feed is unchanged. */
export async function requestSync(
  deps: AdminDeps,
  feedId: string,
  reason: string,
  options: { force?: boolean } = { force: true },
): Promise<void> {
  await requireFeed(deps, feedId);
  await deps.store.syncQueue.enqueue({
    feedId,
    reason,
    requestedAt: deps.now().toISOString(),
    ...(options.force ? { force: true } : {}),
  });
}

export interface DryRun extends ListedProblems {
  plan: SyncPlan;
  /** Organizers whose operations the policy gate would hold now, with why. */
  blockedOrganizers: Array<{ email: string; objectId: string | null; reason: string }>;
}

/** What a sync of this feed (or of this calendar text under the feed's id) would do now; changes nothing. */
/**
 * What a sync would do, changing nothing: for the stored feed, or with `text` for that calendar as the
 * feed's next upload (`settings` as that upload would give them; a feed not registered yet is planned
 * from nothing).
 */
export async function dryRunPlan(
  deps: AdminDeps,
  feedId: string,
  text?: string,
  settings: FeedSettingsInput = {},
): Promise<DryRun> {
  const feed =
    text === undefined
      ? await requireFeed(deps, feedId)
      : await deps.store.feeds.get(requireValidFeedId(feedId));
  const body = text ?? (feed?.bodyVersion ? await deps.store.feedBodies.get(feedId, feed.bodyVersion) : null);
  if (body === null)
    throw problems.conflict(
      `feed '${feedId}' has no accepted body yet (a URL feed is fetched on its first sync)`,
    );
  const effective = { ...pickSettings(feed), ...validateSettings(settings) };
  const { desired, warnings, window } = inspectCalendar(deps, body, effective, feedId);
  const { plan } = await preparePlan(deps, feedId, feed, desired, window);
  const policies = new Map((await deps.store.policies.list()).map((p) => [p.objectId, p]));
  const emails = [
    ...new Set(plan.operations.flatMap((op) => (op.kind === 'cancel' ? [] : [op.desired.organizerEmail]))),
  ];
  const blockedOrganizers: DryRun['blockedOrganizers'] = [];
  for (const email of emails) {
    const organizer = await deps.store.organizers.get(email);
    if (organizer?.notFound) {
      blockedOrganizers.push({ email, objectId: null, reason: 'not found in the directory (cached answer)' });
      continue;
    }
    if (!organizer?.objectId) continue;
    const decision = decidePolicyGate(
      policies.get(organizer.objectId) ?? null,
      window.now,
      effectivePolicySettings(deps.config.policy, policies),
    );
    if (!decision.allow)
      blockedOrganizers.push({ email, objectId: organizer.objectId, reason: decision.reason });
  }
  return { plan, ...listProblems(warnings, desired.skipped), blockedOrganizers };
}
