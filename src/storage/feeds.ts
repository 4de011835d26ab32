import type { TableClient } from '@azure/data-tables';
import { azureTable } from './entity.js';
import { ConcurrencyError, ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import {
  entity,
  jsonOrNull,
  readPartition,
  readRow,
  requireFeedId,
  type Entity,
  type StoredRow,
  type Table,
} from './table.js';
import type { FeedCreationGuard, FeedGuard, FeedRecord, RunSummary } from './types.js';

/** All feeds share one partition: there are few of them and list() must be one query. */
const FEED_PARTITION = 'feed';

export interface FeedRepository {
  get(id: string): Promise<FeedRecord | null>;
  list(): Promise<FeedRecord[]>;
  /** Throws ConflictError when a feed with this id exists. */
  create(record: FeedRecord): Promise<FeedRecord>;
  /** Replaces the row If-Match `record.etag`: ConcurrencyError on a lost race, NotFoundError if deleted. */
  update(record: FeedRecord): Promise<FeedRecord>;
  /** Throws NotFoundError when there is no such feed. */
  delete(id: string): Promise<void>;
}

export function createFeedRepository(client: TableClient, table: string): FeedRepository {
  return feedRepository(azureTable(client, table));
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function feedRepository(rows: Table): FeedRepository {
  const table = rows.name;
  return {
    async get(id) {
      const row = await rows.read(FEED_PARTITION, requireFeedId(id));
      return row && fromEntity(row, table);
    },
    async list() {
      const stored = await readPartition(rows, FEED_PARTITION);
      return stored.map((row) => fromEntity(row, table));
    },
    async create(record) {
      try {
        const etag = await rows.write(toEntity(record), undefined);
        return { ...record, etag };
      } catch (error) {
        // An insert can only lose to an existing row: for a feed that is the admin's duplicate id.
        if (error instanceof ConcurrencyError) {
          throw new ConflictError(`feed ${record.id} already exists`, { cause: error });
        }
        throw error;
      }
    },
    async update(record) {
      if (!record.etag)
        throw new InvalidInputError(`feeds.update(${record.id}) needs the etag the record was read with`);
      const etag = await rows.write(toEntity(record), record.etag);
      return { ...record, etag };
    },
    async delete(id) {
      const deleted = await rows.delete(FEED_PARTITION, requireFeedId(id));
      if (!deleted) throw new NotFoundError(`feed ${id} does not exist`, `${table}/${FEED_PARTITION}/${id}`);
    },
  };
}

function toEntity(record: FeedRecord): Entity {
  if (record.source !== 'url' && record.source !== 'upload') {
    throw new InvalidInputError(`feed ${record.id}: source must be 'url' or 'upload'`);
  }
  return entity(FEED_PARTITION, requireFeedId(record.id), {
    source: record.source,
    url: record.url,
    defaultOrganizer: record.defaultOrganizer,
    timeZone: record.timeZone,
    horizonDays: record.horizonDays,
    enabled: record.enabled,
    httpEtag: record.httpEtag,
    httpLastModified: record.httpLastModified,
    contentHash: record.contentHash,
    bodyVersion: record.bodyVersion,
    lastSyncedHash: record.lastSyncedHash,
    lastSyncedHorizonDay: record.lastSyncedHorizonDay,
    nextDueRetryAt: record.nextDueRetryAt,
    cancellationsConfirmedAt: record.cancellationsConfirmedAt,
    guard: jsonOrNull(record.guard),
    creationsConfirmedAt: record.creationsConfirmedAt ?? null,
    creationGuard: jsonOrNull(record.creationGuard ?? null),
    calendarToken: record.calendarToken,
    calendarName: record.calendarName ?? null,
    attendance: record.attendance === true ? true : null,
    lastRun: jsonOrNull(record.lastRun),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
}

function fromEntity(row: StoredRow, table: string): FeedRecord {
  const r = readRow(row, table);
  return {
    id: r.rowKey,
    source: r.oneOf('source', ['url', 'upload'] as const),
    url: r.stringOrNull('url'),
    defaultOrganizer: r.stringOrNull('defaultOrganizer'),
    timeZone: r.stringOrNull('timeZone'),
    horizonDays: r.numberOrNull('horizonDays'),
    enabled: r.boolean('enabled'),
    httpEtag: r.stringOrNull('httpEtag'),
    httpLastModified: r.stringOrNull('httpLastModified'),
    contentHash: r.stringOrNull('contentHash'),
    bodyVersion: r.stringOrNull('bodyVersion'),
    lastSyncedHash: r.stringOrNull('lastSyncedHash'),
    lastSyncedHorizonDay: r.stringOrNull('lastSyncedHorizonDay'),
    nextDueRetryAt: r.stringOrNull('nextDueRetryAt'),
    cancellationsConfirmedAt: r.stringOrNull('cancellationsConfirmedAt'),
    guard: r.jsonOrNull<FeedGuard>('guard'),
    calendarToken: r.string('calendarToken'),
    lastRun: r.jsonOrNull<RunSummary>('lastRun'),
    createdAt: r.string('createdAt'),
    updatedAt: r.string('updatedAt'),
    etag: r.etag,
    ...(r.booleanOrNull('attendance') === true ? { attendance: true } : {}),
    ...calendarNameField(r.stringOrNull('calendarName')),
    ...creationFields(
      r.stringOrNull('creationsConfirmedAt'),
      r.jsonOrNull<FeedCreationGuard>('creationGuard'),
    ),
  };
}

/** The creation guard's fields only when set: a row without them reads as before the guard existed. */
function creationFields(
  confirmedAt: string | null,
  guard: FeedCreationGuard | null,
): Pick<FeedRecord, 'creationsConfirmedAt' | 'creationGuard'> {
  return {
    ...(confirmedAt === null ? {} : { creationsConfirmedAt: confirmedAt }),
    ...(guard === null ? {} : { creationGuard: guard }),
  };
}

/** Rows written before the calendar's name was kept have none: leave the field out, as they were. */
function calendarNameField(name: string | null): Pick<FeedRecord, 'calendarName'> {
  return name === null ? {} : { calendarName: name };
}
