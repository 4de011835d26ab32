// The imperative shell around the pure planner: one feed sync = read → plan → apply → record.
// Idempotent and resumable: every meeting row is written as `creating` with its createOrGet key before
// Graph is called, so a crash anywhere is repeated safely by the next run.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { toDesiredSessions, type DesiredSession, type SkippedSession } from '../core/desired.js';
import { externalIdFor, toUtcIso } from '../core/identity.js';
import { planSync, type PlannedOperation, type SyncPlan } from '../core/plan.js';
import { nextAttemptAt } from '../core/backoff.js';
import {
  decidePolicyGate,
  grantCommand,
  recordPolicyDenied,
  recordPolicyProbe,
  recordPolicySuccess,
  type PolicySettings,
} from '../core/policy.js';
import type { ExpandResult } from '../core/occurrence.js';
import type { MeetingError, MeetingRecord, PolicyRecord } from '../core/state.js';
import type { AppConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { EventLogger } from '../events.js';
import { classifyGraphError, type GraphError } from '../graph/errors.js';
import type { GraphAccess } from '../graph/client.js';
import type { OnlineMeeting } from '../graph/types.js';
import { incompleteCalendarReason } from '../feeds/completeness.js';
import { expandCalendar, CalendarError } from '../ical/index.js';
import { ConcurrencyError } from '../storage/errors.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord, RunSummary } from '../storage/types.js';
import type { Limiter } from './limiter.js';
import { createOrganizerResolver, type OrganizerResolution } from './organizers.js';

/** Fetches a URL feed with conditional GET; supplied by src/feeds (safe fetch). */
export type FeedFetcher = (
  url: string,
  validators: { etag: string | null; lastModified: string | null },
) => Promise<{ status: 'notModified' } | { status: 'ok'; body: string; etag: string | null; lastModified: string | null }>;

export interface SyncDeps {
  store: StateStore;
  graph: Pick<GraphAccess, 'users' | 'meetings' | 'stats'>;
  limiter: Limiter;
  logger: EventLogger;
  config: Pick<AppConfig, 'sync' | 'policy'>;
  /** The sync's clock: sessions before it are past. */
  now: () => Date;
  fetchFeed?: FeedFetcher;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Waits within one run before a propagating organizer is tried again (ms). A grant that lands
   * during these waits gets its meetings in this run; otherwise the next run retries at the policy
   * gate's back-off time.
   */
  policyRetryWaitsMs?: readonly number[];
}

export interface SyncOptions {
  /** Skip the unchanged-feed fast path (admin "sync now"). */
  force?: boolean;
}

const DEFAULT_POLICY_WAITS_MS = [2_000, 4_000, 8_000];
/** Sessions one feed may hold within its horizon; more is refused as a whole with a clear error. */
export const MAX_SESSIONS_PER_FEED = 500_000;
/** A run ends this long before its budget so that state and the summary are always written. */
const BUDGET_RESERVE_MS = 5_000;

export class FeedNotFoundError extends AppError {
  override name = 'FeedNotFoundError';
  constructor(readonly feedId: string) {
    super('feedNotFound', `feed '${feedId}' is not registered`, { isUserError: true });
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type OrganizerLane = {
  email: string;
  resolution: OrganizerResolution | null;
  ops: PlannedOperation[];
};

interface RunCounters {
  created: number;
  updated: number;
  cancelled: number;
  blocked: number;
  failed: number;
  raced: number;
}

/** Whether Graph may already hold a meeting for this row even though we never stored its id. */
function mayHaveMeeting(record: MeetingRecord): boolean {
  if (record.meetingId) return true;
  if (record.state === 'creating') return true;
  // A create that failed in transit (5xx, reset, throttled after retries) may have committed.
  return record.state === 'failed' && ['transient', 'throttled', 'unknown'].includes(record.lastError?.code ?? 'unknown');
}

/** What a meeting row records of its session: the fields a plan compares and a calendar publishes. */
function meetingContent(desired: DesiredSession): Pick<MeetingRecord, 'subject' | 'start' | 'end' | 'location' | 'contentHash'> {
  return { subject: desired.subject, start: desired.start, end: desired.end, location: desired.location, contentHash: desired.contentHash };
}

function sameInstant(a: string, b: string): boolean {
  return Date.parse(a) === Date.parse(b);
}

export async function syncFeed(deps: SyncDeps, feedId: string, options: SyncOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const startedAt = deps.now();
  const statsBefore = deps.graph.stats();
  const { sync: settings } = deps.config;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const budgetEndsAt = started + settings.runBudgetSeconds * 1000 - BUDGET_RESERVE_MS;
  const log = deps.logger;

  const feed = await deps.store.feeds.get(feedId);
  if (!feed) throw new FeedNotFoundError(feedId);

  const summarize = (partial: Partial<RunSummary> & Pick<RunSummary, 'outcome'>): RunSummary => {
    const stats = deps.graph.stats();
    return {
      feedId,
      startedAt: startedAt.toISOString(),
      finishedAt: deps.now().toISOString(),
      durationMs: Math.round(performance.now() - started),
      created: 0,
      updated: 0,
      cancelled: 0,
      unchanged: 0,
      blocked: 0,
      failed: 0,
      skipped: 0,
      held: 0,
      graphCalls: stats.requests - statsBefore.requests,
      throttled: stats.throttled - statsBefore.throttled,
      ...partial,
    };
  };

  if (!feed.enabled) {
    const summary = summarize({ outcome: 'skipped', message: 'feed is disabled' });
    log.info('sync.run.skipped', { feedId, reason: 'disabled' });
    return summary;
  }

  // 1. The feed body (conditional GET for URL feeds; the stored version for uploads).
  let body: string | null = null;
  let contentHash = feed.contentHash;
  let feedUpdate: Partial<FeedRecord> = {};
  /** A downloaded body that is new: stored as a version only once it has proved whole (step 3). */
  let newBody = false;
  if (feed.source === 'url') {
    if (!deps.fetchFeed || !feed.url) throw new Error(`feed '${feedId}' is a URL feed but no fetcher is configured`);
    let fetched;
    try {
      fetched = await deps.fetchFeed(feed.url, { etag: feed.httpEtag, lastModified: feed.httpLastModified });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.error('feed.rejected', { feedId, reason: `fetch failed: ${reason}` });
      return recordRun(deps, feed, summarize({ outcome: 'failed', message: `fetch failed: ${reason}` }), {});
    }
    if (fetched.status === 'ok') {
      body = fetched.body;
      contentHash = sha256(body);
      newBody = contentHash !== feed.contentHash;
      // The validators are kept only with an accepted body: a rejected one is fetched (and reported) again.
      if (!newBody) feedUpdate = { httpEtag: fetched.etag, httpLastModified: fetched.lastModified };
      else feedUpdate = { httpEtag: fetched.etag, httpLastModified: fetched.lastModified, contentHash };
    }
  }

  // 2. Unchanged-feed fast path: same content, same horizon day, no retry due → nothing to do.
  const nowIso = toUtcIso(deps.now().getTime());
  const horizonDay = nowIso.slice(0, 10);
  const retryDue = feed.nextDueRetryAt !== null && feed.nextDueRetryAt <= nowIso;
  const confirmationPending = feed.cancellationsConfirmedAt !== null && feed.guard?.held === true;
  if (
    !options.force &&
    contentHash !== null &&
    contentHash === feed.lastSyncedHash &&
    horizonDay === feed.lastSyncedHorizonDay &&
    !retryDue &&
    !confirmationPending
  ) {
    log.debug('sync.run.unchanged', { feedId });
    const previous = feed.lastRun;
    return summarize({
      outcome: 'skipped',
      message: 'feed unchanged since the last successful run',
      unchanged: previous ? previous.created + previous.updated + previous.unchanged : 0,
      blocked: previous?.blocked ?? 0,
      failed: previous?.failed ?? 0,
      skipped: previous?.skipped ?? 0,
      held: previous?.held ?? 0,
    });
  }

  body ??= feed.bodyVersion ? await deps.store.feedBodies.get(feedId, feed.bodyVersion) : null;
  if (body === null) {
    log.error('feed.rejected', { feedId, reason: 'no feed body stored: upload the timetable again' });
    return recordRun(deps, feed, summarize({ outcome: 'failed', message: 'no feed body stored' }), feedUpdate);
  }

  // 3. Parse and expand within the horizon. A file that fails as a whole changes nothing.
  const rejectBody = (reason: string): Promise<RunSummary> => {
    log.error('feed.rejected', { feedId, reason });
    // Only the run is recorded: the previous body, its hash and validators stay current.
    return recordRun(deps, feed, summarize({ outcome: 'failed', message: reason }), {});
  };
  const nowMs = Date.parse(nowIso);
  const windowStart = nowMs - 24 * 3_600_000;
  const windowEnd = nowMs + (feed.horizonDays ?? settings.horizonDays) * 86_400_000;
  let expanded: ExpandResult | null;
  try {
    expanded = expandCalendar(body, { from: windowStart, to: windowEnd }, {
      // A whole university's semester in one feed is ~225,000 sessions: allow it, with headroom.
      maxOccurrences: MAX_SESSIONS_PER_FEED,
      ...((feed.timeZone ?? settings.defaultTimeZone) ? { defaultTimeZone: (feed.timeZone ?? settings.defaultTimeZone) as string } : {}),
    });
  } catch (error) {
    if (!(error instanceof CalendarError)) throw error;
    return rejectBody(error.message);
  }
  if (newBody) {
    // A download cut short or an error page must not replace (and so empty) the timetable.
    const incomplete = incompleteCalendarReason(body, expanded.warnings, expanded.occurrences.length);
    if (incomplete) return rejectBody(`the downloaded feed cannot replace the timetable: ${incomplete}`);
    const { version } = await deps.store.feedBodies.put(feedId, body);
    feedUpdate = { ...feedUpdate, bodyVersion: version };
  }
  for (const warning of expanded.warnings.slice(0, 50)) {
    log.warning('feed.event.skipped', { feedId, uid: warning.uid, line: warning.line, reason: warning.reason });
  }

  const { sessions, skipped } = toDesiredSessions(feedId, expanded.occurrences, { defaultOrganizer: feed.defaultOrganizer });
  // The occurrences are not needed past this point; a semester-sized feed frees tens of MB before the rows load.
  expanded = null;
  reportSkipped(log, feedId, skipped);

  // 4–5. Stored rows (one partition query) and the plan.
  const records = await deps.store.meetings.listByFeed(feedId);
  const plan = planSync({
    desired: sessions,
    records: await releasePolicyHolds(deps, records, nowIso),
    now: nowIso,
    windowEnd: toUtcIso(windowEnd),
    skippedKeys: skipped.map((s) => s.key),
    guardHeldBefore: feed.guard?.held === true,
    settings: {
      maxCancelShare: settings.maxCancelShare,
      guardMinCancels: settings.guardMinCancels,
      cancellationsConfirmed: feed.cancellationsConfirmedAt !== null,
    },
  });
  log.info('sync.planned', { feedId, ...plan.counts, sessions: sessions.length, skipped: skipped.length });
  if (plan.guard.held) {
    log.warning('guard.cancellations.held', {
      feedId,
      reason: plan.guard.reason,
      wouldCancel: plan.guard.wouldCancel,
      futureMeetings: plan.guard.futureMeetings,
      action: `review the feed, then confirm: timetable-sync feeds confirm ${feedId} (or POST /api/feeds/${feedId}/confirm-cancellations)`,
    });
  }

  // 6–8. Apply.
  const applier = new PlanApplier(deps, feed, nowIso, budgetEndsAt, sleep);
  await applier.apply(plan);
  await applier.refreshLocations(plan.unchanged, sessions);

  // 9. Record state and the run.
  const latest = applier.latestRecords(records);
  const pendingRetries = latest
    .filter((r) => r.state !== 'cancelled' && r.nextAttemptAt !== null)
    .map((r) => r.nextAttemptAt as string)
    .sort();
  // A row lost to a concurrent run is that run's to finish; if it dies, only a full re-plan notices.
  const complete = !applier.stoppedEarly && !applier.aborted && applier.counters.raced === 0;
  const counts = applier.counters;
  const waitingBlocked = plan.waiting.filter((r) => r.state === 'blocked').length;
  const waitingFailed = plan.waiting.length - waitingBlocked;
  const summary = summarize({
    outcome: applier.aborted ? 'failed' : complete ? 'completed' : 'partial',
    created: counts.created,
    updated: counts.updated,
    cancelled: counts.cancelled,
    unchanged: plan.unchanged.length,
    blocked: counts.blocked + waitingBlocked,
    failed: counts.failed + waitingFailed,
    skipped: skipped.length,
    held: plan.held.length,
    ...(applier.abortReason ? { message: applier.abortReason } : !complete ? { message: 'run budget reached; the rest continues next run' } : {}),
  });
  const guardUpdate: Partial<FeedRecord> = plan.guard.held
    ? { guard: { held: true, reason: plan.guard.reason, wouldCancel: plan.guard.wouldCancel, futureMeetings: plan.guard.futureMeetings, at: nowIso } }
    : { guard: null, ...(plan.guard.overridden || feed.cancellationsConfirmedAt ? { cancellationsConfirmedAt: null } : {}) };
  return recordRun(deps, feed, summary, {
    ...feedUpdate,
    ...guardUpdate,
    ...(complete ? { lastSyncedHash: contentHash, lastSyncedHorizonDay: horizonDay } : { lastSyncedHash: null }),
    nextDueRetryAt: pendingRetries[0] ?? null,
  });
}

/**
 * The policy gate's settings: configuration plus the grants recorded in the policies table (a global
 * grant recorded through the API counts like POLICY_GLOBAL_GRANTED_AT; the later one wins).
 */
export function effectivePolicySettings(policy: AppConfig['policy'], records: ReadonlyMap<string, PolicyRecord | null>): PolicySettings {
  const recorded = records.get('global')?.grantedAt ?? null;
  const configured = policy.globalGrantedAt;
  return {
    propagationMinutes: policy.propagationMinutes,
    probeHours: policy.probeHours,
    globalGrantedAt: recorded && (!configured || recorded > configured) ? recorded : configured,
    policyName: policy.policyName,
  };
}

/**
 * Rows blocked by the policy gate wait for their nextAttemptAt (the probe interval, hours for a missing
 * policy). A grant recorded since then (or any other change that makes the gate allow the organizer now)
 * releases them at once, as the policy.missing message promises: the planner sees them as due, and the
 * gate still sends one probe first. Only the plan's view changes; the stored rows keep their ETags.
 */
async function releasePolicyHolds(deps: SyncDeps, records: MeetingRecord[], nowIso: string): Promise<MeetingRecord[]> {
  const isHeldByPolicy = (r: MeetingRecord) =>
    r.state === 'blocked' &&
    r.nextAttemptAt !== null &&
    r.nextAttemptAt > nowIso &&
    (r.lastError?.code === 'policyMissing' || r.lastError?.code === 'policyPropagating');
  if (!records.some(isHeldByPolicy)) return records;
  const policies = new Map((await deps.store.policies.list()).map((p) => [p.objectId, p]));
  const settings = effectivePolicySettings(deps.config.policy, policies);
  const organizerIds = new Map<string, string | null>();
  const released: MeetingRecord[] = [];
  for (const record of records) {
    if (!isHeldByPolicy(record)) {
      released.push(record);
      continue;
    }
    let objectId = record.organizerId;
    if (!objectId) {
      if (!organizerIds.has(record.organizerEmail)) organizerIds.set(record.organizerEmail, (await deps.store.organizers.get(record.organizerEmail))?.objectId ?? null);
      objectId = organizerIds.get(record.organizerEmail) ?? null;
    }
    const allowed = objectId !== null && decidePolicyGate(policies.get(objectId) ?? null, nowIso, settings).allow;
    released.push(allowed ? { ...record, nextAttemptAt: nowIso } : record);
  }
  return released;
}

function reportSkipped(log: EventLogger, feedId: string, skipped: readonly SkippedSession[]): void {
  const byReason = new Map<string, SkippedSession[]>();
  for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s]);
  for (const [reason, list] of byReason) {
    // Duplicates and all-day events are expected in real feeds; a session without organizer needs action.
    const level = reason === 'noOrganizer' || reason === 'floating' ? 'error' : 'info';
    log[level]('session.skipped', {
      feedId,
      reason,
      count: list.length,
      examples: list.slice(0, 3).map((s) => ({ uid: s.uid, start: s.start, detail: s.detail })),
    });
  }
}

/** Writes the run summary and the feed's run fields (ETag-conditional, re-read once on a conflict). */
async function recordRun(deps: SyncDeps, feed: FeedRecord, summary: RunSummary, update: Partial<FeedRecord>): Promise<RunSummary> {
  await deps.store.runs.add(summary);
  let current: FeedRecord | null = feed;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    // An admin may have uploaded a new version meanwhile: keep their fields, only add the run's.
    const next: FeedRecord = { ...current, ...update, lastRun: summary, updatedAt: summary.finishedAt };
    if (update.lastSyncedHash !== undefined && current.contentHash !== feed.contentHash && current.contentHash !== update.contentHash) {
      next.lastSyncedHash = null;
    }
    try {
      await deps.store.feeds.update(next);
      break;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      current = await deps.store.feeds.get(feed.id);
    }
  }
  const level = summary.outcome === 'failed' ? 'error' : summary.failed > 0 || summary.outcome === 'partial' ? 'warning' : 'info';
  deps.logger[level]('sync.run.completed', { ...summary });
  return summary;
}

