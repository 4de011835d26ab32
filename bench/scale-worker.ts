// One Function instance for the scale-out bench (bench/scale.ts): a process of its own, its services
// built by src/compose.ts from app settings (its own MSAL token cache, Graph client, pacer and limiter,
// as each instance of the Functions host has), consuming the tenant's sync queue as the host's queue
// trigger does with host.json's settings, and handing each message to the queue handler
// (src/handlers/sync.ts syncFeedFromMessage), as functions/syncFeedQueue.ts does.
//
// The host's queue listener, as documented for the Storage queue trigger: it takes `batchSize`
// messages, runs them at once, and takes the next batch when the messages still running fall to
// `newBatchThreshold` (default batchSize / 2); a failed message becomes visible again after
// `visibilityTimeout` and goes to the poison queue after `maxDequeueCount` deliveries; an empty queue
// is polled with a growing back-off (here 100 ms doubling up to 2 s, below the host's 1 minute
// maxPollingInterval, so the bench's end is not a poll interval late).
//
// Reports to the parent over IPC: each lease the instance held on a feed (from the acquire that
// succeeded to the release), each message's outcome, and at the end its Graph and limiter figures.
//
//   fork dist/bench/scale-worker.js <namePrefix> <instance>   (app settings in the environment)
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import azureFunctions from '@azure/functions';

import { buildServices, type AppServices } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { MAX_DEQUEUE_COUNT, syncFeedFromMessage } from '../src/handlers/sync.js';
import type { FeedLeaseRepository, RunSummary } from '../src/storage/index.js';
import type { ReceivedSyncMessage } from '../src/storage/syncQueue.js';
import { BENCH_NOW } from './world.js';

// CommonJS: no named exports under ESM.
const { InvocationContext } = azureFunctions;

export interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  /** Seconds a failed message stays invisible before it is tried again. */
  visibilityTimeoutSeconds: number;
  maxDequeueCount: number;
}

/** The queue trigger's settings from host.json (the host's defaults where it sets none). */
export function hostQueueSettings(): QueueSettings {
  // The repository's host.json: the first one above this module (dist/bench/ in a build).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'host.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const hostJson = path.join(dir, 'host.json');
  const queues = (
    JSON.parse(readFileSync(hostJson, 'utf8')) as {
      extensions?: { queues?: Record<string, unknown> };
    }
  ).extensions?.queues;
  const batchSize = typeof queues?.batchSize === 'number' ? queues.batchSize : 16;
  const [h = 0, m = 0, s = 0] = (
    typeof queues?.visibilityTimeout === 'string' ? queues.visibilityTimeout : '00:00:00'
  )
    .split(':')
    .map(Number);
  return {
    batchSize,
    newBatchThreshold:
      typeof queues?.newBatchThreshold === 'number' ? queues.newBatchThreshold : Math.floor(batchSize / 2),
    visibilityTimeoutSeconds: h * 3600 + m * 60 + s,
    maxDequeueCount: typeof queues?.maxDequeueCount === 'number' ? queues.maxDequeueCount : 5,
  };
}

export type WorkerReport =
  | { type: 'ready'; instance: number }
  /** Messages taken from the queue (each ends in one 'message' report). */
  | { type: 'received'; instance: number; count: number }
  | { type: 'lease'; instance: number; feedId: string; from: number; to: number }
  | {
      type: 'message';
      instance: number;
      feedId: string;
      outcome: 'synced' | 'skipped' | 'deferred' | 'crashed' | 'dropped';
      created: number;
      failed: number;
    }
  | {
      type: 'done';
      instance: number;
      graphRequests: number;
      graphThrottled: number;
      limiterPeak: number;
      limiterThrottles: number;
      /** Shares of the ceiling this instance took from instances that left (graph.rate.shared). */
      sharesTaken: number;
      peakRssMb: number;
    };

/** Time-stamps each lease this instance held: from the acquire that succeeded to its release. */
function timedLeases(
  leases: FeedLeaseRepository,
  report: (feedId: string, from: number, to: number) => void,
): FeedLeaseRepository {
  const heldSince = new Map<string, number>();
  return {
    ...leases,
    acquire: async (feedId, holder, purpose, ttlMs) => {
      const result = await leases.acquire(feedId, holder, purpose, ttlMs);
      if ('lease' in result) heldSince.set(holder, Date.now());
      return result;
    },
    renew: (lease, ttlMs) => leases.renew(lease, ttlMs),
    release: (lease) => {
      const from = heldSince.get(lease.holder);
      heldSince.delete(lease.holder);
      if (from !== undefined) report(lease.feedId, from, Date.now());
      return leases.release(lease);
    },
  };
}

