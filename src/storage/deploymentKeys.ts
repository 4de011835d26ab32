import type { TableClient } from '@azure/data-tables';
import { ConcurrencyError, InvalidInputError, NotFoundError } from './errors.js';
import { azureTable } from './entity.js';
import { entity, readRow, requireKey, type StoredRow, type Table } from './table.js';

// Per-deployment secrets (e.g. the HMAC key of organizer calendar links), one row per name. The value
// is opaque to this layer (callers store base64 or similar) and never appears in an error message.

const KEY_PARTITION = 'key';
/** A generous bound for an encoded key; far below the 64 KiB a string property may hold. */
const MAX_VALUE_LENGTH = 4096;
/** A rotation that keeps losing races to other rotations gives up after this many tries. */
const ROTATE_ATTEMPTS = 5;

export interface DeploymentKey {
  name: string;
  value: string;
  /** When this value was written (ISO 8601). */
  createdAt: string;
  etag: string;
}

export interface DeploymentKeyRepository {
  get(name: string): Promise<DeploymentKey | null>;
  /**
   * The key called `name`; when there is none, inserts `create()` (insert-only, so instances racing on
   * first use all end up with the one that got there first, which is what they all return).
   */
  getOrCreate(name: string, create: () => string): Promise<DeploymentKey>;
  /**
   * Replaces the key with `value` (inserted when missing), `If-Match` the row just read, never a blind
   * overwrite; when another writer got in between, re-reads and tries again (a few times, then
   * ConcurrencyError). Returns the stored key, whose value is `value`.
   */
  rotate(name: string, value: string): Promise<DeploymentKey>;
}

function requireValue(value: string): string {
  if (value.length === 0 || value.length > MAX_VALUE_LENGTH) {
    throw new InvalidInputError(`a deployment key value must be 1-${MAX_VALUE_LENGTH} characters`);
  }
  return value;
}

export function createDeploymentKeyRepository(
  client: TableClient,
  table: string,
  now: () => Date = () => new Date(),
): DeploymentKeyRepository {
  return deploymentKeyRepository(azureTable(client, table), now);
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function deploymentKeyRepository(
  rows: Table,
  now: () => Date = () => new Date(),
): DeploymentKeyRepository {
  const table = rows.name;
  const get = async (name: string): Promise<DeploymentKey | null> => {
    const row = await rows.read(KEY_PARTITION, requireKey(name, 'deployment key name'));
    return row && fromEntity(row, table);
  };
  const write = async (name: string, value: string, etag: string | undefined): Promise<DeploymentKey> => {
    const createdAt = now().toISOString();
    const newEtag = await rows.write(entity(KEY_PARTITION, name, { value, createdAt }), etag);
    return { name, value, createdAt, etag: newEtag };
  };

  return {
    get,
    async getOrCreate(name, create) {
      const existing = await get(name);
      if (existing) return existing;
      try {
        return await write(name, requireValue(create()), undefined);
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        // Another instance inserted first: use theirs.
        const winner = await get(name);
        if (winner) return winner;
        throw error; // inserted and deleted again in between: not something this app does
      }
    },
    async rotate(name, value) {
      requireKey(name, 'deployment key name');
      requireValue(value);
      for (let attempt = 1; ; attempt += 1) {
        const current = await get(name);
        try {
          return await write(name, value, current?.etag);
        } catch (error) {
          const raced = error instanceof ConcurrencyError || error instanceof NotFoundError;
          if (!raced || attempt >= ROTATE_ATTEMPTS) throw error;
        }
      }
    },
  };
}

function fromEntity(row: StoredRow, table: string): DeploymentKey {
  const r = readRow(row, table);
  return { name: r.rowKey, value: r.string('value'), createdAt: r.string('createdAt'), etag: r.etag };
}