/** Applies one plan: organizer lanes in parallel, bounded by the shared limiter. */
class PlanApplier {
  readonly counters: RunCounters = { created: 0, updated: 0, cancelled: 0, blocked: 0, failed: 0, raced: 0 };
  stoppedEarly = false;
  aborted = false;
  abortReason: string | null = null;
  private readonly written = new Map<string, MeetingRecord>();
  private readonly policies = new Map<string, PolicyRecord | null>();
  /** Why each organizer was last refused in this run (the policy gate's message, with what to do). */
  private readonly denials = new Map<string, string>();
  /** Organizers whose policy.missing alert this run has already logged. */
  private readonly missingReported = new Set<string>();
  private policySettings: PolicySettings;
  private readonly resolver;
  private readonly log: EventLogger;

  constructor(
    private readonly deps: SyncDeps,
    private readonly feed: FeedRecord,
    private readonly nowIso: string,
    private readonly budgetEndsAt: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.log = deps.logger;
    this.resolver = createOrganizerResolver({
      store: deps.store,
      users: deps.graph.users,
      now: deps.now,
      cacheHours: deps.config.sync.organizerCacheHours,
    });
    this.policySettings = effectivePolicySettings(deps.config.policy, this.policies);
  }

  /**
   * A room change is not a meeting change (Teams meetings have no room): rows whose session only moved
   * room get the new LOCATION for the published calendar, in batches, without a Graph call.
   */
  async refreshLocations(unchanged: readonly MeetingRecord[], sessions: readonly DesiredSession[]): Promise<void> {
    if (unchanged.length === 0) return;
    const locationByKey = new Map(sessions.map((s) => [s.key, s.location]));
    const moved = unchanged.flatMap((record) => {
      const location = locationByKey.get(record.key);
      return location !== undefined && (record.location ?? '') !== location ? [{ ...record, location }] : [];
    });
    if (moved.length === 0) return;
    try {
      for (const record of await this.deps.store.meetings.putMany(moved)) this.written.set(record.key, record);
    } catch (error) {
      this.noteWriteFailure('locations', error);
    }
  }

