// Part 7, one whole sync in a process of its own (so its peak RSS is the sync's): a Function instance's
// services from src/compose.ts, then src/sync/syncFeed.ts on one feed — the body from the blob store,
// expand, desired sessions, the stored rows from Azurite, plan, and the apply against the Graph
// emulator — exactly as the queue handler runs it. Prints one JSON line.
//
// The feed's meeting rows come from a file of the Tables service's JSON rows (bench/wholesync.ts says
// why): the meetings repository is the product's own over a TableClient that serves that file a page of
// 1,000 rows at a time, each page one JSON text parsed and deserialised as @azure/data-tables 13 does,
// and keeps the rows this run writes (a few thousand) in memory.
//
//   node dist/bench/wholesync-child.js <namePrefix> <feedId> <rows.jsonl>   (app settings in the environment)
//   BENCH_TRACE=1: memory every second and at each event on stderr (the parent passes it on).
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

import type { TableClient } from '@azure/data-tables';

import { buildServices } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createEventLogger } from '../src/events.js';
import { syncDepsFor } from '../src/handlers/sync.js';
import { createMeetingRepository } from '../src/storage/meetings.js';
import { syncFeed } from '../src/sync/syncFeed.js';
import { BENCH_NOW } from './world.js';

export interface WholeSyncReport {
  outcome: string;
  sessions: number;
  created: number;
  updated: number;
  cancelled: number;
  unchanged: number;
  failed: number;
  /** RSS once the services were built (SDKs loaded, token fetched). */
  baseRssMb: number;
  /** maxRSS when the plan was made (sync.planned), and at the end (the whole sync's peak). */
  planRssMb: number;
  peakRssMb: number;
  planMs: number;
  totalMs: number;
  graphRequests: number;
}

function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** One page of wire rows → the SDK's entities (PartitionKey → partitionKey, Timestamp → Date, …). */
function page(lines: readonly string[]): Entity[] {
  const body = JSON.parse(`{"value":[${lines.join(',')}]}`) as { value: Array<Record<string, unknown>> };
  return body.value.map((wire) => {
    const entity: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(wire)) {
      if (name.includes('@odata.type')) continue;
      if (name === 'PartitionKey') entity.partitionKey = v;
      else if (name === 'RowKey') entity.rowKey = v;
      else if (name === 'odata.etag') entity.etag = v;
      else if (name === 'Timestamp') entity.timestamp = new Date(v as string);
      else entity[name] = v;
    }
    return entity as Entity;
  });
}

function fileTableClient(file: string): TableClient {
  const written = new Map<string, { entity: Entity; etag: string }>();
  let version = 0;
  const write = (entity: Entity, etag?: string): string => {
    const current = written.get(entity.rowKey);
    if (etag !== undefined && current && current.etag !== etag)
      throw Object.assign(new Error('UpdateConditionNotSatisfied'), { statusCode: 412 });
    const next = `W/"datetime'2027-01-04T08%3A00%3A00.${String(++version).padStart(7, '0')}Z'"`;
    written.set(entity.rowKey, { entity, etag: next });
    return next;
  };
  const client = {
    listEntities: () => ({
      byPage: () =>
        (async function* () {
          // The partition as it was when the run read it; rows written since are served in their place.
          let lines: string[] = [];
          const overlay = (entities: Entity[]): Entity[] =>
            entities.map((e) => {
              const w = written.get(e.rowKey);
              return w ? { ...w.entity, etag: w.etag } : e;
            });
          for await (const line of createInterface({ input: createReadStream(file) })) {
            lines.push(line);
            if (lines.length === 1000) {
              yield overlay(page(lines));
              lines = [];
            }
          }
          if (lines.length > 0) yield overlay(page(lines));
        })(),
    }),
    createEntity: (entity: Entity) => Promise.resolve({ etag: write(entity) }),
    updateEntity: (entity: Entity, _mode: string, options: { etag: string }) =>
      Promise.resolve({ etag: write(entity, options.etag) }),
    submitTransaction: (actions: Array<[string, Entity, string?, { etag?: string }?]>) =>
      Promise.resolve({
        subResponses: actions.map(([, entity, , options]) => ({
          status: 204,
          rowKey: entity.rowKey,
          etag: write(entity, options?.etag),
        })),
      }),
  };
  return client as unknown as TableClient;
}

async function main(): Promise<void> {
  const [namePrefix = '', feedId = '', rowsFile = ''] = process.argv.slice(2);
  const base = await buildServices(loadConfig(process.env), { namePrefix });
  const nowMs = Date.parse(BENCH_NOW);
  const services = {
    ...base,
    store: { ...base.store, meetings: createMeetingRepository(fileTableClient(rowsFile), 'meetings') },
    now: () => new Date(nowMs),
  };
  await services.graph?.getToken();
  const baseRssMb = process.memoryUsage().rss / 1024 / 1024;
  let planRssMb = 0;
  let planAt = 0;
  let sessions = 0;
  const logger = createEventLogger((event) => {
    if (process.env.BENCH_TRACE)
      process.stderr.write(`${event.name} ${JSON.stringify(process.memoryUsage())} maxRSS ${maxRssMb()}\n`);
    if (event.name === 'sync.planned') {
      planRssMb = maxRssMb();
      planAt = performance.now();
      sessions = Number(event.properties.sessions ?? 0);
    }
  });
  const sampler = process.env.BENCH_TRACE
    ? setInterval(() => {
        const m = process.memoryUsage();
        process.stderr.write(
          `mem rss ${(m.rss / 1048576).toFixed(0)} heapTotal ${(m.heapTotal / 1048576).toFixed(0)} heapUsed ${(m.heapUsed / 1048576).toFixed(0)} external ${(m.external / 1048576).toFixed(0)} graph ${services.graph?.stats().requests ?? 0}\n`,
        );
      }, 1000)
    : undefined;
  const t0 = performance.now();
  const summary = await syncFeed({ ...syncDepsFor(services, logger), policyRetryWaitsMs: [] }, feedId, {
    force: true,
  });
  const t1 = performance.now();
  clearInterval(sampler);
  const report: WholeSyncReport = {
    outcome: summary.outcome,
    sessions,
    created: summary.created,
    updated: summary.updated,
    cancelled: summary.cancelled,
    unchanged: summary.unchanged,
    failed: summary.failed + summary.blocked,
    baseRssMb,
    planRssMb,
    peakRssMb: maxRssMb(),
    planMs: planAt - t0,
    totalMs: t1 - t0,
    graphRequests: services.graph?.stats().requests ?? 0,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[1]?.endsWith('wholesync-child.js')) await main();
