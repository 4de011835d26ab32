// Shared Table Storage plumbing: key checks, null-free entities, typed reads of stored rows, and
// conditional writes that map the service's status codes onto our error classes.

import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import {
  ConcurrencyError,
  InvalidInputError,
  NotFoundError,
  StorageError,
  restErrorInfo,
  toStorageError,
} from './errors.js';

export type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;
export type StoredRow = TableEntityResult<Record<string, unknown>>;

// https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#characters-disallowed-in-key-fields
// eslint-disable-next-line no-control-regex
const DISALLOWED_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
/** Keys may be up to 1 KiB; our keys are far shorter, so a long one is a bug worth refusing early. */
const MAX_KEY_LENGTH = 512;

const FEED_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** Returns why `id` cannot be a feed id, or null when it can. Safe to show to the admin who chose it. */
export function validateFeedId(id: string): string | null {
  if (FEED_ID.test(id)) return null;
  return `feed id ${JSON.stringify(id.slice(0, 80))} is invalid: use 1-63 letters, digits, '-' or '_', starting with a letter or digit`;
}

export function requireFeedId(id: string): string {
  const problem = validateFeedId(id);
  if (problem) throw new InvalidInputError(problem);
  return id;
}

export function requireKey(value: string, what: string): string {
  if (value.length === 0 || value.length > MAX_KEY_LENGTH || DISALLOWED_KEY_CHARS.test(value)) {
    throw new InvalidInputError(
      `${what} cannot be a storage key (empty, longer than ${MAX_KEY_LENGTH}, or contains / \\ # ? or a control character)`,
    );
  }
  return value;
}

/** Tables cannot store null: a null or undefined property is left out, and read back as null. */
export function entity(partitionKey: string, rowKey: string, properties: Record<string, unknown>): Entity {
  const result: Entity = { partitionKey, rowKey };
  for (const [name, value] of Object.entries(properties)) {
    if (value !== null && value !== undefined) result[name] = value;
  }
  return result;
}

/** Nested objects are stored as JSON strings (Tables has no nested types). */
export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Typed, checked reads of one stored row: a row of the wrong shape is a `corruptRow` error, not a crash later. */
export function readRow(row: StoredRow, table: string): RowReader {
  return new RowReader(row, table);
}

/** readRow()'s reader: methods on the prototype, so reading a partition of 200,000 rows makes no closures per row. */
export class RowReader {
  readonly etag: string;
  readonly partitionKey: string;
  readonly rowKey: string;

  constructor(
    private readonly row: StoredRow,
    private readonly table: string,
  ) {
    this.etag = row.etag;
    this.partitionKey = row.partitionKey ?? '';
    this.rowKey = row.rowKey ?? '';
  }

  get where(): string {
    return `${this.table}/${this.row.partitionKey}/${this.row.rowKey}`;
  }

  private corrupt(name: string, expected: string): StorageError {
    return new StorageError('corruptRow', `${this.where}: property ${name} is not ${expected}`);
  }

  stringOrNull(name: string): string | null {
    const value = this.row[name];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw this.corrupt(name, 'a string');
    return value;
  }

  string(name: string): string {
    const value = this.stringOrNull(name);
    if (value === null) throw this.corrupt(name, 'a string');
    return value;
  }

  numberOrNull(name: string): number | null {
    const value = this.row[name];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.corrupt(name, 'a number');
    return value;
  }

  number(name: string): number {
    const value = this.numberOrNull(name);
    if (value === null) throw this.corrupt(name, 'a number');
    return value;
  }

  boolean(name: string): boolean {
    const value = this.row[name];
    if (typeof value !== 'boolean') throw this.corrupt(name, 'a boolean');
    return value;
  }

  /** Returns the element of `allowed` itself (not the row's copy of it), so the row's string can go. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    const index = (allowed as readonly string[]).indexOf(value);
    if (index < 0) throw this.corrupt(name, `one of ${allowed.join(', ')}`);
    return allowed[index] as T;
  }

  jsonOrNull<T>(name: string): T | null {
    const text = this.stringOrNull(name);
    if (text === null) return null;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null) throw new Error('not an object');
      return value as T;
    } catch {
      throw this.corrupt(name, 'a JSON object');
    }
  }
}

/**
 * One copy of each distinct string: the rows of a partition repeat the same few hundred organizers,
 * subjects and instants thousands of times, each its own string as parsed from the response. One
 * interner per read; strings are interned by value, so what callers see is unchanged.
 */
export function interner(): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    seen.set(value, value);
    return value;
  };
}

export function rowName(table: string, partitionKey: string, rowKey: string): string {
  return `${table}/${partitionKey}/${rowKey}`;
}

