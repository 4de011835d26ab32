// The Table Storage port the repositories are written against, and the pure helpers they share: key
// checks, null-free entities, typed reads of stored rows, and the errors a conditional write raises.
// No SDK here (not even at load): the Azure adapter is entity.ts, the in-memory one memoryTable.ts.

import { ConcurrencyError, InvalidInputError, NotFoundError, StorageError } from './errors.js';

export type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;
/** A row as read back: its properties, keys and ETag (the SDK's TableEntityResult has this shape). */
export type StoredRow = Record<string, unknown> & { etag: string; partitionKey?: string; rowKey?: string };

/** One operation of an entity-group transaction (the subset of the SDK's TransactionAction we use). */
export type TableAction =
  | ['create', Entity]
  | ['update', Entity, 'Replace', { etag: string }]
  /** Insert or replace, whatever is there: for rows that are the same whoever writes them (attendance records). */
  | ['upsert', Entity, 'Replace']
  | ['delete', { partitionKey: string; rowKey: string }];

/** One table. Both adapters keep these semantics; test/support/state-store-contract.ts pins them. */
export interface Table {
  readonly name: string;
  /**
   * Insert-only without an etag (the row exists → ConcurrencyError), otherwise replace `If-Match` the
   * etag (stale → ConcurrencyError, row gone → NotFoundError). Never a blind overwrite. Returns the new etag.
   */
  write(row: Entity, etag: string | undefined): Promise<string>;
  /** The row, or null when there is none. */
  read(partitionKey: string, rowKey: string): Promise<StoredRow | null>;
  /**
   * The rows of one partition in RowKey order, mapped as they arrive; `limit` stops after that many;
   * `rowKeyPrefix` keeps only the rows whose RowKey starts with it (a RowKey range, one query).
   */
  mapPartition<T>(
    partitionKey: string,
    map: (row: StoredRow) => T,
    options?: { select?: string[]; limit?: number; rowKeyPrefix?: string },
  ): Promise<T[]>;
  /** Unconditional delete; false when there was no such row. */
  delete(partitionKey: string, rowKey: string): Promise<boolean>;
  /**
   * Submits `actions` (all in `partitionKey`) in transactions of ≤100 and returns the new etag of each
   * action, in order. A failed transaction changes none of its rows and throws the error the single
   * write would (named after the failing row); earlier transactions stay applied.
   */
  submit(
    partitionKey: string,
    actions: TableAction[],
    /** Called with the row count of each transaction that succeeded. */
    onCommitted?: (rows: number) => void,
  ): Promise<(string | undefined)[]>;
}

/** Every row of one partition, all pages. */
export function readPartition(
  table: Table,
  partitionKey: string,
  options: { select?: string[]; limit?: number; rowKeyPrefix?: string } = {},
): Promise<StoredRow[]> {
  return table.mapPartition(partitionKey, (row) => row, options);
}

/** Entity group transactions hold at most 100 operations, all in one partition. */
export const MAX_TRANSACTION_ROWS = 100;

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

export function rowName(table: string, partitionKey: string, rowKey: string): string {
  return `${table}/${partitionKey}/${rowKey}`;
}

/** The errors of a lost conditional write, the same words from both adapters. */
export const writeErrors = {
  /** An insert found the row already there (409). */
  exists: (row: string, cause?: unknown): ConcurrencyError =>
    new ConcurrencyError(`${row} already exists (written by another run)`, row, { cause }),
  /** `If-Match` failed (412). */
  stale: (row: string, cause?: unknown): ConcurrencyError =>
    new ConcurrencyError(`${row} was changed by another writer (ETag mismatch)`, row, { cause }),
  /** A conditional write or delete found no row (404). */
  gone: (row: string, cause?: unknown): NotFoundError =>
    new NotFoundError(`${row} no longer exists`, row, { cause }),
};

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
    const value = this.booleanOrNull(name);
    if (value === null) throw this.corrupt(name, 'a boolean');
    return value;
  }

  booleanOrNull(name: string): boolean | null {
    const value = this.row[name];
    if (value === undefined || value === null) return null;
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
