// The Azure adapter of the Table port (table.ts): conditional writes, reads, partition queries and
// transactions on an SDK TableClient, mapping the service's status codes onto our error classes.
// The SDK is imported for its types only: the client comes in as a parameter (stateStore.ts builds it).

import type { TableClient } from '@azure/data-tables';
import { StorageError, restErrorInfo, toStorageError } from './errors.js';
import {
  MAX_TRANSACTION_ROWS,
  rowName,
  writeErrors,
  type Entity,
  type StoredRow,
  type Table,
  type TableAction,
} from './table.js';

// The pure helpers moved to table.ts; re-exported for the modules that import them from here.
export {
  MAX_TRANSACTION_ROWS,
  RowReader,
  entity,
  interner,
  jsonOrNull,
  readRow,
  requireFeedId,
  requireKey,
  rowName,
  validateFeedId,
  type Entity,
  type StoredRow,
  type Table,
  type TableAction,
} from './table.js';

/** The Table port on one Azure table. */
export function azureTable(client: TableClient, table: string): Table {
  return {
    name: table,
    write: (row, etag) => writeRow(client, table, row, etag),
    read: (partitionKey, rowKey) => readOne(client, table, partitionKey, rowKey),
    mapPartition: (partitionKey, map, options) => mapPartition(client, table, partitionKey, map, options),
    delete: (partitionKey, rowKey) => deleteOne(client, table, partitionKey, rowKey),
    submit: (partitionKey, actions, onCommitted) =>
      submitInChunks(client, table, partitionKey, actions, onCommitted),
  };
}

function mapWriteError(error: unknown, row: string, conditional: boolean): StorageError {
  const { statusCode } = restErrorInfo(error);
  if (statusCode === 409) return writeErrors.exists(row, error);
  if (statusCode === 412) return writeErrors.stale(row, error);
  if (statusCode === 404 && conditional) return writeErrors.gone(row, error);
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

/** An OData string literal: quotes doubled (what the SDK's `odata` template tag does for a string). */
function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
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
  options: { select?: string[]; limit?: number; rowKeyPrefix?: string } = {},
): Promise<T[]> {
  const rows: T[] = [];
  const prefix = options.rowKeyPrefix;
  // A prefix is the RowKey range [prefix, prefix with its last character incremented).
  const range = prefix
    ? ` and RowKey ge ${odataString(prefix)} and RowKey lt ${odataString(
        prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
      )}`
    : '';
  try {
    const pages = client
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: `PartitionKey eq ${odataString(partitionKey)}${range}`,
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

/**
 * Submits `actions` (all in `partitionKey`) in transactions of ≤100 and returns the new etag of each
 * action, in order. A failed transaction changes none of its rows; earlier transactions stay applied.
 */
export async function submitInChunks(
  client: TableClient,
  table: string,
  partitionKey: string,
  actions: TableAction[],
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
      const rowKey = failed ? failed[1].rowKey : undefined;
      const name = rowName(table, partitionKey, rowKey ?? '?');
      const conditional = failed ? failed[0] !== 'create' : true;
      throw mapWriteError(error, name, conditional);
    }
  }
  return etags;
}