function mapWriteError(error: unknown, row: string, conditional: boolean): StorageError {
  const { statusCode } = restErrorInfo(error);
  if (statusCode === 409)
    return new ConcurrencyError(`${row} already exists (written by another run)`, row, { cause: error });
  if (statusCode === 412)
    return new ConcurrencyError(`${row} was changed by another writer (ETag mismatch)`, row, {
      cause: error,
    });
  if (statusCode === 404 && conditional)
    return new NotFoundError(`${row} no longer exists`, row, { cause: error });
  return toStorageError(error, `write ${row}`);
}

/**
 * Insert-only without an etag (a concurrent insert → ConcurrencyError), otherwise replace `If-Match`
 * the etag (412 → ConcurrencyError, 404 → NotFoundError). Never a blind overwrite. Returns the new etag.
 */
export async function writeRow(
  client: TableClient,
  table: string,
  row: Entity,
  etag: string | undefined,
): Promise<string> {
  const name = rowName(table, row.partitionKey, row.rowKey);
  try {
    const response =
      etag === undefined
        ? await client.createEntity(row)
        : await client.updateEntity(row, 'Replace', { etag });
    if (!response.etag) throw new StorageError('unavailable', `write ${name}: the service returned no ETag`);
    return response.etag;
  } catch (error) {
    throw mapWriteError(error, name, etag !== undefined);
  }
}

export async function readOne(
  client: TableClient,
  table: string,
  partitionKey: string,
  rowKey: string,
): Promise<StoredRow | null> {
  try {
    return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
  } catch (error) {
    if (restErrorInfo(error).statusCode === 404) return null;
    throw toStorageError(error, `read ${rowName(table, partitionKey, rowKey)}`);
  }
}

/** Every row of one partition, all pages (the SDK's iterator follows continuation tokens). */
export async function readPartition(
  client: TableClient,
  table: string,
  partitionKey: string,
  options: { select?: string[]; limit?: number } = {},
): Promise<StoredRow[]> {
  return mapPartition(client, table, partitionKey, (row) => row, options);
}

/**
 * readPartition(), mapping each row as its page arrives: only one page of the SDK's rows (with their
 * odata metadata, Timestamp dates and per-row strings) is alive at a time, not the whole partition.
 */
export async function mapPartition<T>(
  client: TableClient,
  table: string,
  partitionKey: string,
  map: (row: StoredRow) => T,
  options: { select?: string[]; limit?: number } = {},
): Promise<T[]> {
  const rows: T[] = [];
  try {
    const pages = client
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partitionKey}`,
          ...(options.select ? { select: options.select } : {}),
        },
      })
      .byPage(options.limit === undefined ? {} : { maxPageSize: Math.min(options.limit, 1000) });
    for await (const page of pages) {
      for (const row of page) {
        rows.push(map(row));
        if (options.limit !== undefined && rows.length >= options.limit) return rows;
      }
    }
    return rows;
  } catch (error) {
    throw toStorageError(error, `query ${table}/${partitionKey}`);
  }
}

export async function deleteOne(
  client: TableClient,
  table: string,
  partitionKey: string,
  rowKey: string,
): Promise<boolean> {
  try {
    await client.deleteEntity(partitionKey, rowKey);
    return true;
  } catch (error) {
    if (restErrorInfo(error).statusCode === 404) return false;
    throw toStorageError(error, `delete ${rowName(table, partitionKey, rowKey)}`);
  }
}

/** Entity group transactions hold at most 100 operations, all in one partition. */
export const MAX_TRANSACTION_ROWS = 100;

/**
 * Submits `actions` (all in `partitionKey`) in transactions of ≤100 and returns the new etag of each
 * action, in order. A failed transaction changes none of its rows; earlier transactions stay applied.
 */
export async function submitInChunks(
  client: TableClient,
  table: string,
  partitionKey: string,
  actions: TransactionAction[],
  /** Called with the row count of each transaction that succeeded. */
  onCommitted?: (rows: number) => void,
): Promise<(string | undefined)[]> {
  const etags: (string | undefined)[] = [];
  for (let start = 0; start < actions.length; start += MAX_TRANSACTION_ROWS) {
    const chunk = actions.slice(start, start + MAX_TRANSACTION_ROWS);
    try {
      const response = await client.submitTransaction(chunk);
      // Sub-responses come back in request order; an update's sub-response carries no RowKey.
      chunk.forEach((_action, index) => etags.push(response.subResponses[index]?.etag));
      onCommitted?.(chunk.length);
    } catch (error) {
      // The service prefixes the message with the index of the failing operation ("12:The update …").
      const message = error instanceof Error ? error.message : '';
      const index = /^(\d+):/.exec(message)?.[1];
      const failed = index === undefined ? undefined : chunk[Number(index)];
      const rowKey = failed ? (failed[1] as { rowKey?: string }).rowKey : undefined;
      const name = rowName(table, partitionKey, rowKey ?? '?');
      const conditional = failed ? failed[0] !== 'create' : true;
      throw mapWriteError(error, name, conditional);
    }
  }
  return etags;
}
