// Handlers behind the sync triggers: the timer fans out one queue message per enabled feed; the queue
// trigger syncs one feed (the unit Azure Functions scales out and retries).
import type { InvocationContext } from '@azure/functions';

import { credentialStatus } from '../admin/status.js';
import { getServices, type AppServices } from '../compose.js';
import { describeError } from '../errors.js';
import { contextSink, createEventLogger, type EventLogger } from '../events.js';
import { createFeedFetcher } from '../feeds/fetch.js';
import { isStorageFailure } from '../storage/errors.js';
import { decodeSyncMessage, type RunSummary, type SyncMessage } from '../storage/index.js';
import { storageUnavailableEvent } from '../sync/apply/run.js';
import { FeedBusyError } from '../sync/fence.js';
import { FeedNotFoundError, syncFeed, type SyncDeps } from '../sync/syncFeed.js';

/** After this many deliveries the host moves the message to the poison queue (host.json maxDequeueCount). */
export const MAX_DEQUEUE_COUNT = 5;
/** A deferred sync is tried again at most this much later (a lease lasts a minute unless renewed). */
const MAX_DEFER_SECONDS = 120;

export function syncDepsFor(services: AppServices, logger: EventLogger): SyncDeps {
  if (!services.graph)
    throw new Error('GRAPH_TENANT_ID: Graph settings are required to sync (see README, Configuration)');
  return {
    store: services.store,
    graph: services.graph,
    limiter: services.limiter,
    logger,
    config: services.config,
    now: services.now,
    fetchFeed: createFeedFetcher(services.config.sync),
  };
}

/** Timer: one message per enabled feed; unchanged feeds cost the queue handler one read. */
export async function fanOutSync(context: InvocationContext, services?: AppServices): Promise<SyncMessage[]> {
  const { store, now, config } = services ?? (await getServices());
  const logger = createEventLogger(contextSink(context));
  const requestedAt = now().toISOString();
  const feeds = await store.feeds.list();
  const messages = feeds
    .filter((feed) => feed.enabled)
    .map((feed) => ({ feedId: feed.id, reason: 'schedule', requestedAt }));
  const poison = await store.syncQueue.peekPoison(10);
  if (poison.count > 0) {
    logger.error('sync.poison', {
      count: poison.count,
      feedIds: poison.feedIds,
      action: `a feed failed ${MAX_DEQUEUE_COUNT} times in a row: see its sync.run.completed events, fix the cause, then clear the ${store.syncQueue.poisonName} queue`,
    });
  }
  const credential = credentialStatus(config, now());
  if (credential.daysLeft !== null && credential.daysLeft < 30) {
    logger[credential.daysLeft < 7 ? 'error' : 'warning']('credential.expiring', {
      expiresAt: credential.expiresAt,
      daysLeft: credential.daysLeft,
      action:
        'upload a new certificate to the app registration and Key Vault (README: Rotating the Graph credential)',
    });
  }
  logger.info('sync.fanout', { feeds: feeds.length, enqueued: messages.length });
  return messages;
}

/** Queue: sync one feed. Throws only for failures worth a redelivery (storage down, credential missing). */
export async function syncFeedFromMessage(
  message: unknown,
  context: InvocationContext,
  services?: AppServices,
): Promise<RunSummary | null> {
  // Whether this run already said the storage is unavailable (ApplyRun stops on it): said once per run.
  let storageReported = false;
  const logger = createEventLogger(contextSink(context), (event) => {
    if (event.name === 'storage.unavailable') storageReported = true;
  });
  const parsed =
    typeof message === 'object' && message !== null
      ? decodeSyncMessage(JSON.stringify(message))
      : decodeSyncMessage(String(message));
  if (!parsed) {
    // A malformed message can never succeed: drop it with an error instead of poisoning the queue.
    logger.error('sync.message.invalid', { reason: 'queue message is not {"feedId": ...}' });
    return null;
  }
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  // This delivery failed and the host redelivers it, or, after the last one, moves it to the poison queue.
  const deliveryFailed = (reason: string) =>
    logger[dequeueCount >= MAX_DEQUEUE_COUNT ? 'error' : 'warning'](
      dequeueCount >= MAX_DEQUEUE_COUNT ? 'sync.poison' : 'sync.run.crashed',
      { feedId: parsed.feedId, dequeueCount, reason },
    );
  try {
    const resolved = services ?? (await getServices());
    const run = () =>
      syncFeed(syncDepsFor(resolved, logger), parsed.feedId, { force: parsed.force === true });
    // Several instances sync at once: they share the tenant's Graph ceiling (src/sync/rateShare.ts).
    return await (resolved.rateShare ? resolved.rateShare.during(logger, run) : run());
  } catch (error) {
    if (error instanceof FeedNotFoundError) {
      logger.warning('sync.feed.gone', { feedId: parsed.feedId, reason: error.message });
      return null;
    }
    if (error instanceof FeedBusyError) {
      // Another run holds the feed: this request is sent again for when its lease would lapse (it is
      // renewed while that run works), so nothing asked of the feed meanwhile is lost.
      const delaySeconds = Math.min(
        MAX_DEFER_SECONDS,
        Math.max(5, (Date.parse(error.heldBy.expiresAt) - Date.now()) / 1000 + 5),
      );
      try {
        await (services ?? (await getServices())).store.syncQueue.enqueue(parsed, { delaySeconds });
      } catch (enqueueError) {
        // Not sent again: this delivery fails instead, and the host delivers it again.
        deliveryFailed(
          `${error.message}; could not be deferred through the queue (${describeError(enqueueError)})`,
        );
        throw enqueueError;
      }
      logger.info('sync.run.deferred', {
        feedId: parsed.feedId,
        reason: error.message,
        delaySeconds: Math.ceil(delaySeconds),
      });
      return null;
    }
    // The storage failed before the run's operations (the feed, its rows, the services): the same alert.
    if (isStorageFailure(error) && !storageReported)
      logger.error('storage.unavailable', storageUnavailableEvent(parsed.feedId, 'sync', error, 1));
    deliveryFailed(describeError(error));
    throw error;
  }
}