  latestRecords(initial: readonly MeetingRecord[]): MeetingRecord[] {
    const byKey = new Map(initial.map((r) => [r.key, r]));
    for (const [key, record] of this.written) byKey.set(key, record);
    return [...byKey.values()];
  }

  private now(): string {
    return toUtcIso(this.deps.now().getTime());
  }

  private outOfTime(): boolean {
    return performance.now() > this.budgetEndsAt;
  }

  async apply(plan: SyncPlan): Promise<void> {
    if (plan.operations.length === 0) return;
    await this.loadPolicies();
    const lanes = new Map<string, OrganizerLane>();
    for (const op of plan.operations) {
      // Cancels run under the organizer who owns the meeting; creates/updates under the desired one.
      const email = op.kind === 'cancel' ? op.record.organizerEmail : op.desired.organizerEmail;
      const lane = lanes.get(email) ?? { email, resolution: null, ops: [] };
      lane.ops.push(op);
      lanes.set(email, lane);
    }
    await Promise.all([...lanes.values()].map((lane) => this.runLane(lane)));
  }

  private async loadPolicies(): Promise<void> {
    for (const record of await this.deps.store.policies.list()) this.policies.set(record.objectId, record);
    this.policySettings = effectivePolicySettings(this.deps.config.policy, this.policies);
  }

