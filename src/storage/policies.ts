import type { TableClient } from '@azure/data-tables';
import type { PolicyRecord, PolicyStateName } from '../core/state.js';
import { entity, readOne, readPartition, readRow, requireKey, writeRow, type StoredRow } from './entity.js';

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
  return {
    async get(objectId) {
      const row = await readOne(client, table, POLICY_PARTITION, requireKey(objectId, 'policy object id'));
      return row && fromEntity(row, table);
    },
    async list() {
      const rows = await readPartition(client, table, POLICY_PARTITION);
      return rows.map((row) => fromEntity(row, table));
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
      const etag = await writeRow(client, table, row, record.etag);
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
