import type { TableClient } from '@azure/data-tables';
import type { MeetingError, MeetingRecord, MeetingState } from '../core/state.js';
import { azureTable } from './entity.js';
import { InvalidInputError, NotFoundError, StorageError } from './errors.js';
import {
  entity,
  interner,
  jsonOrNull,
  readPartition,
  readRow,
  requireFeedId,
  requireKey,
  type Entity,
  type StoredRow,
  type Table,
  type TableAction,
} from './table.js';

const MEETING_STATES: readonly MeetingState[] = [
  'creating',
  'active',
  'blocked',
  'failed',
  'cancelling',
  'cancelled',
];

export interface MeetingRepository {
  /**
   * Every meeting row of one feed: one partition query, all pages. With `forPlanning`, a planning read:
   * what a row's meeting is called (meetingId, joinWebUrl, externalId: a few hundred characters per row,
   * a hundred MB for a semester) is not kept, only whether it has one (the field holds NOT_READ then).
   * Such rows are for planning only; getMany() reads the ones a plan acts on in full. `sameStrings`
   * gives, per RowKey, strings the caller already holds (its session's key and content hash): a row
   * that has the same value keeps the caller's string instead of a copy of its own.
   */
  listByFeed(
    feedId: string,
    options?: {
      forPlanning?: boolean;
      sameStrings?: SameStrings;
      /** Rows it returns false for are not kept (each is dropped as its page is read). */
      keep?: (record: MeetingRecord) => boolean;
    },
  ): Promise<MeetingRecord[]>;
  /** The rows of `keys` in one feed, every column (one partition query keeping only those rows). */
  getMany(feedId: string, keys: ReadonlySet<string>): Promise<Map<string, MeetingRecord>>;
  /**
   * Without `etag`: insert only (a row already there → ConcurrencyError). With `etag`: replace If-Match
   * (412 → ConcurrencyError; row deleted meanwhile → NotFoundError). Returns the record with its new etag.
   */
  put(record: MeetingRecord): Promise<MeetingRecord>;
  /**
   * put() for many rows, as entity-group transactions of ≤100 rows per feed. Returns the records (input
   * order) with new etags. A failed transaction writes none of its rows and throws ConcurrencyError (or
   * NotFoundError) naming the row; transactions before it stay applied (each row is a valid state alone).
   */
  putMany(records: readonly MeetingRecord[]): Promise<MeetingRecord[]>;
  /**
   * Re-keys a session's row in one entity-group transaction (both rows in the feed's partition):
   * `vacated` replaces the old row If-Match its etag (required), and `moved` is inserted at its new key,
   * or replaces If-Match the row there (a 'cancelled' one) when it carries that row's etag. Both or
   * neither: a stale etag or a row inserted meanwhile → ConcurrencyError, a row gone → NotFoundError.
   */
  move(
    vacated: MeetingRecord,
    moved: MeetingRecord,
  ): Promise<{ vacated: MeetingRecord; moved: MeetingRecord }>;
  /** Deletes every meeting row of the feed; returns how many. */
  deleteByFeed(feedId: string): Promise<number>;
}

/** Strings a caller holds for a row key (see listByFeed). */
export type SameStrings = (rowKey: string) => { key: string; contentHash: string } | undefined;

