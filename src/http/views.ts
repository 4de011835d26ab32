// What the admin API shows of stored records: never the calendar token (except as part of the
// published-calendar links of one feed), never join URLs or createOrGet keys in plan output.
import type { DryRun } from '../admin/feeds.js';
import type { DesiredSession } from '../core/desired.js';
import type { PlannedOperation } from '../core/plan.js';
import type { MeetingRecord } from '../core/state.js';
import type { FeedRecord } from '../storage/index.js';

export type FeedView = Omit<FeedRecord, 'calendarToken' | 'etag'>;

export function toFeedView(feed: FeedRecord): FeedView {
  const { calendarToken: _token, etag: _etag, ...view } = feed;
  return view;
}

function recordView(record: MeetingRecord) {
  return {
    key: record.key,
    uid: record.uid,
    recurrenceId: record.recurrenceId,
    subject: record.subject,
    start: record.start,
    end: record.end,
    organizerEmail: record.organizerEmail,
    state: record.state,
    hasMeeting: record.meetingId !== null,
    lastError: record.lastError
      ? { code: record.lastError.code, message: record.lastError.message, at: record.lastError.at }
      : null,
  };
}

/** The session an operation makes, moves to or replaces with: what the plan shows of it. */
function sessionFields(desired: DesiredSession) {
  return {
    key: desired.key,
    subject: desired.subject,
    start: desired.start,
    end: desired.end,
    organizerEmail: desired.organizerEmail,
  };
}

function operationView(op: PlannedOperation) {
  switch (op.kind) {
    case 'create':
      return {
        kind: op.kind,
        ...sessionFields(op.desired),
        revives: op.record?.state ?? null,
      };
    case 'update':
      return {
        kind: op.kind,
        ...sessionFields(op.desired),
        was: { subject: op.record.subject, start: op.record.start, end: op.record.end },
      };
    case 'move':
      return {
        kind: op.kind,
        ...sessionFields(op.desired),
        shiftMs: op.shiftMs,
        was: { key: op.record.key, subject: op.record.subject, start: op.record.start, end: op.record.end },
      };
    case 'cancel':
      return { kind: op.kind, reason: op.reason, ...recordView(op.record) };
    case 'replace':
      return {
        kind: op.kind,
        reason: op.reason,
        ...sessionFields(op.desired),
        was: recordView(op.record),
      };
  }
}

export function toDryRunView(feedId: string, dryRun: DryRun) {
  return {
    feedId,
    counts: dryRun.plan.counts,
    guard: dryRun.plan.guard,
    creationGuard: dryRun.plan.creationGuard,
    moves: dryRun.plan.moves,
    operations: dryRun.plan.operations.map(operationView),
    held: dryRun.plan.held.map(operationView),
    waiting: dryRun.plan.waiting.map(recordView),
    unchanged: dryRun.plan.unchanged.length,
    skipped: dryRun.skipped,
    skippedOmitted: dryRun.skippedOmitted,
    skippedByReason: dryRun.skippedByReason,
    warnings: dryRun.warnings,
    warningsOmitted: dryRun.warningsOmitted,
    blockedOrganizers: dryRun.blockedOrganizers,
  };
}
