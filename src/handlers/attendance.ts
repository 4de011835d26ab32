// Handlers behind the attendance triggers, like the sync's: the timer fans out one queue message per
// feed with attendance on (or with stored attendance, for retention); the queue trigger collects one feed.
import type { InvocationContext } from '@azure/functions';

import { collectAttendance, type CollectDeps, type CollectSummary } from '../attendance/collect.js';
import { getServices, type AppServices } from '../compose.js';
import { contextSink, createEventLogger, type EventLogger } from '../events.js';
import { decodeSyncMessage, type SyncMessage } from '../storage/index.js';
import { MAX_DEQUEUE_COUNT } from './sync.js';

export function attendanceDepsFor(services: AppServices, logger: EventLogger): CollectDeps {
  if (!services.graph)
    throw new Error(
      'GRAPH_TENANT_ID: Graph settings are required to collect attendance (see README, Configuration)',
    );
  return { store: services.store, graph: services.graph, logger, config: services.config, now: services.now };
}

/** Timer: one message per feed with attendance on, and per feed that still stores attendance (retention). */
export async function fanOutAttendance(
  context: InvocationContext,
  services?: AppServices,
): Promise<SyncMessage[]> {
  const { store, now } = services ?? (await getServices());
  const logger = createEventLogger(contextSink(context));
  const requestedAt = now().toISOString();
  const feeds = await store.feeds.list();
  const ids = new Set([
    ...feeds.filter((f) => f.attendance === true).map((f) => f.id),
    ...(await store.attendance.listFeeds()),
  ]);
  const messages = [...ids].map((feedId) => ({ feedId, reason: 'schedule', requestedAt }));
  logger.info('attendance.fanout', { feeds: feeds.length, enqueued: messages.length });
  return messages;
}

/** Queue: collect one feed's attendance. Throws only for failures worth a redelivery. */
export async function collectAttendanceFromMessage(
  message: unknown,
  context: InvocationContext,
  services?: AppServices,
): Promise<CollectSummary | null> {
  const logger = createEventLogger(contextSink(context));
  const parsed =
    typeof message === 'object' && message !== null
      ? decodeSyncMessage(JSON.stringify(message))
      : decodeSyncMessage(String(message));
  if (!parsed) {
    logger.error('attendance.message.invalid', { reason: 'queue message is not {"feedId": ...}' });
    return null;
  }
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  try {
    const resolved = services ?? (await getServices());
    const run = () => collectAttendance(attendanceDepsFor(resolved, logger), parsed.feedId);
    // It paces its Graph calls with the sync's pacer: that pacer's share is kept while either runs.
    return await (resolved.rateShare ? resolved.rateShare.during(logger, run) : run());
  } catch (error) {
    logger[dequeueCount >= MAX_DEQUEUE_COUNT ? 'error' : 'warning']('attendance.run.crashed', {
      feedId: parsed.feedId,
      dequeueCount,
      reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw error;
  }
}