async function main(): Promise<void> {
  const [namePrefix = '', instanceArg = '0', sharing = 'share'] = process.argv.slice(2);
  const instance = Number(instanceArg);
  const send = (report: WorkerReport): void => {
    process.send?.(report);
  };
  const settings = hostQueueSettings();
  const base = await buildServices(loadConfig(process.env), { namePrefix });
  const nowMs = Date.parse(BENCH_NOW);
  const services: AppServices = {
    ...base,
    store: {
      ...base.store,
      feedLeases: timedLeases(base.store.feedLeases, (feedId, from, to) =>
        send({ type: 'lease', instance, feedId, from, to }),
      ),
    },
    // The bench's fixed sync clock: every session of the semester is in the future.
    now: () => new Date(nowMs),
    // The "before" rows: each instance's pacer learns its share alone.
    ...(sharing === 'alone' ? { rateShare: null } : {}),
  };
  let sharesTaken = 0;
  // A warm token, as an instance that has served a message before (the parent measures from "go").
  await services.graph?.getToken();

  let stopping = false;
  const running = new Set<Promise<void>>();
  const handle = async (item: ReceivedSyncMessage): Promise<void> => {
    let deferred = false;
    const context = new InvocationContext({
      functionName: 'syncFeedQueue',
      invocationId: randomUUID(),
      logHandler: (_level, ...args) => {
        if (args.some((a) => typeof a === 'string' && a.includes('sync.run.deferred'))) deferred = true;
        if (args.some((a) => typeof a === 'string' && a.includes('graph.rate.shared'))) sharesTaken++;
      },
      triggerMetadata: { dequeueCount: item.dequeueCount, id: item.id },
    });
    const feedId = /"feedId":"([^"]+)"/.exec(Buffer.from(item.text, 'base64').toString('utf8'))?.[1] ?? '?';
    let summary: RunSummary | null = null;
    try {
      summary = await syncFeedFromMessage(item.text, context, services);
      await item.complete();
    } catch {
      // Like the host: visible again after visibilityTimeout, poison after maxDequeueCount deliveries.
      await (
        item.dequeueCount >= Math.min(settings.maxDequeueCount, MAX_DEQUEUE_COUNT)
          ? item.poison()
          : item.retryLater(settings.visibilityTimeoutSeconds)
      ).catch(() => undefined);
      send({ type: 'message', instance, feedId, outcome: 'crashed', created: 0, failed: 0 });
      return;
    }
    send({
      type: 'message',
      instance,
      feedId,
      outcome: summary
        ? summary.outcome === 'skipped' || summary.outcome === 'unchanged'
          ? 'skipped'
          : 'synced'
        : deferred
          ? 'deferred'
          : 'dropped',
      created: summary?.created ?? 0,
      failed: (summary?.failed ?? 0) + (summary?.blocked ?? 0),
    });
  };

  process.on('message', (message: unknown) => {
    if ((message as { type?: string } | null)?.type === 'stop') stopping = true;
  });
  send({ type: 'ready', instance });

  let idleMs = 0;
  while (!stopping) {
    if (running.size > settings.newBatchThreshold) {
      await Promise.race(running);
      continue;
    }
    // The host's visibility while a message runs is 10 minutes (renewed); a run here is far shorter.
    const batch = await services.store.syncQueue.receive(settings.batchSize, 600).catch(() => []);
    if (batch.length === 0) {
      idleMs = Math.min(2_000, idleMs === 0 ? 100 : idleMs * 2);
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      continue;
    }
    idleMs = 0;
    send({ type: 'received', instance, count: batch.length });
    for (const item of batch) {
      const task = handle(item).finally(() => running.delete(task));
      running.add(task);
    }
  }
  await Promise.all(running);
  const stats = services.graph?.stats() ?? { requests: 0, throttled: 0 };
  const limiter = services.limiter.stats();
  send({
    type: 'done',
    instance,
    graphRequests: stats.requests,
    graphThrottled: stats.throttled,
    limiterPeak: limiter.peak,
    limiterThrottles: limiter.throttles,
    sharesTaken,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  });
  process.disconnect?.();
}

if (process.argv[1]?.endsWith('scale-worker.js')) await main();