  /** One organizer: resolve, pass the policy gate, probe once if the policy is not known to work, then the rest. */
  private async runLane(lane: OrganizerLane): Promise<void> {
    const needsNewOrganizer = lane.ops.some((op) => op.kind !== 'cancel');
    let organizerId: string | null = null;
    if (needsNewOrganizer) {
      const resolution = await this.resolver.resolve(lane.email);
      if (resolution.status === 'unresolved') {
        this.log.error('organizer.unresolved', { feedId: this.feed.id, email: lane.email, reason: resolution.reason, sessions: lane.ops.length });
        const retryAt = resolution.retryable ? nextAttemptAt(this.now(), 1, { baseMs: 60_000, maxMs: 3_600_000 }) : this.inHours(1);
        // Cancels of meetings that already exist need no look-up: they go ahead below.
        await this.block(
          lane.ops.filter((op) => op.kind !== 'cancel'),
          { code: 'organizerUnresolved', message: resolution.reason, at: this.now() },
          retryAt,
        );
        lane.ops = lane.ops.filter((op) => op.kind === 'cancel');
      } else {
        organizerId = resolution.objectId;
      }
    }
    const byOrganizer = new Map<string, PlannedOperation[]>();
    for (const op of lane.ops) {
      const id = op.kind === 'cancel' ? op.record.organizerId : organizerId;
      if (!id) {
        // A cancel of a row that never got an organizer: nothing exists in Graph.
        if (op.kind === 'cancel') await this.finishCancelWithoutMeeting(op.record);
        continue;
      }
      byOrganizer.set(id, [...(byOrganizer.get(id) ?? []), op]);
    }
    await Promise.all([...byOrganizer].map(([id, ops]) => this.runOrganizer(id, lane.email, ops)));
  }

