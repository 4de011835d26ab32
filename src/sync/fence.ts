// A run's hold on one feed: the feed's lease (storage/feedLeases.ts), renewed in the background while
// the run works. A run that loses its lease, or whose feed an admin asked to remove meanwhile, is told
// through `onStop` and starts nothing new; rows it still writes are ETag-guarded like any other write.
import type { PlannedOperation } from '../core/plan.js';
import { AppError } from '../errors.js';
import type { EventLogger } from '../events.js';
import {
  ConcurrencyError,
  NotFoundError,
  newLeaseHolder,
  type FeedLease,
  type RemovalRequest,
  type StateStore,
} from '../storage/index.js';
import { applyOperations, type ApplyRun } from './apply/index.js';

/** How long a lease lasts without renewal: a crashed holder on another instance blocks the feed this long. */
export const LEASE_TTL_MS = 60_000;
/** Renewed this often, so two renewals may fail (a slow storage call) before the lease lapses. */
const RENEW_EVERY_MS = 20_000;

export class FeedBusyError extends AppError {
  override name = 'FeedBusyError';
  constructor(
    readonly feedId: string,
    readonly heldBy: { purpose: string; expiresAt: string },
  ) {
    super(
      'feedBusy',
      `feed '${feedId}' is being ${heldBy.purpose === 'remove' ? 'removed' : 'synced'} by another run (its lease runs until ${heldBy.expiresAt} unless renewed)`,
      { isUserError: true },
    );
  }
}

export interface Fence {
  readonly lease: FeedLease;
  /** Why the run may no longer change the feed (its lease was lost or could not be renewed); else null. */
  readonly lostReason: string | null;
  /** A removal an admin requested while this run held the feed. */
  readonly removal: RemovalRequest | null;
  /** `callback` once the lease is lost (at once if it already is). */
  onLost(callback: (reason: string) => void): void;
  /** `callback` once a removal is requested (at once if it already was). */
  onRemovalRequested(callback: () => void): void;
  /** Reads the removal request now (the renewals look only every so often). */
  checkRemoval(): Promise<RemovalRequest | null>;
}

export interface FenceDeps {
  store: Pick<StateStore, 'feedLeases'>;
  logger: EventLogger;
  /** How often the lease is renewed and a removal request looked for (default 20 s). */
  leaseRenewMs?: number;
}

/**
 * Runs `work` holding the feed's lease; throws FeedBusyError (without running it) when another live run
 * holds it. `watchRemoval`: a sync also polls for a removal request at each renewal.
 */
export async function withFeedLease<T>(
  deps: FenceDeps,
  feedId: string,
  purpose: 'sync' | 'remove',
  work: (fence: Fence) => Promise<T>,
): Promise<T> {
  const leases = deps.store.feedLeases;
  const holder = newLeaseHolder();
  try {
    const acquired = await leases.acquire(feedId, holder.id, purpose, LEASE_TTL_MS);
    if ('heldBy' in acquired) throw new FeedBusyError(feedId, acquired.heldBy);
    const fence = new RenewedFence(deps, acquired.lease);
    const timer = setInterval(() => {
      void fence.renew(purpose === 'sync');
    }, deps.leaseRenewMs ?? RENEW_EVERY_MS);
    timer.unref();
    try {
      return await work(fence);
    } finally {
      clearInterval(timer);
      await fence.settled();
      await leases.release(fence.lease).catch((error: unknown) => {
        // Unreleased, it lapses after LEASE_TTL_MS; the next run waits at most that long.
        deps.logger.warning('feed.lease.unreleased', {
          feedId,
          reason: error instanceof Error ? error.message : String(error),
        });
      });
    }
  } finally {
    holder.ended();
  }
}

class RenewedFence implements Fence {
  lostReason: string | null = null;
  removal: RemovalRequest | null = null;
  private lostCallbacks: Array<(reason: string) => void> = [];
  private removalCallbacks: Array<() => void> = [];
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: FenceDeps,
    public lease: FeedLease,
  ) {}

  onLost(callback: (reason: string) => void): void {
    if (this.lostReason !== null) callback(this.lostReason);
    else this.lostCallbacks.push(callback);
  }

  onRemovalRequested(callback: () => void): void {
    if (this.removal !== null) callback();
    else this.removalCallbacks.push(callback);
  }

  settled(): Promise<void> {
    return this.renewing;
  }

  async checkRemoval(): Promise<RemovalRequest | null> {
    const removal = await this.deps.store.feedLeases.removalRequest(this.lease.feedId);
    if (removal) this.requestRemoval(removal);
    return this.removal;
  }

  renew(watchRemoval: boolean): Promise<void> {
    const deps = this.deps;
    this.renewing = this.renewing.then(async () => {
      if (this.lostReason !== null) return;
      const leases = deps.store.feedLeases;
      try {
        this.lease = await leases.renew(this.lease, LEASE_TTL_MS);
      } catch (error) {
        if (error instanceof ConcurrencyError || error instanceof NotFoundError) {
          deps.logger.error('feed.lease.lost', {
            feedId: this.lease.feedId,
            reason: 'another run took the feed after this run failed to renew its lease in time',
          });
          this.lose('the feed lease was lost to another run');
        } else {
          this.lose(
            `the feed lease could not be renewed (${error instanceof Error ? error.message : String(error)})`,
          );
        }
        return;
      }
      if (!watchRemoval || this.removal !== null) return;
      const removal = await leases.removalRequest(this.lease.feedId).catch(() => null);
      if (removal) this.requestRemoval(removal);
    });
    return this.renewing;
  }

  /** A removal request seen by the holder itself (at the start or end of its run). */
  requestRemoval(removal: RemovalRequest): void {
    if (this.removal !== null) return;
    this.removal = removal;
    for (const callback of this.removalCallbacks.splice(0)) callback();
  }

  private lose(reason: string): void {
    if (this.lostReason !== null) return;
    this.lostReason = reason;
    for (const callback of this.lostCallbacks.splice(0)) callback(reason);
  }
}

/** Stops a run's lanes when a removal is requested; the run then removes the feed itself. */
class RemovalRequestedStop extends Error {
  override name = 'RemovalRequestedStop';
}

/**
 * Applies operations under the fence: a lost lease stops the lanes (and is thrown once they drain, so
 * the queue redelivers); with `removable`, a removal request stops them quietly (the caller then
 * removes the feed) — not while applying the removal itself.
 */
export async function applyFenced(
  run: ApplyRun,
  operations: readonly PlannedOperation[],
  fence: Fence,
  options: { removable: boolean },
): Promise<void> {
  fence.onLost((reason) =>
    run.stop({
      code: 'leaseLost',
      message: reason,
      error: new AppError('leaseLost', `feed '${run.feedId}': ${reason}`),
    }),
  );
  if (options.removable)
    fence.onRemovalRequested(() =>
      run.stop({
        code: 'removalRequested',
        message: 'an admin asked for the feed to be removed',
        error: new RemovalRequestedStop('removal requested'),
      }),
    );
  try {
    await applyOperations(run, operations);
  } catch (error) {
    if (!(error instanceof RemovalRequestedStop)) throw error;
  }
}