export function createMeetingRepository(client: TableClient, table: string): MeetingRepository {
  return meetingRepository(azureTable(client, table));
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function meetingRepository(rows: Table): MeetingRepository {
  const table = rows.name;
  return {
    async listByFeed(feedId, options = {}) {
      // A semester-sized feed is 200,000+ rows: map each page as it arrives, one string per distinct
      // organizer, subject, UID and instant.
      const intern = interner();
      intern(requireFeedId(feedId));
      const forPlanning = options.forPlanning === true;
      const same = options.sameStrings;
      const keep = options.keep;
      if (!keep)
        return rows.mapPartition(feedId, (row) =>
          fromEntity(row, table, intern, forPlanning, same?.(row.rowKey ?? '')),
        );
      const kept: MeetingRecord[] = [];
      await rows.mapPartition(feedId, (row) => {
        const record = fromEntity(row, table, intern, forPlanning, same?.(row.rowKey ?? ''));
        if (keep(record)) kept.push(record);
      });
      return kept;
    },
    async getMany(feedId, keys) {
      const intern = interner();
      intern(requireFeedId(feedId));
      const found = new Map<string, MeetingRecord>();
      if (keys.size === 0) return found;
      await rows.mapPartition(feedId, (row) => {
        if (row.rowKey !== undefined && keys.has(row.rowKey))
          found.set(row.rowKey, fromEntity(row, table, intern, false, undefined));
      });
      return found;
    },
    async put(record) {
      const etag = await rows.write(toEntity(record), record.etag);
      return { ...record, etag };
    },
    async putMany(records) {
      const byFeed = new Map<string, number[]>();
      records.forEach((record, index) => {
        const indexes = byFeed.get(record.feedId) ?? [];
        indexes.push(index);
        byFeed.set(record.feedId, indexes);
      });
      // Build (and so validate) every row before writing any, so a bad record writes nothing.
      const plans = [...byFeed].map(([feedId, indexes]) => {
        const seen = new Set<string>();
        const actions: TableAction[] = indexes.map((index) => {
          const record = records[index] as MeetingRecord;
          // A transaction may touch a row only once; two versions of one meeting is a caller bug.
          if (seen.has(record.key))
            throw new InvalidInputError(`putMany: meeting ${feedId}/${record.key} appears twice`);
          seen.add(record.key);
          const row = toEntity(record);
          return record.etag === undefined
            ? ['create', row]
            : ['update', row, 'Replace', { etag: record.etag }];
        });
        return { feedId, indexes, actions };
      });
      const result: MeetingRecord[] = [...records];
      for (const { feedId, indexes, actions } of plans) {
        const etags = await rows.submit(feedId, actions);
        indexes.forEach((index, position) => {
          const etag = etags[position];
          if (!etag)
            throw new StorageError('unavailable', `putMany ${table}/${feedId}: the service returned no ETag`);
          result[index] = { ...(records[index] as MeetingRecord), etag };
        });
      }
      return result;
    },
    async move(vacated, moved) {
      if (vacated.etag === undefined)
        throw new InvalidInputError(`move: meeting ${vacated.feedId}/${vacated.key} has no etag`);
      if (vacated.feedId !== moved.feedId || vacated.key === moved.key)
        throw new InvalidInputError(
          `move: ${vacated.feedId}/${vacated.key} → ${moved.feedId}/${moved.key} is not a re-key within one feed`,
        );
      const to = toEntity(moved);
      const [vacatedEtag, movedEtag] = await rows.submit(vacated.feedId, [
        ['update', toEntity(vacated), 'Replace', { etag: vacated.etag }],
        moved.etag === undefined ? ['create', to] : ['update', to, 'Replace', { etag: moved.etag }],
      ]);
      if (!vacatedEtag || !movedEtag)
        throw new StorageError(
          'unavailable',
          `move ${table}/${vacated.feedId}: the service returned no ETag`,
        );
      return { vacated: { ...vacated, etag: vacatedEtag }, moved: { ...moved, etag: movedEtag } };
    },
    async deleteByFeed(feedId) {
      requireFeedId(feedId);
      let deleted = 0;
      // A row deleted by someone else between our query and our transaction fails that transaction
      // (404): query again and delete what is left, a bounded number of times.
      for (let attempt = 1; ; attempt++) {
        const stored = await readPartition(rows, feedId, { select: ['RowKey'] });
        // Unconditional deletes: removing a whole feed wins over any concurrent update of its rows.
        const actions: TableAction[] = stored.map((row) => [
          'delete',
          { partitionKey: feedId, rowKey: row.rowKey ?? '' },
        ]);
        try {
          await rows.submit(feedId, actions, (done) => (deleted += done));
          return deleted;
        } catch (error) {
          if (!(error instanceof NotFoundError) || attempt >= 3) throw error;
        }
      }
    },
  };
}

function toEntity(record: MeetingRecord): Entity {
  // A row from a planning read lacks these: written back, it would lose its meeting and its link.
  if (record.meetingId === NOT_READ || record.joinWebUrl === NOT_READ || record.externalId === NOT_READ)
    throw new Error(`meeting row ${record.feedId}/${record.key}: a planning read cannot be written back`);
  return entity(
    requireFeedId(record.feedId),
    requireKey(record.key, `meeting key ${JSON.stringify(record.key)}`),
    {
      uid: record.uid,
      recurrenceId: record.recurrenceId,
      organizerEmail: record.organizerEmail,
      organizerId: record.organizerId,
      externalId: record.externalId,
      generation: record.generation,
      meetingId: record.meetingId,
      joinWebUrl: record.joinWebUrl,
      subject: record.subject,
      start: record.start,
      end: record.end,
      location: record.location ?? null,
      description: record.description ? record.description : null,
      contentHash: record.contentHash,
      state: record.state,
      attempts: record.attempts,
      nextAttemptAt: record.nextAttemptAt,
      lastError: jsonOrNull(record.lastError),
    },
  );
}

/**
 * What a planning read (listByFeed forPlanning) keeps instead of a row's meeting id, join link and
 * createOrGet key: the planner only asks whether a row has a meeting.
 */
export const NOT_READ = '(not read)';

/**
 * `intern` shares the values that repeat across a feed's rows (feed id, UID, organizer, subject,
 * instants, state); keys, hashes, ids and etags are unique per row and kept as read. Only the listed
 * properties are copied: the SDK's Timestamp and the row object itself become garbage.
 */
function fromEntity(
  row: StoredRow,
  table: string,
  intern: (value: string) => string,
  forPlanning: boolean,
  same?: { key: string; contentHash: string },
): MeetingRecord {
  const r = readRow(row, table);
  const contentHash = r.string('contentHash');
  const meetingId = r.stringOrNull('meetingId');
  const joinWebUrl = r.stringOrNull('joinWebUrl');
  const externalId = r.string('externalId');
  const recurrenceId = r.stringOrNull('recurrenceId');
  const organizerId = r.stringOrNull('organizerId');
  const nextAttemptAt = r.stringOrNull('nextAttemptAt');
  const location = r.stringOrNull('location');
  const description = r.stringOrNull('description');
  return {
    feedId: intern(r.partitionKey),
    key: same?.key === r.rowKey ? same.key : r.rowKey,
    uid: intern(r.string('uid')),
    recurrenceId: recurrenceId === null ? null : intern(recurrenceId),
    organizerEmail: intern(r.string('organizerEmail')),
    organizerId: organizerId === null ? null : intern(organizerId),
    externalId: forPlanning ? NOT_READ : externalId,
    generation: r.number('generation'),
    meetingId: forPlanning && meetingId !== null ? NOT_READ : meetingId,
    joinWebUrl: forPlanning && joinWebUrl !== null ? NOT_READ : joinWebUrl,
    subject: intern(r.string('subject')),
    start: intern(r.string('start')),
    end: intern(r.string('end')),
    // Rows written before the room was kept have no location property: leave the field out, as they were.
    ...(location !== null ? { location: intern(location) } : {}),
    ...(description !== null ? { description: intern(description) } : {}),
    contentHash: same?.contentHash === contentHash ? same.contentHash : contentHash,
    state: r.oneOf('state', MEETING_STATES),
    attempts: r.number('attempts'),
    nextAttemptAt: nextAttemptAt === null ? null : intern(nextAttemptAt),
    lastError: r.jsonOrNull<MeetingError>('lastError'),
    etag: r.etag,
  };
}