  private async runOrganizer(organizerId: string, email: string, ops: PlannedOperation[]): Promise<void> {
    const decision = decidePolicyGate(this.policies.get(organizerId) ?? null, this.now(), this.policySettings);
    if (!decision.allow) {
      const code = decision.state === 'propagating' ? 'policyPropagating' : 'policyMissing';
      await this.block(ops, { code, message: decision.reason, at: this.now() }, decision.retryAt, organizerId);
      return;
    }
    const current = this.policies.get(organizerId) ?? null;
    if (current?.state === 'missing') await this.savePolicy(recordPolicyProbe(current, organizerId, this.now()));
    const waits = [...(this.deps.policyRetryWaitsMs ?? DEFAULT_POLICY_WAITS_MS)];
    for (;;) {
      if (this.policies.get(organizerId)?.state === 'active') {
        const results = await Promise.all(ops.map((op) => this.runOne(organizerId, email, op)));
        const denied = ops.filter((_, i) => results[i] === 'policyDenied');
        if (denied.length > 0) await this.blockAfterDenial(organizerId, denied);
        return;
      }
      // Probe with one operation first, so an organizer without a policy costs one 403, not hundreds.
      const [first, ...rest] = ops;
      if (!first) return;
      if ((await this.runOne(organizerId, email, first, { probe: true })) !== 'policyDenied') {
        const results = await Promise.all(rest.map((op) => this.runOne(organizerId, email, op)));
        const denied = rest.filter((_, i) => results[i] === 'policyDenied');
        if (denied.length > 0) await this.blockAfterDenial(organizerId, denied);
        return;
      }
      const wait = waits.shift();
      if (wait === undefined || this.policies.get(organizerId)?.state !== 'propagating' || performance.now() + wait > this.budgetEndsAt) {
        await this.blockAfterDenial(organizerId, ops);
        return;
      }
      // A grant is propagating: a short wait may be enough (the gate's back-off covers longer ones).
      this.log.info('policy.propagating.waiting', { feedId: this.feed.id, objectId: organizerId, waitMs: wait });
      await this.sleep(wait);
    }
  }

