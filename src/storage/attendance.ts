// Attendance in Table Storage. Two tables:
// - `attendance`: one row per participant per session, partition = feed (a course's records are one
//   partition query), RowKey = `{sessionKey}|{participantKey}` (a session's records are one RowKey range).
//   A row holds one person's times in one session, its stays capped (MAX_STORED_INTERVALS), so a
//   lecture of any size is many small rows, written in transactions of ≤100.
// - `attendancesessions`: one row per session being collected (state, next check, report ids),
//   partition = feed; plus partition `feeds` listing every feed that ever stored attendance (so erasure
//   finds them all without a table scan).
import type { TableClient } from '@azure/data-tables';
import {
  SESSION_ATTENDANCE_STATES,
  type AttendanceRecord,
  type SessionAttendance,
} from '../core/attendance.js';
import { azureTable } from './entity.js';
import {
  entity,
  readPartition,
  readRow,
  requireFeedId,
  requireKey,
  type StoredRow,
  type Table,
  type TableAction,
} from './table.js';

/** The partition of `attendancesessions` that lists the feeds with attendance (feed ids cannot hold '~'). */
const FEEDS_PARTITION = '~feeds';

export interface AttendanceRepository {
  /** Every collection row of one feed (small: one per session). */
  listSessions(feedId: string): Promise<SessionAttendance[]>;
  /** Insert (no etag) or replace If-Match; returns the row with its new etag. */
  putSession(session: SessionAttendance): Promise<SessionAttendance>;
  deleteSession(feedId: string, sessionKey: string): Promise<boolean>;
  /**
   * Stores a session's records (insert or replace: the same report gives the same rows, so a repeated
   * or resumed collection is harmless) and removes that session's rows of people no longer in them.
   */
  putRecords(feedId: string, sessionKey: string, records: readonly AttendanceRecord[]): Promise<void>;
  /** A course's records (one partition query), or one session's (one RowKey range). */
  listRecords(feedId: string, options?: { sessionKey?: string }): Promise<AttendanceRecord[]>;
  /** Deletes one session's records; returns how many. */
  deleteRecords(feedId: string, sessionKey: string): Promise<number>;
  /** Records that `feedId` stores attendance (idempotent). */
  registerFeed(feedId: string): Promise<void>;
  /** Every feed that ever stored attendance, removed feeds included. */
  listFeeds(): Promise<string[]>;
  /** Deletes every record of the people `matches` picks, in every feed; returns how many rows. */
  deleteWhere(matches: (record: AttendanceRecord) => boolean): Promise<{ records: number; feeds: string[] }>;
}

export function createAttendanceRepository(
  records: TableClient,
  recordsName: string,
  sessions: TableClient,
  sessionsName: string,
): AttendanceRepository {
  return attendanceRepository(azureTable(records, recordsName), azureTable(sessions, sessionsName));
}

function recordRowKey(sessionKey: string, participantKey: string): string {
  return `${requireKey(sessionKey, 'session key')}|${requireKey(participantKey, 'participant key')}`;
}

export function attendanceRepository(records: Table, sessions: Table): AttendanceRepository {
  const deleteRows = async (feedId: string, rowKeys: string[]): Promise<number> => {
    let deleted = 0;
    const actions: TableAction[] = rowKeys.map((rowKey) => ['delete', { partitionKey: feedId, rowKey }]);
    await records.submit(feedId, actions, (n) => (deleted += n));
    return deleted;
  };
  const repo: AttendanceRepository = {
    async listSessions(feedId) {
      return sessions.mapPartition(requireFeedId(feedId), (row) => sessionFromRow(row, sessions.name));
    },
    async putSession(session) {
      const etag = await sessions.write(sessionToEntity(session), session.etag);
      return { ...session, etag };
    },
    deleteSession: (feedId, sessionKey) => sessions.delete(requireFeedId(feedId), sessionKey),
    async putRecords(feedId, sessionKey, list) {
      requireFeedId(feedId);
      const keep = new Set(list.map((r) => recordRowKey(sessionKey, r.participantKey)));
      const actions: TableAction[] = list.map((r) => ['upsert', recordToEntity(r), 'Replace']);
      await records.submit(feedId, actions);
      const stale = (
        await readPartition(records, feedId, { select: ['RowKey'], rowKeyPrefix: `${sessionKey}|` })
      )
        .map((row) => row.rowKey ?? '')
        .filter((key) => !keep.has(key));
      if (stale.length > 0) await deleteRows(feedId, stale);
    },
    async listRecords(feedId, options = {}) {
      return records.mapPartition(
        requireFeedId(feedId),
        (row) => recordFromRow(row, records.name),
        options.sessionKey ? { rowKeyPrefix: `${requireKey(options.sessionKey, 'session key')}|` } : {},
      );
    },
    async deleteRecords(feedId, sessionKey) {
      const rows = await readPartition(records, requireFeedId(feedId), {
        select: ['RowKey'],
        rowKeyPrefix: `${requireKey(sessionKey, 'session key')}|`,
      });
      return deleteRows(
        feedId,
        rows.map((row) => row.rowKey ?? ''),
      );
    },
    async registerFeed(feedId) {
      const known = await sessions.read(FEEDS_PARTITION, requireFeedId(feedId));
      if (known) return;
      try {
        await sessions.write(entity(FEEDS_PARTITION, feedId, { feedId }), undefined);
      } catch (error) {
        // Registered by another run meanwhile: the row is the same.
        if (!(await sessions.read(FEEDS_PARTITION, feedId))) throw error;
      }
    },
    async listFeeds() {
      return sessions.mapPartition(FEEDS_PARTITION, (row) => row.rowKey ?? '');
    },
    async deleteWhere(matches) {
      let deleted = 0;
      const feeds: string[] = [];
      for (const feedId of await repo.listFeeds()) {
        const doomed = (await repo.listRecords(feedId))
          .filter(matches)
          .map((r) => recordRowKey(r.sessionKey, r.participantKey));
        if (doomed.length === 0) continue;
        deleted += await deleteRows(feedId, doomed);
        feeds.push(feedId);
      }
      return { records: deleted, feeds };
    },
  };
  return repo;
}

