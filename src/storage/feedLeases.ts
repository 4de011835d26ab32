// Fencing between everything that changes one feed's meetings: a sync (any process, any instance), a
// feed's removal. One lease row per feed (ETag-guarded, with an expiry renewed while its holder works)
// in the feeds table, plus a removal request row that a running sync honours.
//
// Expiry is wall-clock time, not a sync's clock (`--now` may be any date): a lease is about whether its
// holder is still working. A holder that died on this machine is recognised at once (its process is
// gone, or its run ended in this process without releasing), so a rerun after a crash need not wait.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import type { TableClient } from '@azure/data-tables';
import { azureTable } from './entity.js';
import { ConcurrencyError, NotFoundError } from './errors.js';
import { entity, readRow, requireFeedId, type StoredRow, type Table } from './table.js';

const LEASE_PARTITION = 'lease';
const REMOVAL_PARTITION = 'removal';

export type LeasePurpose = 'sync' | 'remove';

export interface FeedLease {
  feedId: string;
  /** `host:pid:uuid` of the run holding it. */
  holder: string;
  purpose: LeasePurpose;
  acquiredAt: string;
  expiresAt: string;
  etag: string;
}

/** An admin asked for the feed's removal while a sync held it: the sync stops and removes the feed. */
export interface RemovalRequest {
  feedId: string;
  requestedAt: string;
  cancelFutureMeetings: boolean;
}

export type AcquireResult = { lease: FeedLease } | { heldBy: Omit<FeedLease, 'etag'> };

export interface FeedLeaseRepository {
  /** Takes the feed's lease for `ttlMs` as `holder` (newLeaseHolder), unless a live holder has it. Never waits. */
  acquire(feedId: string, holder: string, purpose: LeasePurpose, ttlMs: number): Promise<AcquireResult>;
  /** Extends the lease; throws ConcurrencyError (or NotFoundError) when it was lost to another holder. */
  renew(lease: FeedLease, ttlMs: number): Promise<FeedLease>;
  /** Gives the lease up (only if still ours). */
  release(lease: FeedLease): Promise<void>;
  requestRemoval(request: RemovalRequest): Promise<void>;
  removalRequest(feedId: string): Promise<RemovalRequest | null>;
  clearRemovalRequest(feedId: string): Promise<void>;
}

const HOST = hostname();
/** Holders of runs in this process that have not ended: a lease of this process not listed here is dead. */
const liveInProcess = new Set<string>();

/** A new holder id for one run, live in this process until `ended()` (call it however the run ends). */
export function newLeaseHolder(): { id: string; ended(): void } {
  const id = `${HOST}:${process.pid}:${randomUUID()}`;
  liveInProcess.add(id);
  return { id, ended: () => liveInProcess.delete(id) };
}

/** Whether the holder is known to be gone: only provable on this machine. */
export function holderIsDead(holder: string): boolean {
  const [host, pidText] = holder.split(':');
  if (host !== HOST) return false;
  const pid = Number(pidText);
  if (pid === process.pid) return !liveInProcess.has(holder);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists (another user's). ESRCH: no such process.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function createFeedLeaseRepository(client: TableClient, table: string): FeedLeaseRepository {
  return feedLeaseRepository(azureTable(client, table), () => Date.now());
}

/** The repository on any Table adapter; `clock` is wall-clock milliseconds. */
export function feedLeaseRepository(rows: Table, clock: () => number): FeedLeaseRepository {
  const table = rows.name;
  const iso = (ms: number) => new Date(ms).toISOString();

  const fromRow = (row: StoredRow): FeedLease => {
    const r = readRow(row, table);
    return {
      feedId: r.rowKey,
      holder: r.string('holder'),
      purpose: r.string('purpose') === 'remove' ? 'remove' : 'sync',
      acquiredAt: r.string('acquiredAt'),
      expiresAt: r.string('expiresAt'),
      etag: r.etag,
    };
  };
  const leaseRow = (lease: Omit<FeedLease, 'etag'>) =>
    entity(LEASE_PARTITION, requireFeedId(lease.feedId), {
      holder: lease.holder,
      purpose: lease.purpose,
      acquiredAt: lease.acquiredAt,
      expiresAt: lease.expiresAt,
    });

  return {
    async acquire(feedId, holder, purpose, ttlMs) {
      const now = clock();
      const current = await rows.read(LEASE_PARTITION, requireFeedId(feedId));
      const existing = current && fromRow(current);
      if (existing && Date.parse(existing.expiresAt) > now && !holderIsDead(existing.holder)) {
        const { etag: _etag, ...heldBy } = existing;
        return { heldBy };
      }
      const lease = { feedId, holder, purpose, acquiredAt: iso(now), expiresAt: iso(now + ttlMs) };
      try {
        const etag = await rows.write(leaseRow(lease), existing?.etag);
        return { lease: { ...lease, etag } };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) && !(error instanceof NotFoundError)) throw error;
        // Another run took it between our read and write (or released it): theirs.
        const winner = await rows.read(LEASE_PARTITION, feedId);
        if (!winner) return this.acquire(feedId, holder, purpose, ttlMs);
        const { etag: _etag, ...heldBy } = fromRow(winner);
        return { heldBy };
      }
    },
    async renew(lease, ttlMs) {
      const renewed = { ...lease, expiresAt: iso(clock() + ttlMs) };
      const etag = await rows.write(leaseRow(renewed), lease.etag);
      return { ...renewed, etag };
    },
    async release(lease) {
      try {
        const current = await rows.read(LEASE_PARTITION, lease.feedId);
        // Written over by a new holder since (ours expired): not ours to delete.
        if (current && fromRow(current).holder === lease.holder) {
          // Expire it instead of deleting: a conditional write, so a lease taken meanwhile stays.
          await rows.write(leaseRow({ ...lease, expiresAt: iso(0) }), current.etag);
        }
      } catch (error) {
        if (!(error instanceof ConcurrencyError) && !(error instanceof NotFoundError)) throw error;
      }
    },
    async requestRemoval(request) {
      const row = entity(REMOVAL_PARTITION, requireFeedId(request.feedId), {
        requestedAt: request.requestedAt,
        cancelFutureMeetings: request.cancelFutureMeetings,
      });
      const current = await rows.read(REMOVAL_PARTITION, request.feedId);
      await rows.write(row, current?.etag);
    },
    async removalRequest(feedId) {
      const row = await rows.read(REMOVAL_PARTITION, requireFeedId(feedId));
      if (!row) return null;
      const r = readRow(row, table);
      return {
        feedId,
        requestedAt: r.string('requestedAt'),
        cancelFutureMeetings: r.boolean('cancelFutureMeetings'),
      };
    },
    async clearRemovalRequest(feedId) {
      await rows.delete(REMOVAL_PARTITION, requireFeedId(feedId));
    },
  };
}
