import type { TableClient } from '@azure/data-tables';
import type {
  CreationLease,
  OrganizerRecord,
  OrganizerRefusal,
  OrganizerStatusRecord,
} from '../core/state.js';
import { InvalidInputError } from './errors.js';
import { azureTable } from './entity.js';
import { entity, jsonOrNull, readRow, requireKey, type StoredRow, type Table } from './table.js';

const ORGANIZER_PARTITION = 'organizer';
/** Per object id (not per e-mail: aliases share one account and one monthly limit). */
const STATUS_PARTITION = 'status';

export interface OrganizerRepository {
  /** Looks up by e-mail (normalised here: trimmed, lower-case). */
  get(email: string): Promise<OrganizerRecord | null>;
  /** Same etag semantics as meetings.put; stores the normalised e-mail. */
  put(record: OrganizerRecord): Promise<OrganizerRecord>;
  /** The organizer's standing refusal and monthly count, by Entra object id. */
  getStatus(objectId: string): Promise<OrganizerStatusRecord | null>;
  /** Same etag semantics as meetings.put (runs of several feeds share one organizer's count). */
  putStatus(record: OrganizerStatusRecord): Promise<OrganizerStatusRecord>;
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
        userType: record.userType,
        accountEnabled: record.accountEnabled,
        resolvedAt: record.resolvedAt,
        expiresAt: record.expiresAt,
      });
      const etag = await rows.write(row, record.etag);
      return { ...record, email, etag };
    },
    async getStatus(objectId) {
      const row = await rows.read(STATUS_PARTITION, requireKey(objectId, 'organizer object id'));
      return row && statusFromEntity(row, table);
    },
    async putStatus(record) {
      const row = entity(STATUS_PARTITION, requireKey(record.objectId, 'organizer object id'), {
        refusal: jsonOrNull(record.refusal),
        month: record.month,
        created: record.created,
        leases: record.leases.length > 0 ? JSON.stringify(record.leases) : null,
      });
      const etag = await rows.write(row, record.etag);
      return { ...record, etag };
    },
  };
}

function statusFromEntity(row: StoredRow, table: string): OrganizerStatusRecord {
  const r = readRow(row, table);
  return {
    objectId: r.rowKey,
    refusal: r.jsonOrNull<OrganizerRefusal>('refusal'),
    month: r.stringOrNull('month'),
    created: r.number('created'),
    leases: r.jsonOrNull<CreationLease[]>('leases') ?? [],
    etag: r.etag,
  };
}

function fromEntity(row: StoredRow, table: string): OrganizerRecord {
  const r = readRow(row, table);
  return {
    email: r.string('email'),
    objectId: r.stringOrNull('objectId'),
    displayName: r.stringOrNull('displayName'),
    notFound: r.boolean('notFound'),
    userType: r.stringOrNull('userType'),
    accountEnabled: r.booleanOrNull('accountEnabled'),
    resolvedAt: r.string('resolvedAt'),
    expiresAt: r.string('expiresAt'),
    etag: r.etag,
  };
}