  private async blockAfterDenial(organizerId: string, ops: PlannedOperation[]): Promise<void> {
    const policy = this.policies.get(organizerId);
    const decision = decidePolicyGate(policy ?? null, this.now(), this.policySettings);
    const retryAt = decision.allow ? nextAttemptAt(this.now(), 1, { baseMs: 60_000, maxMs: 3_600_000 }) : decision.retryAt;
    const state = policy?.state ?? 'missing';
    const message = this.denials.get(organizerId) ?? `no application access policy covers this organizer: run ${grantCommand(this.policySettings.policyName, organizerId)}`;
    await this.block(ops, { code: state === 'propagating' ? 'policyPropagating' : 'policyMissing', message, at: this.now() }, retryAt, organizerId);
  }

  /** Runs one operation through the limiter; returns 'policyDenied' for a policy 403 (the lane handles it). */
  private async runOne(organizerId: string, email: string, op: PlannedOperation, options: { probe?: boolean } = {}): Promise<'ok' | 'policyDenied' | 'failed'> {
    if (this.aborted) return 'failed';
    if (this.outOfTime()) {
      this.stoppedEarly = true;
      return 'failed';
    }
    return this.deps.limiter.run(organizerId, async () => {
      if (this.aborted) return 'failed';
      // Graph refused this organizer earlier in this run (e.g. a revoked policy on an organizer known to
      // work, whose operations all went to the limiter at once): the queued rest would only collect one
      // 403 each. They are blocked with the others; the policy gate decides when to try again.
      if (!options.probe && this.denials.has(organizerId) && this.policies.get(organizerId)?.state !== 'active') return 'policyDenied';
      if (this.outOfTime()) {
        this.stoppedEarly = true;
        return 'failed';
      }
      try {
        await this.applyOperation(organizerId, email, op);
        this.deps.limiter.onSuccess();
        await this.notePolicySuccess(organizerId);
        return 'ok';
      } catch (error) {
        return this.handleFailure(organizerId, op, error);
      }
    });
  }

  private async handleFailure(organizerId: string, op: PlannedOperation, error: unknown): Promise<'policyDenied' | 'failed'> {
    if (error instanceof ConcurrencyError) {
      // Another run (a second queue message) is applying this row right now; it owns the operation.
      this.counters.raced++;
      this.log.warning('meeting.write.conflict', { feedId: this.feed.id, key: operationRecordKey(op) });
      return 'failed';
    }
    const graphError = classifyGraphError(error);
    if (graphError.kind === 'throttled') this.deps.limiter.onThrottled((graphError.retryAfterSeconds ?? 0) * 1000);
    if (graphError.kind === 'policyMissing') {
      await this.notePolicyDenied(organizerId);
      return 'policyDenied';
    }
    if (graphError.kind === 'unauthorized' || graphError.kind === 'forbidden') {
      if (!this.aborted) {
        this.aborted = true;
        this.abortReason = `Graph refused the app itself (${graphError.kind}): ${graphError.message}`;
        this.log.error('graph.credential.rejected', {
          feedId: this.feed.id,
          status: graphError.status,
          code: graphError.graphCode,
          requestId: graphError.requestId,
          message: graphError.message,
          action: 'check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and the credential, and that OnlineMeetings.ReadWrite.All and User.Read.All have admin consent',
        });
      }
    }
    await this.recordFailure(op, graphError);
    return 'failed';
  }

  private async recordFailure(op: PlannedOperation, error: GraphError): Promise<void> {
    const record = this.currentRecord(op);
    if (!record) return;
    const attempts = record.attempts + 1;
    const needsAction = error.kind === 'invalidRequest' || error.kind === 'notFound';
    const retryAt = nextAttemptAt(this.now(), attempts, { baseMs: needsAction ? 3_600_000 : 60_000, maxMs: 6 * 3_600_000, jitter: 0.2, seed: record.key });
    const lastError: MeetingError = {
      code: error.kind,
      message: error.message,
      ...(error.requestId ? { requestId: error.requestId } : {}),
      at: this.now(),
    };
    this.counters.failed++;
    this.log[needsAction ? 'error' : 'warning']('graph.error', {
      feedId: this.feed.id,
      key: record.key,
      operation: op.kind,
      status: error.status,
      code: error.graphCode,
      kind: error.kind,
      requestId: error.requestId,
      message: error.message,
      retryAt,
    });
    // A row that was never stored keeps its old state where it had one; a failed cancel stays 'cancelling'.
    const state = op.kind === 'cancel' ? 'cancelling' : record.state === 'active' || record.state === 'cancelled' ? record.state : 'failed';
    await this.save({ ...record, state, attempts, nextAttemptAt: retryAt, lastError }).catch((e: unknown) => this.noteWriteFailure(record.key, e));
  }

  private noteWriteFailure(key: string, error: unknown): void {
    if (error instanceof ConcurrencyError) {
      this.counters.raced++;
      return;
    }
    throw error;
  }

  private currentRecord(op: PlannedOperation): MeetingRecord | null {
    const key = operationRecordKey(op);
    return this.written.get(key) ?? (op.kind === 'create' ? op.record ?? this.newRecord(op.desired, op.externalId, op.generation) : op.record);
  }

