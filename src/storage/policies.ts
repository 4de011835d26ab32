import type { TableClient } from '@azure/data-tables';
import type { PolicyRecord, PolicyStateName } from '../core/state.js';
import { azureTable } from './entity.js';
import { entity, readPartition, readRow, requireKey, type StoredRow, type Table } from './table.js';

const POLICY_PARTITION = 'policy';
const POLICY_STATES: readonly PolicyStateName[] = ['unknown', 'granted', 'propagating', 'active', 'missing'];

export interface PolicyRepository {
  /** By organizer object id, or 'global' for the tenant-wide grant. */
  get(objectId: string): Promise<PolicyRecord | null>;
  list(): Promise<PolicyRecord[]>;
  /** Same etag semantics as meetings.put. */
  put(record: PolicyRecord): Promise<PolicyRecord>;
}

export function createPolicyRepository(client: TableClient, table: string): PolicyRepository {
  return policyRepository(azureTable(client, table));
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function policyRepository(rows: Table): PolicyRepository {
  const table = rows.name;
  return {
    async get(objectId) {
      const row = await rows.read(POLICY_PARTITION, requireKey(objectId, 'policy object id'));
      return row && fromEntity(row, table);
    },
    async list() {
      const stored = await readPartition(rows, POLICY_PARTITION);
      return stored.map((row) => fromEntity(row, table));
    },
    async put(record) {
      const row = entity(POLICY_PARTITION, requireKey(record.objectId, 'policy object id'), {
        state: record.state,
        grantedAt: record.grantedAt,
        verifiedAt: record.verifiedAt,
        firstDeniedAt: record.firstDeniedAt,
        lastDeniedAt: record.lastDeniedAt,
        lastProbeAt: record.lastProbeAt,
      });
      const etag = await rows.write(row, record.etag);
      return { ...record, etag };
    },
  };
}

function fromEntity(row: StoredRow, table: string): PolicyRecord {
  const r = readRow(row, table);
  return {
    objectId: r.rowKey,
    state: r.oneOf('state', POLICY_STATES),
    grantedAt: r.stringOrNull('grantedAt'),
    verifiedAt: r.stringOrNull('verifiedAt'),
    firstDeniedAt: r.stringOrNull('firstDeniedAt'),
    lastDeniedAt: r.stringOrNull('lastDeniedAt'),
    lastProbeAt: r.stringOrNull('lastProbeAt'),
    etag: r.etag,
  };
}