function sessionToEntity(s: SessionAttendance) {
  return entity(requireFeedId(s.feedId), requireKey(s.key, 'session key'), {
    subject: s.subject,
    start: s.start,
    end: s.end,
    organizerId: s.organizerId,
    meetingId: s.meetingId,
    state: s.state,
    checks: s.checks,
    nextCheckAt: s.nextCheckAt,
    lastCheckedAt: s.lastCheckedAt,
    reportIds: JSON.stringify(s.reportIds),
    meetingStart: s.meetingStart,
    meetingEnd: s.meetingEnd,
    participants: s.participants,
    reason: s.reason,
    collectedAt: s.collectedAt,
  });
}

function sessionFromRow(row: StoredRow, table: string): SessionAttendance {
  const r = readRow(row, table);
  const reportIds: unknown = JSON.parse(r.string('reportIds'));
  return {
    feedId: r.partitionKey,
    key: r.rowKey,
    subject: r.string('subject'),
    start: r.string('start'),
    end: r.string('end'),
    organizerId: r.string('organizerId'),
    meetingId: r.string('meetingId'),
    state: r.oneOf('state', SESSION_ATTENDANCE_STATES),
    checks: r.number('checks'),
    nextCheckAt: r.stringOrNull('nextCheckAt'),
    lastCheckedAt: r.stringOrNull('lastCheckedAt'),
    reportIds: Array.isArray(reportIds) ? reportIds.map(String) : [],
    meetingStart: r.stringOrNull('meetingStart'),
    meetingEnd: r.stringOrNull('meetingEnd'),
    participants: r.number('participants'),
    reason: r.stringOrNull('reason'),
    collectedAt: r.stringOrNull('collectedAt'),
    etag: r.etag,
  };
}

/** Strings are cut to what a row holds (a display name of 100,000 characters is someone's joke). */
function cut(text: string, max = 1_000): string {
  return text.length > max ? text.slice(0, max) : text;
}

function recordToEntity(r: AttendanceRecord) {
  return entity(requireFeedId(r.feedId), recordRowKey(r.sessionKey, r.participantKey), {
    sessionKey: r.sessionKey,
    participantKey: r.participantKey,
    participantId: r.participantId === null ? null : cut(r.participantId, 200),
    displayName: cut(r.displayName),
    email: r.email === null ? null : cut(r.email, 320),
    role: cut(r.role, 50),
    totalSeconds: r.totalSeconds,
    firstJoin: r.firstJoin,
    lastLeave: r.lastLeave,
    intervals: JSON.stringify(r.intervals),
    intervalCount: r.intervalCount,
  });
}

function recordFromRow(row: StoredRow, table: string): AttendanceRecord {
  const r = readRow(row, table);
  const intervals: unknown = JSON.parse(r.string('intervals'));
  return {
    feedId: r.partitionKey,
    sessionKey: r.string('sessionKey'),
    participantKey: r.string('participantKey'),
    participantId: r.stringOrNull('participantId'),
    displayName: r.string('displayName'),
    email: r.stringOrNull('email'),
    role: r.string('role'),
    totalSeconds: r.number('totalSeconds'),
    firstJoin: r.string('firstJoin'),
    lastLeave: r.stringOrNull('lastLeave'),
    intervals: Array.isArray(intervals) ? (intervals as AttendanceRecord['intervals']) : [],
    intervalCount: r.number('intervalCount'),
  };
}
