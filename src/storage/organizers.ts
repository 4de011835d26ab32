import type { TableClient } from '@azure/data-tables';
import type { OrganizerRecord } from '../core/state.js';
import { InvalidInputError } from './errors.js';
import { azureTable } from './entity.js';
import { entity, readRow, type StoredRow, type Table } from './table.js';

const ORGANIZER_PARTITION = 'organizer';

export interface OrganizerRepository {
  /** Looks up by e-mail (normalised here: trimmed, lower-case). */
  get(email: string): Promise<OrganizerRecord | null>;
  /** Same etag semantics as meetings.put; stores the normalised e-mail. */
  put(record: OrganizerRecord): Promise<OrganizerRecord>;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * E-mail addresses may contain `/`, `#`, `?` (RFC 5322 atext), which keys may not: the RowKey is the
 * base64url of the normalised address (alphabet A-Z a-z 0-9 - _), reversible, and the address is also
 * stored as a property for humans reading the table.
 */
export function organizerRowKey(email: string): string {
  const normalised = normaliseEmail(email);
  if (normalised.length === 0 || normalised.length > 320) {
    throw new InvalidInputError('organizer e-mail must be 1-320 characters');
  }
  return Buffer.from(normalised, 'utf8').toString('base64url');
}

export function createOrganizerRepository(client: TableClient, table: string): OrganizerRepository {
  return organizerRepository(azureTable(client, table));
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function organizerRepository(rows: Table): OrganizerRepository {
  const table = rows.name;
  return {
    async get(email) {
      const row = await rows.read(ORGANIZER_PARTITION, organizerRowKey(email));
      return row && fromEntity(row, table);
    },
    async put(record) {
      const email = normaliseEmail(record.email);
      const row = entity(ORGANIZER_PARTITION, organizerRowKey(email), {
        email,
        objectId: record.objectId,
        displayName: record.displayName,
        notFound: record.notFound,
        resolvedAt: record.resolvedAt,
        expiresAt: record.expiresAt,
      });
      const etag = await rows.write(row, record.etag);
      return { ...record, email, etag };
    },
  };
}

function fromEntity(row: StoredRow, table: string): OrganizerRecord {
  const r = readRow(row, table);
  return {
    email: r.string('email'),
    objectId: r.stringOrNull('objectId'),
    displayName: r.stringOrNull('displayName'),
    notFound: r.boolean('notFound'),
    resolvedAt: r.string('resolvedAt'),
    expiresAt: r.string('expiresAt'),
    etag: r.etag,
  };
}
