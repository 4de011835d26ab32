// The attendance collector for one feed: after each session has ended (plus ATTENDANCE_DELAY_MINUTES) it
// asks Graph for the meeting's attendance reports, matches the report to the session (core/attendance.ts),
// pages through its records and stores one row per participant. Idempotent and resumable: records are
// written before the session is marked collected and rewriting them gives the same rows, so a run that
// stops half-way is simply done again. A report not there yet is asked for again with back-off; after
// ATTENDANCE_WINDOW_HOURS the session is settled as "no report". It also deletes what is older than
// ATTENDANCE_RETENTION_DAYS. Events carry counts and ids only: never a name or an e-mail address.
import type { AppServices } from '../compose.js';
import {
  dueSessions,
  matchReports,
  mergeParticipants,
  nextCheckAt,
  reusedLinkCandidates,
  type AttendanceSession,
  type ReportRef,
  type SessionAttendance,
  type SessionAttendanceState,
} from '../core/attendance.js';
import { grantCommand } from '../core/policy.js';
import type { EventLogger } from '../events.js';
import { classifyGraphError, type GraphAccess, type GraphError } from '../graph/index.js';
import { ConcurrencyError, NotFoundError } from '../storage/index.js';

export const ARTIFACT_PERMISSION = 'OnlineMeetingArtifact.Read.All';
/** What an admin does when the app may not read attendance reports. */
export const PERMISSION_FIX = `In Entra ID (App registrations → this app → API permissions) add the Microsoft Graph application permission ${ARTIFACT_PERMISSION}, then select "Grant admin consent"`;
const DAY = 24 * 3_600_000;
/** Session ids listed in one event at most (the count says how many there were). */
const LISTED = 20;

export interface CollectDeps {
  store: AppServices['store'];
  graph: GraphAccess;
  logger: EventLogger;
  config: Pick<AppServices['config'], 'attendance' | 'policy' | 'sync'>;
  now: () => Date;
  /** Wall-clock time a run may spend before it leaves the rest for the next run (default RUN_BUDGET_SECONDS). */
  budgetMs?: number;
}

export interface CollectSummary {
  feedId: string;
  /** Sessions checked in this run. */
  checked: number;
  collected: number;
  records: number;
  waiting: number;
  noReport: number;
  policyMissing: number;
  permissionMissing: number;
  failed: number;
  /** Sessions (and their records) deleted for ATTENDANCE_RETENTION_DAYS. */
  expiredSessions: number;
  expiredRecords: number;
  graphCalls: number;
  /** Due sessions left for the next run because the run's time budget was spent. */
  deferred: number;
}

/**
 * The feed's sessions whose meeting exists and may have been held, and each lecturer's e-mail by object
 * id (for the alerts: ops know people by address).
 */
async function sessionsOf(
  deps: CollectDeps,
  feedId: string,
): Promise<{ sessions: AttendanceSession[]; emails: Map<string, string> }> {
  const rows = await deps.store.meetings.listByFeed(feedId);
  const emails = new Map<string, string>();
  const sessions = rows.flatMap((r) => {
    if (
      !r.meetingId ||
      !r.organizerId ||
      r.state === 'cancelled' ||
      r.state === 'cancelling' ||
      r.state === 'creating'
    )
      return [];
    emails.set(r.organizerId, r.organizerEmail);
    return [
      {
        key: r.key,
        uid: r.uid,
        subject: r.subject,
        start: r.start,
        end: r.end,
        organizerId: r.organizerId,
        meetingId: r.meetingId,
      },
    ];
  });
  return { sessions, emails };
}

function emptySummary(feedId: string): CollectSummary {
  return {
    feedId,
    checked: 0,
    collected: 0,
    records: 0,
    waiting: 0,
    noReport: 0,
    policyMissing: 0,
    permissionMissing: 0,
    failed: 0,
    expiredSessions: 0,
    expiredRecords: 0,
    graphCalls: 0,
    deferred: 0,
  };
}

/** Deletes sessions (and records) that ended more than ATTENDANCE_RETENTION_DAYS ago. */
async function enforceRetention(
  deps: CollectDeps,
  known: SessionAttendance[],
  summary: CollectSummary,
): Promise<SessionAttendance[]> {
  const cutoff = deps.now().getTime() - deps.config.attendance.retentionDays * DAY;
  const kept: SessionAttendance[] = [];
  for (const s of known) {
    if (Date.parse(s.end) >= cutoff) {
      kept.push(s);
      continue;
    }
    summary.expiredRecords += await deps.store.attendance.deleteRecords(s.feedId, s.key);
    await deps.store.attendance.deleteSession(s.feedId, s.key);
    summary.expiredSessions++;
  }
  if (summary.expiredSessions > 0)
    deps.logger.info('attendance.retention.deleted', {
      feedId: summary.feedId,
      sessions: summary.expiredSessions,
      records: summary.expiredRecords,
      retentionDays: deps.config.attendance.retentionDays,
    });
  return kept;
}

