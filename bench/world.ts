// The product wired for a benchmark, as test/support/sync-harness.ts does it but without vitest:
// real Azurite (child process) + the https Graph emulator (in process), services from compose.ts
// (MSAL + Graph SDK + Storage SDKs, the shared limiter), a fixed sync clock, and instruments:
//   - a counting proxy around every StateStore repository (Table/Blob/Queue calls by method),
//   - an event sink that counts events by name (a parse always ends in `sync.planned` or
//     `feed.rejected`, so their count is the number of feed parses in a sync),
//   - graph.stats() and the emulator's requestCounts() for Graph calls and 429s.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { uploadFeed } from '../src/admin/feeds.js';
import { buildServices, type AppServices } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { startAzurite, type AzuriteInstance } from '../src/dev/azurite.js';
import { emulatorAppSettings, startGraphEmulator, type EmulatorHandle } from '../src/emulator/index.js';
import { createEventLogger, type LoggedEvent } from '../src/events.js';
import { syncDepsFor } from '../src/handlers/sync.js';
import type { RunSummary, StateStore } from '../src/storage/index.js';
import { syncFeed, type SyncDeps } from '../src/sync/syncFeed.js';

export interface BenchEnv {
  azurite: AzuriteInstance;
  emulator: EmulatorHandle;
  caFile: string;
  stop(): Promise<void>;
}

export async function startEnv(): Promise<BenchEnv> {
  const [azurite, emulator] = await Promise.all([
    startAzurite(),
    startGraphEmulator({ propagationDelayMs: 0 }),
  ]);
  const workDir = await mkdtemp(path.join(tmpdir(), 'tts-bench-'));
  const caFile = path.join(workDir, 'ca.pem');
  await writeFile(caFile, emulator.caCertPem);
  return {
    azurite,
    emulator,
    caFile,
    async stop() {
      await Promise.allSettled([azurite.stop(), emulator.stop()]);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Calls per `repository.method` (e.g. `meetings.put`), plus `meetings.putMany.rows`. */
export type OpCounts = Map<string, number>;

function bump(counts: OpCounts, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function counted<T extends object>(name: string, target: T, counts: OpCounts): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        bump(counts, `${name}.${String(prop)}`);
        if (prop === 'putMany' && Array.isArray(args[0]))
          bump(counts, `${name}.putMany.rows`, args[0].length);
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

/** The same StateStore with every repository call counted. */
export function countingStore(store: StateStore, counts: OpCounts): StateStore {
  return {
    ...store,
    ensure: () => store.ensure(),
    feeds: counted('feeds', store.feeds, counts),
    feedLeases: counted('feedLeases', store.feedLeases, counts),
    meetings: counted('meetings', store.meetings, counts),
    organizers: counted('organizers', store.organizers, counts),
    policies: counted('policies', store.policies, counts),
    runs: counted('runs', store.runs, counts),
    deploymentKeys: counted('deploymentKeys', store.deploymentKeys, counts),
    feedBodies: counted('feedBodies', store.feedBodies, counts),
    syncQueue: counted('syncQueue', store.syncQueue, counts),
    attendance: counted('attendance', store.attendance, counts),
    attendanceQueue: counted('attendanceQueue', store.attendanceQueue, counts),
  };
}

export function sumCounts(
  counts: OpCounts,
  prefixes: readonly string[],
  exclude: readonly string[] = [],
): number {
  let total = 0;
  for (const [key, n] of counts) {
    if (exclude.includes(key)) continue;
    if (prefixes.some((p) => key.startsWith(p))) total += n;
  }
  return total;
}

/** Table Storage calls (feeds, meetings, organizers, policies, runs); blobs and queues are separate. */
export function tableCalls(counts: OpCounts): number {
  return sumCounts(
    counts,
    ['feeds.', 'meetings.', 'organizers.', 'policies.', 'runs.'],
    ['meetings.putMany.rows'],
  );
}

export interface EventCounter {
  byName: Map<string, number>;
  /** The first few warnings and errors, for diagnosing a run that did not complete. */
  problems: LoggedEvent[];
}

export interface Tenant {
  services: AppServices;
  /** The app settings the services were built from (what a worker process loads with loadConfig). */
  appSettings: Record<string, string>;
  /** The tenant's storage name prefix (its tables, container and queues). */
  namePrefix: string;
  ops: OpCounts;
  events: EventCounter;
  now(): Date;
  deps(): SyncDeps;
  sync(feedId: string): Promise<RunSummary>;
  upload(feedId: string, text: string): Promise<unknown>;
  /** Parses done so far (sync.planned + feed.rejected events). */
  parses(): number;
}

export const BENCH_NOW = '2027-01-04T08:00:00Z';
/** Monday after BENCH_NOW: every session of the semester is in the future and within the horizon. */
export const SEMESTER_START = '2027-01-11';

/**
 * A fresh tenant on the shared Azurite + emulator: empty emulator (users, meetings, throttle, faults),
 * its own table/blob/queue names, the policy granted globally, and the given lecturers in the directory.
 */
export async function newTenant(
  env: BenchEnv,
  options: { settings?: Record<string, string>; lecturers: readonly string[] },
): Promise<Tenant> {
  const em = env.emulator;
  em.control.reset({ everything: true });
  em.control.allowDefaultAppGlobally();
  em.control.seedUsers(
    options.lecturers.map((email) => ({
      displayName: email.split('@')[0] ?? email,
      userPrincipalName: email,
      mail: email,
    })),
  );
  const nowMs = Date.parse(BENCH_NOW);
  const appSettings = {
    ...emulatorAppSettings(em, env.caFile),
    AzureWebJobsStorage: env.azurite.connectionString,
    POLICY_GLOBAL_GRANTED_AT: new Date(nowMs - 7 * 86_400_000).toISOString(),
    ...options.settings,
  };
  const config = loadConfig(appSettings);
  const now = (): Date => new Date(nowMs);
  const namePrefix = `b${randomBytes(5).toString('hex')}`;
  const base = await buildServices(config, { namePrefix });
  const ops: OpCounts = new Map();
  const services: AppServices = { ...base, store: countingStore(base.store, ops), now };
  const events: EventCounter = { byName: new Map(), problems: [] };
  const logger = createEventLogger((event) => {
    events.byName.set(event.name, (events.byName.get(event.name) ?? 0) + 1);
    if ((event.level === 'warning' || event.level === 'error') && events.problems.length < 20)
      events.problems.push(event);
  });
  const deps = (): SyncDeps => ({ ...syncDepsFor(services, logger), policyRetryWaitsMs: [] });
  return {
    services,
    appSettings,
    namePrefix,
    ops,
    events,
    now,
    deps,
    sync: (feedId) => syncFeed(deps(), feedId),
    upload: (feedId, text) => uploadFeed(services, feedId, text),
    parses: () => (events.byName.get('sync.planned') ?? 0) + (events.byName.get('feed.rejected') ?? 0),
  };
}