  private newRecord(desired: DesiredSession, externalId: string, generation: number): MeetingRecord {
    return {
      feedId: this.feed.id,
      key: desired.key,
      uid: desired.uid,
      recurrenceId: desired.recurrenceId,
      organizerEmail: desired.organizerEmail,
      organizerId: null,
      externalId,
      generation,
      meetingId: null,
      joinWebUrl: null,
      ...meetingContent(desired),
      state: 'creating',
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    };
  }

  private async save(record: MeetingRecord): Promise<MeetingRecord> {
    const stored = await this.deps.store.meetings.put(record);
    this.written.set(record.key, stored);
    return stored;
  }

  private async block(ops: readonly PlannedOperation[], error: MeetingError, retryAt: string, organizerId: string | null = null): Promise<void> {
    if (ops.length === 0) return;
    const rows: MeetingRecord[] = [];
    for (const op of ops) {
      if (op.kind === 'cancel') continue; // a cancel never waits on a policy: the lane only holds it if the organizer is denied
      const record = this.currentRecord(op);
      if (!record) continue;
      // Judged on the row as this run found it: a 'creating' row written by this run whose createOrGet
      // was refused (or never sent) has no meeting behind it.
      if (op.record !== null && mayHaveMeeting(op.record)) {
        // A meeting may exist under the row's organizer: keep who owns it, so a later cancel or
        // replace finds it. An unconfirmed one stays 'creating' (createOrGet will find it again).
        rows.push({ ...record, state: record.meetingId ? record.state : 'creating', nextAttemptAt: retryAt, lastError: error });
        continue;
      }
      rows.push({
        ...record,
        organizerEmail: op.desired.organizerEmail,
        organizerId,
        subject: op.desired.subject,
        start: op.desired.start,
        end: op.desired.end,
        location: op.desired.location,
        state: 'blocked',
        nextAttemptAt: retryAt,
        lastError: error,
      });
    }
    this.counters.blocked += ops.length;
    for (const op of ops.filter((o) => o.kind === 'cancel')) {
      const record = this.currentRecord(op);
      if (record) rows.push({ ...record, state: 'cancelling', nextAttemptAt: retryAt, lastError: error });
    }
    try {
      const stored = await this.deps.store.meetings.putMany(rows);
      for (const record of stored) this.written.set(record.key, record);
    } catch (e) {
      this.noteWriteFailure('batch', e);
    }
  }

  private async notePolicySuccess(organizerId: string): Promise<void> {
    const current = this.policies.get(organizerId) ?? null;
    if (current?.state === 'active') return;
    const next = recordPolicySuccess(current, organizerId, this.now());
    this.policies.set(organizerId, next);
    if (current && current.state !== 'unknown') this.log.info('policy.active', { objectId: organizerId, previous: current.state });
    await this.savePolicy(next);
  }

  private async notePolicyDenied(organizerId: string): Promise<void> {
    const current = this.policies.get(organizerId) ?? null;
    const { record, outcome, retryAt, message } = recordPolicyDenied(current, organizerId, this.now(), this.policySettings);
    this.policies.set(organizerId, record);
    // Requests already in flight when the first 403 came back are refused too: one alert per organizer
    // and run (the first one says best what happened, e.g. 'revoked').
    const alreadyReported = outcome !== 'propagating' && this.missingReported.has(organizerId);
    if (!alreadyReported) this.denials.set(organizerId, message);
    if (outcome !== 'propagating') this.missingReported.add(organizerId);
    const command = grantCommand(this.policySettings.policyName, organizerId);
    if (alreadyReported) {
      // Already alerted in this run; the record above is still saved.
    } else if (outcome === 'propagating') {
      this.log.warning('policy.propagating', { feedId: this.feed.id, objectId: organizerId, grantedAt: record.grantedAt, until: retryAt });
    } else {
      this.log.error('policy.missing', {
        feedId: this.feed.id,
        objectId: organizerId,
        outcome,
        grantCommand: command,
        message,
        action: `run in Teams PowerShell: ${command}, then record it: timetable-sync policy grant --user ${organizerId}`,
      });
    }
    await this.savePolicy(record);
  }

  private async savePolicy(record: PolicyRecord): Promise<void> {
    try {
      const stored = await this.deps.store.policies.put(record);
      this.policies.set(record.objectId, stored);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Another run recorded the same organizer's state; re-read it so the next write is conditional on it.
      this.policies.set(record.objectId, await this.deps.store.policies.get(record.objectId));
    }
  }

  private inHours(hours: number): string {
    return toUtcIso(Date.parse(this.now()) + hours * 3_600_000);
  }

  private async applyOperation(organizerId: string, email: string, op: PlannedOperation): Promise<void> {
    switch (op.kind) {
      case 'create':
        await this.create(organizerId, email, op.desired, this.currentRecord(op) as MeetingRecord, op.externalId, op.generation);
        return;
      case 'update':
        await this.update(organizerId, op.desired, this.currentRecord(op) as MeetingRecord);
        return;
      case 'cancel':
        await this.cancel(this.currentRecord(op) as MeetingRecord);
        return;
      case 'replace': {
        const record = this.currentRecord(op) as MeetingRecord;
        if (record.organizerId && mayHaveMeeting(record)) await this.removeMeeting(record);
        await this.create(organizerId, email, op.desired, { ...record, meetingId: null, joinWebUrl: null }, op.externalId, op.generation);
        this.counters.cancelled++;
        return;
      }
    }
  }