/** Collects the attendance of one feed's ended sessions. */
export async function collectAttendance(deps: CollectDeps, feedId: string): Promise<CollectSummary> {
  const summary = emptySummary(feedId);
  const feed = await deps.store.feeds.get(feedId);
  const known = await enforceRetention(deps, await deps.store.attendance.listSessions(feedId), summary);
  if (!feed?.attendance) return summary;

  const now = deps.now().getTime();
  const settings = deps.config.attendance;
  const knownByKey = new Map(known.map((s) => [s.key, s]));
  const { sessions, emails } = await sessionsOf(deps, feedId);
  const due = dueSessions(sessions, knownByKey, now, settings);
  if (due.length === 0) return summary;
  // A run stops starting sessions once its budget is spent; the rest stay due for the next run.
  const started = performance.now();
  const budgetMs = deps.budgetMs ?? deps.config.sync.runBudgetSeconds * 1000;
  const inBudget = () => performance.now() - started < budgetMs;
  await deps.store.attendance.registerFeed(feedId);

  const stats = () => deps.graph.stats().requests;
  const callsBefore = stats();
  // What stopped whom: the app (permission), or one lecturer (policy, other refusals).
  const app: { refusal: GraphError | null } = { refusal: null };
  const organizerRefusals = new Map<string, GraphError>();
  const sessionFailures = new Map<string, GraphError>();
  const reports: ReportRef[] = [];
  const listed = new Set<string>();
  /** Lists one meeting's reports into `reports`, unless a refusal already stopped this lecturer or the app. */
  const listReports = async (organizerId: string, meetingId: string, sessionKey: string): Promise<void> => {
    if (app.refusal || organizerRefusals.has(organizerId) || listed.has(meetingId)) return;
    listed.add(meetingId);
    try {
      for (const r of await deps.graph.attendance.listReports(organizerId, meetingId))
        reports.push({
          id: r.id,
          meetingId,
          organizerId,
          start: r.meetingStartDateTime,
          end: r.meetingEndDateTime,
        });
    } catch (error) {
      const e = classifyGraphError(error);
      if (e.kind === 'unauthorized') throw e;
      if (e.kind === 'forbidden') app.refusal = e;
      else if (e.kind === 'policyMissing' || e.kind === 'userForbidden')
        organizerRefusals.set(organizerId, e);
      else if (sessionKey) sessionFailures.set(sessionKey, e);
    }
  };
  const listedDue: AttendanceSession[] = [];
  for (const session of due) {
    if (!inBudget()) break;
    await listReports(session.organizerId, session.meetingId, session.key);
    listedDue.push(session);
  }
  summary.deferred = due.length - listedDue.length;
  const taken = new Set(known.flatMap((s) => s.reportIds));
  let matched = matchReports(listedDue, reports, taken);
  // A session with no report of its own may have been held with an earlier link of its series.
  const orphans = listedDue.filter((s) => !matched.has(s.key) && !sessionFailures.has(s.key));
  for (const session of orphans)
    for (const earlier of reusedLinkCandidates(session, sessions))
      await listReports(earlier.organizerId, earlier.meetingId, '');
  if (orphans.length > 0) matched = matchReports(listedDue, reports, taken);
  const noReportKeys: string[] = [];
  for (const session of listedDue) {
    const previous = knownByKey.get(session.key);
    const base: SessionAttendance = previous ?? {
      feedId,
      key: session.key,
      subject: session.subject,
      start: session.start,
      end: session.end,
      organizerId: session.organizerId,
      meetingId: session.meetingId,
      state: 'waiting',
      checks: 0,
      nextCheckAt: null,
      lastCheckedAt: null,
      reportIds: [],
      meetingStart: null,
      meetingEnd: null,
      participants: 0,
      reason: null,
      collectedAt: null,
    };
    const checks = base.checks + 1;
    const at = new Date(now).toISOString();
    const retry = (state: SessionAttendanceState, reason: string): SessionAttendance => {
      const next = nextCheckAt(checks, session.end, now, settings);
      return {
        ...base,
        ...session,
        feedId,
        state: next === null && state === 'waiting' ? 'noReport' : state,
        checks,
        nextCheckAt: next,
        lastCheckedAt: at,
        reason: next === null ? `gave up after ${settings.windowHours} hours: ${reason}` : reason,
      };
    };
    let row: SessionAttendance;
    const own = matched.get(session.key) ?? [];
    const organizerRefusal = organizerRefusals.get(session.organizerId);
    const failure = sessionFailures.get(session.key);
    if (own.length > 0 && !inBudget()) {
      // Its records wait for the next run, which finds the session due as it is.
      summary.deferred++;
      continue;
    }
    // Graph's answer first (a refusal is this session's state), then the storage (a failure is thrown:
    // the queue redelivers the message and the run is done again).
    let reported: Awaited<ReturnType<GraphAccess['attendance']['listRecords']>> | null = null;
    let recordsFailure: GraphError | null = null;
    if (own.length > 0) {
      try {
        reported = [];
        for (const report of own)
          reported.push(
            ...(await deps.graph.attendance.listRecords(report.organizerId, report.meetingId, report.id)),
          );
      } catch (error) {
        recordsFailure = classifyGraphError(error);
        if (recordsFailure.kind === 'unauthorized') throw recordsFailure;
      }
    }
    if (recordsFailure) {
      row = retry('failed', recordsFailure.message);
    } else if (reported) {
      const records = mergeParticipants(feedId, session.key, reported);
      await deps.store.attendance.putRecords(feedId, session.key, records);
      row = {
        ...base,
        ...session,
        feedId,
        state: 'collected',
        checks,
        nextCheckAt: null,
        lastCheckedAt: at,
        reportIds: own.map((r) => r.id),
        meetingStart: own.map((r) => r.start).sort()[0] ?? null,
        meetingEnd:
          own
            .map((r) => r.end)
            .sort()
            .at(-1) ?? null,
        participants: records.length,
        reason: null,
        collectedAt: at,
      };
      summary.records += records.length;
    } else if (app.refusal) {
      row = retry('permissionMissing', `the app lacks the application permission ${ARTIFACT_PERMISSION}`);
    } else if (organizerRefusal) {
      row =
        organizerRefusal.kind === 'policyMissing'
          ? retry('policyMissing', 'no application access policy covers this lecturer')
          : retry('failed', organizerRefusal.message);
    } else if (failure?.kind === 'notFound') {
      row = {
        ...retry('noReport', 'the meeting no longer exists in Teams'),
        state: 'noReport',
        nextCheckAt: null,
      };
    } else if (failure) {
      row = retry('failed', failure.message);
    } else {
      row = retry('waiting', 'no attendance report yet: the meeting was never held, or no one joined');
    }
    if (row.state === 'noReport') noReportKeys.push(session.key);
    try {
      await deps.store.attendance.putSession(row);
    } catch (error) {
      // Another run of this feed wrote the row meanwhile: it owns this session's outcome.
      if (error instanceof ConcurrencyError || error instanceof NotFoundError) continue;
      throw error;
    }
    summary.checked++;
    if (row.state === 'collected') summary.collected++;
    else if (row.state === 'waiting') summary.waiting++;
    else if (row.state === 'noReport') summary.noReport++;
    else if (row.state === 'policyMissing') summary.policyMissing++;
    else if (row.state === 'permissionMissing') summary.permissionMissing++;
    else summary.failed++;
  }
  summary.graphCalls = stats() - callsBefore;

  if (app.refusal)
    deps.logger.error('attendance.permission.missing', {
      feedId,
      permission: ARTIFACT_PERMISSION,
      sessions: summary.permissionMissing,
      status: app.refusal.status,
      requestId: app.refusal.requestId,
      action: PERMISSION_FIX,
    });
  for (const [organizerId, e] of organizerRefusals) {
    const sessions = listedDue.filter((s) => s.organizerId === organizerId).length;
    if (e.kind === 'policyMissing')
      deps.logger.error('attendance.policy.missing', {
        feedId,
        organizerId,
        email: emails.get(organizerId),
        sessions,
        requestId: e.requestId,
        grantCommand: grantCommand(deps.config.policy.policyName, organizerId),
        action:
          'grant the application access policy to this lecturer (the same one meetings need), then wait for it to propagate',
      });
    else
      deps.logger.warning('attendance.organizer.refused', {
        feedId,
        organizerId,
        email: emails.get(organizerId),
        sessions,
        status: e.status,
        code: e.graphCode,
        requestId: e.requestId,
      });
  }
  if (noReportKeys.length > 0)
    deps.logger.info('attendance.session.noReport', {
      feedId,
      sessions: noReportKeys.length,
      sessionKeys: noReportKeys.slice(0, LISTED),
      reason: 'no attendance report: the meeting was never held, or no one joined',
    });
  deps.logger.info('attendance.collected', { ...summary });
  return summary;
}
