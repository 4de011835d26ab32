// The Table port (table.ts) in memory, with the service's observable semantics: rows in RowKey
// order, a new ETag per write, insert-only and If-Match writes failing with the errors the Azure
// adapter maps 409/412/404 to, and all-or-nothing transactions of ≤100 rows of one partition.

import { StorageError } from './errors.js';
import {
  MAX_TRANSACTION_ROWS,
  rowName,
  writeErrors,
  type Entity,
  type StoredRow,
  type Table,
  type TableAction,
} from './table.js';

/** A string property holds at most 64 KiB, i.e. 32 Ki UTF-16 code units (PropertyValueTooLarge). */
const MAX_STRING_PROPERTY = 32 * 1024;

/** Where the ETags of one store come from: a counter, so each write gets one never seen before. */
export interface EtagSource {
  next(): string;
}

/**
 * Runs `work` now and answers with a promise, as a service call would: a throw becomes a rejection.
 * Running at call time makes concurrent calls apply in call order, one of the orders the service allows.
 */
export function answer<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}

export function etagCounter(): EtagSource {
  let count = 0;
  return { next: () => `W/"memory-${++count}"` };
}

/** What the service answers 400 to: the Azure adapter reports it as `unavailable` (toStorageError). */
function badRequest(what: string, code: string): StorageError {
  return new StorageError('unavailable', `${what} failed (status 400, ${code})`);
}

/** A copy of `row` as the service would store it, or the 400 it would answer. */
function storable(row: Entity, name: string): Entity {
  const copy: Entity = { partitionKey: row.partitionKey, rowKey: row.rowKey };
  for (const [property, value] of Object.entries(row)) {
    if (property === 'partitionKey' || property === 'rowKey' || value === undefined) continue;
    if (typeof value === 'string') {
      if (value.length > MAX_STRING_PROPERTY) throw badRequest(`write ${name}`, 'PropertyValueTooLarge');
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw badRequest(`write ${name}`, 'InvalidInput');
    } else if (typeof value !== 'boolean' && value !== null) {
      // The repositories store nested values as JSON strings; anything else is a bug to surface here.
      throw new StorageError('unavailable', `write ${name} failed (property ${property} is not a primitive)`);
    }
    // The service keeps no nulls: a null property is simply absent when read back.
    if (value !== null) copy[property] = value;
  }
  return copy;
}

export function createMemoryTable(name: string, etags: EtagSource): Table {
  const partitions = new Map<string, Map<string, StoredRow>>();
  const partition = (key: string): Map<string, StoredRow> => {
    let rows = partitions.get(key);
    if (!rows) partitions.set(key, (rows = new Map<string, StoredRow>()));
    return rows;
  };

  /** The error the service would answer `action` with given the rows as they are, or null when it would pass. */
  const refusal = (
    kind: 'create' | 'update' | 'upsert' | 'delete',
    current: StoredRow | undefined,
    etag: string | undefined,
    row: string,
  ): StorageError | null => {
    if (kind === 'upsert') return null;
    if (kind === 'create') return current ? writeErrors.exists(row) : null;
    if (!current) return writeErrors.gone(row);
    if (kind === 'update' && etag !== '*' && etag !== current.etag) return writeErrors.stale(row);
    return null;
  };

  return {
    name,
    write: (row, etag) =>
      answer(() => {
        const where = rowName(name, row.partitionKey, row.rowKey);
        const copy = storable(row, where);
        const rows = partition(row.partitionKey);
        const error = refusal(etag === undefined ? 'create' : 'update', rows.get(row.rowKey), etag, where);
        if (error) throw error;
        const stored: StoredRow = { ...copy, etag: etags.next() };
        rows.set(row.rowKey, stored);
        return stored.etag;
      }),
    read: (partitionKey, rowKey) =>
      answer(() => {
        const stored = partitions.get(partitionKey)?.get(rowKey);
        return stored ? { ...stored } : null;
      }),
    mapPartition: (partitionKey, map, options = {}) =>
      answer(() => {
        const rows = partitions.get(partitionKey);
        // Table Storage returns a partition in RowKey order (ordinal, i.e. UTF-16 code units, as `<`).
        const prefix = options.rowKeyPrefix ?? '';
        const keys = rows ? [...rows.keys()].filter((key) => key.startsWith(prefix)).sort() : [];
        const limited = options.limit === undefined ? keys : keys.slice(0, options.limit);
        // `select` only trims what the service sends; every property is here anyway.
        return limited.map((key) => map({ ...(rows?.get(key) as StoredRow) }));
      }),
    delete: (partitionKey, rowKey) => answer(() => partitions.get(partitionKey)?.delete(rowKey) ?? false),
    submit: (partitionKey, actions, onCommitted) =>
      answer(() => {
        const etagsOut: (string | undefined)[] = [];
        for (let start = 0; start < actions.length; start += MAX_TRANSACTION_ROWS) {
          etagsOut.push(...commit(partitionKey, actions.slice(start, start + MAX_TRANSACTION_ROWS)));
          onCommitted?.(Math.min(MAX_TRANSACTION_ROWS, actions.length - start));
        }
        return etagsOut;
      }),
  };

  /** One entity-group transaction: every action checked against the rows before any is applied. */
  function commit(partitionKey: string, chunk: TableAction[]): (string | undefined)[] {
    const rows = partition(partitionKey);
    const seen = new Set<string>();
    const staged: { rowKey: string; next: StoredRow | null }[] = chunk.map((action) => {
      const [kind, target] = action;
      const where = rowName(name, partitionKey, target.rowKey);
      if (target.partitionKey !== partitionKey)
        throw badRequest(`write ${where}`, 'CommandsInBatchActOnDifferentPartitions');
      // A transaction may touch a row once.
      if (seen.has(target.rowKey)) throw badRequest(`write ${where}`, 'InvalidDuplicateRow');
      seen.add(target.rowKey);
      const error = refusal(
        kind === 'upsert' ? 'upsert' : kind,
        rows.get(target.rowKey),
        action[0] === 'update' ? action[3].etag : undefined,
        where,
      );
      if (error) throw error;
      if (action[0] === 'delete') return { rowKey: target.rowKey, next: null };
      return { rowKey: target.rowKey, next: { ...storable(action[1], where), etag: '' } };
    });
    return staged.map(({ rowKey, next }) => {
      if (next === null) {
        rows.delete(rowKey);
        return undefined;
      }
      next.etag = etags.next();
      rows.set(rowKey, next);
      return next.etag;
    });
  }
}