  private async create(organizerId: string, email: string, desired: DesiredSession, base: MeetingRecord, externalId: string, generation: number): Promise<void> {
    // The row (with its createOrGet key) is stored before Graph is called: a crash after this point
    // is repeated with the same key and Graph returns the same meeting.
    let record = await this.save({
      ...base,
      organizerEmail: email,
      organizerId,
      externalId,
      generation,
      ...meetingContent(desired),
      state: 'creating',
      attempts: base.attempts,
    });
    let meeting: OnlineMeeting = await this.deps.graph.meetings.createOrGet(organizerId, {
      externalId,
      subject: desired.subject,
      startDateTime: desired.start,
      endDateTime: desired.end,
    });
    // createOrGet never changes an existing meeting: bring one from an interrupted earlier try up to date.
    if (meeting.subject !== desired.subject || !sameInstant(meeting.startDateTime, desired.start) || !sameInstant(meeting.endDateTime, desired.end)) {
      meeting = await this.deps.graph.meetings.update(organizerId, meeting.id, {
        subject: desired.subject,
        startDateTime: desired.start,
        endDateTime: desired.end,
      });
    }
    record = await this.save({ ...record, meetingId: meeting.id, joinWebUrl: meeting.joinWebUrl, state: 'active', attempts: 0, nextAttemptAt: null, lastError: null });
    this.counters.created++;
    this.log.debug('meeting.created', { feedId: this.feed.id, key: record.key, organizerId, start: record.start, generation });
  }

  private async update(organizerId: string, desired: DesiredSession, record: MeetingRecord): Promise<void> {
    if (!record.meetingId) {
      await this.create(organizerId, desired.organizerEmail, desired, record, record.externalId, record.generation);
      return;
    }
    try {
      await this.deps.graph.meetings.update(organizerId, record.meetingId, {
        subject: desired.subject,
        startDateTime: desired.start,
        endDateTime: desired.end,
      });
    } catch (error) {
      if (classifyGraphError(error).kind !== 'notFound') throw error;
      // Someone deleted the meeting in Teams: the session still needs one, under a new key.
      this.log.warning('meeting.missing.recreated', { feedId: this.feed.id, key: record.key, organizerId });
      const generation = record.generation + 1;
      await this.create(organizerId, desired.organizerEmail, desired, { ...record, meetingId: null }, externalIdFor(record.key, generation), generation);
      return;
    }
    await this.save({
      ...record,
      ...meetingContent(desired),
      state: 'active',
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    });
    this.counters.updated++;
    this.log.debug('meeting.updated', { feedId: this.feed.id, key: record.key, organizerId, start: desired.start });
  }

  private async cancel(record: MeetingRecord): Promise<void> {
    const marked = record.state === 'cancelling' ? record : await this.save({ ...record, state: 'cancelling' });
    await this.removeMeeting(marked);
    await this.save({ ...marked, state: 'cancelled', meetingId: null, joinWebUrl: null, attempts: 0, nextAttemptAt: null, lastError: null });
    this.counters.cancelled++;
    this.log.debug('meeting.cancelled', { feedId: this.feed.id, key: record.key, start: record.start, mode: this.deps.config.sync.cancelMode });
  }

  private async finishCancelWithoutMeeting(record: MeetingRecord): Promise<void> {
    await this.save({ ...record, state: 'cancelled', attempts: 0, nextAttemptAt: null, lastError: null }).catch((e: unknown) => this.noteWriteFailure(record.key, e));
    this.counters.cancelled++;
  }

  /** Deletes (or locks) the record's meeting. A row whose meeting id was never stored is resolved first. */
  private async removeMeeting(record: MeetingRecord): Promise<void> {
    const organizerId = record.organizerId;
    if (!organizerId || !mayHaveMeeting(record)) return;
    let meetingId = record.meetingId;
    if (!meetingId) {
      // The create may have committed before a crash: createOrGet finds it (or makes it) so it can be removed.
      const found = await this.deps.graph.meetings.createOrGet(organizerId, {
        externalId: record.externalId,
        subject: record.subject,
        startDateTime: record.start,
        endDateTime: record.end,
      });
      meetingId = found.id;
    }
    if (this.deps.config.sync.cancelMode === 'lock') {
      await this.deps.graph.meetings.update(organizerId, meetingId, {
        subject: record.subject.startsWith('Cancelled: ') ? record.subject : `Cancelled: ${record.subject}`,
        startDateTime: record.start,
        endDateTime: record.end,
        lockLobby: true,
      });
    } else {
      await this.deps.graph.meetings.delete(organizerId, meetingId);
    }
  }
}

function operationRecordKey(op: PlannedOperation): string {
  return op.kind === 'cancel' ? op.record.key : op.desired.key;
}
