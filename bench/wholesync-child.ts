// Part 7, one whole sync in a process of its own (so its peak RSS is the sync's): a Function instance's
// services from src/compose.ts, then src/sync/syncFeed.ts on one feed — the body from the blob store,
// expand, desired sessions, the stored rows from Azurite, plan, and the apply against the Graph
// emulator — exactly as the queue handler runs it. Prints one JSON line.
//
//   node dist/bench/wholesync-child.js <namePrefix> <feedId>   (app settings in the environment)
import { performance } from 'node:perf_hooks';

import { buildServices } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createEventLogger } from '../src/events.js';
import { syncDepsFor } from '../src/handlers/sync.js';
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

async function main(): Promise<void> {
  const [namePrefix = '', feedId = ''] = process.argv.slice(2);
  const base = await buildServices(loadConfig(process.env), { namePrefix });
  const nowMs = Date.parse(BENCH_NOW);
  const services = { ...base, now: () => new Date(nowMs) };
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
