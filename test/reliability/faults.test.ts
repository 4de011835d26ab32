// Faults: Graph answers 20% of requests with 500/502/503/504, resets connections, throttles in bursts
// (429 + Retry-After), has latency spikes, and loses the response of committed writes ("created but
// response lost"). The sync must converge over a few runs (the clock advanced past nextAttemptAt) with
// no duplicate and no orphan. Then Azurite is stopped in the middle of a run and started again on its
// persisted data: the run fails cleanly, nothing stored is corrupt, and the next run finishes the job.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { uploadFeed } from '../../src/admin/feeds.js';
import { buildServices, type AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import { syncDepsFor } from '../../src/handlers/sync.js';
import type { RunSummary } from '../../src/storage/index.js';
import { syncFeed } from '../../src/sync/syncFeed.js';
import { useSyncHarness } from '../support/sync-harness.js';
import {
  baseSeed,
  checkInvariants,
  randomInt,
  reportFigures,
  rng,
  scaled,
  sleep,
  weeklyTimetable,
  withSeed,
} from '../support/reliability-env.js';

const harness = useSyncHarness();
const ORGANIZERS = ['ada@uni.example', 'brian@uni.example', 'chen@uni.example', 'dora@uni.example'];
const HOUR = 3_600_000;

describe('Graph faults: 5xx, resets, 429 bursts, latency spikes, lost responses', () => {
  const TRIALS = scaled(1, 8);
  it(
    `converges with 0 duplicates over ${TRIALS} seeded trials`,
    // SOAK: ~2,000 requests under the emulator's 4 requests/s (a create is createOrGet + the options PATCH).
    { timeout: scaled(120_000, 1_800_000) },
    async () => {
      const seed0 = baseSeed(5_035_429);
      const figures = {
        trials: 0,
        runs: 0,
        sessions: 0,
        graphRequests: 0,
        injected5xx: 0,
        injectedResets: 0,
        throttled429: 0,
        latencySpikes: 0,
        duplicates: 0,
        maxRunsToConverge: 0,
      };
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = seed0 + trial;
        await withSeed(`fault trial ${trial}`, seed, async () => {
          const random = rng(Math.imul(seed, 0x9e3779b1));
          const world = await harness.world();
          const users = world.seed(ORGANIZERS);
          for (const user of users.values()) await world.grant(user);
          const feedId = `faults-${trial}`;
          const timetable = weeklyTimetable({
            tag: `f${seed}`,
            organizers: ORGANIZERS,
            courses: scaled(randomInt(random, 4, 6), randomInt(random, 8, 15)),
            weeks: scaled(4, 6),
          });
          await world.upload(feedId, timetable.ics);
          const em = world.emulator.control;

          const spikeMs = scaled(600, 2_000);
          const base = {
            errorRate: 0.2,
            resetRate: 0.05,
            failAfterCommitRate: 0.1,
            failAfterCommitMode: random() < 0.5 ? ('reset' as const) : ('504' as const),
          };
          let spikes = 0;
          em.setFaults({ ...base, seed });
          em.setThrottle({ perAppPerSecond: 4, burst: 4, retryAfterSeconds: 1 });
          // Latency spikes: every ~1.5 s, `spikeMs` of latency on every request for a moment.
          let spiking = false;
          const spiker = setInterval(() => {
            spiking = !spiking;
            if (spiking) spikes++;
            em.setFaults({
              ...base,
              ...(spiking ? { latencyMs: spikeMs } : {}),
              seed: seed + spikes * 7919 + (spiking ? 1 : 0),
            });
          }, 750);

          const runs: RunSummary[] = [];
          try {
            for (let run = 0; run < 12; run++) {
              runs.push(await world.sync(feedId));
              // Never a duplicate or an orphan, even between runs.
              await checkInvariants(world.emulator, world.services.store, feedId, timetable.sessions, users, {
                complete: false,
              });
              const rows = await world.services.store.meetings.listByFeed(feedId);
              if (rows.length === timetable.sessions.length && rows.every((r) => r.state === 'active')) break;
              // Past every back-off (≤ 6 h): the failed rows are due again.
              world.advance(7 * HOUR);
            }
          } finally {
            clearInterval(spiker);
          }
          const counts = em.requestCounts();
          em.setFaults(null);
          em.setThrottle(null);
          const context = runs
            .map(
              (r, i) =>
                `run ${i}: ${r.outcome} created ${r.created} failed ${r.failed} graphCalls ${r.graphCalls} throttled ${r.throttled}${r.message ? ` (${r.message})` : ''}`,
            )
            .join('\n');
          const report = await checkInvariants(
            world.emulator,
            world.services.store,
            feedId,
            timetable.sessions,
            users,
            { complete: true },
          ).catch((error: unknown) => {
            throw new Error(
              `not converged after ${runs.length} runs:\n${context}\n${(error as Error).message}`,
            );
          });
          expect(em.duplicates()).toBe(0);

          figures.trials++;
          figures.runs += runs.length;
          figures.maxRunsToConverge = Math.max(figures.maxRunsToConverge, runs.length);
          figures.sessions += timetable.sessions.length;
          figures.graphRequests += counts.graph;
          figures.throttled429 += counts.graphThrottled;
          figures.latencySpikes += spikes;
          figures.duplicates += report.duplicates;
          for (const byStatus of Object.values(counts.byRoute)) {
            for (const [status, n] of Object.entries(byStatus)) {
              if (['500', '502', '503', '504'].includes(status)) figures.injected5xx += n;
              if (status === 'reset') figures.injectedResets += n;
            }
          }
        });
      }
      reportFigures('faults', figures);
      expect(figures.injected5xx).toBeGreaterThan(0);
      expect(figures.throttled429 + figures.injectedResets).toBeGreaterThan(0);
    },
  );
});

describe('Azurite stopped in the middle of a run', () => {
  const TRIALS = scaled(1, 4);
  it(
    `fails the run cleanly, corrupts nothing, and the next run (on the restarted storage) completes (${TRIALS} trials)`,
    { timeout: scaled(120_000, 600_000) },
    async () => {
      const seed0 = baseSeed(7_100_000);
      const figures = {
        trials: 0,
        interruptedRuns: 0,
        runOutcomes: '' as string,
        meetingsBeforeStop: 0,
        duplicates: 0,
      };
      const emulator = harness.emulator();
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = seed0 + trial;
        await withSeed(`azurite restart trial ${trial}`, seed, async () => {
          const random = rng(Math.imul(seed, 0x9e3779b1));
          // The harness world only to reset the emulator and seed the directory; storage is our own Azurite.
          const world = await harness.world();
          const users = world.seed(ORGANIZERS);
          emulator.control.allowDefaultAppGlobally();
          const location = await mkdtemp(path.join(tmpdir(), 'tts-azurite-persist-'));
          let first: AzuriteInstance | undefined;
          let second: AzuriteInstance | undefined;
          try {
            first = await startAzurite({ location });
            const servicesFor = async (az: AzuriteInstance): Promise<AppServices> => {
              const config = loadConfig({
                ...graphEnv(world.services.config),
                AzureWebJobsStorage: az.connectionString,
              });
              return {
                ...(await buildServices(config, { namePrefix: 'restart' })),
                now: () => new Date('2027-01-04T08:00:00Z'),
              };
            };
            const before = await servicesFor(first);
            const feedId = `restart-${trial}`;
            const timetable = weeklyTimetable({
              tag: `r${seed}`,
              organizers: ORGANIZERS,
              courses: 8,
              weeks: 4,
            });
            await uploadFeed(before, feedId, timetable.ics);
            emulator.control.setFaults({ latencyMs: 60, latencyJitterMs: 80, seed });

            const { sink, events } = memorySink();
            const running = syncFeed(
              { ...syncDepsFor(before, createEventLogger(sink)), policyRetryWaitsMs: [] },
              feedId,
            ).then(
              (summary) => ({ summary, error: null as unknown }),
              (error: unknown) => ({ summary: null, error }),
            );
            const stopAfter = randomInt(random, 1, timetable.sessions.length - 4);
            const deadline = Date.now() + 30_000;
            while (emulator.control.meetings().length < stopAfter && Date.now() < deadline) await sleep(5);
            figures.meetingsBeforeStop += emulator.control.meetings().length;
            await first.stop();
            const outcome = await running;
            figures.interruptedRuns++;
            // Clean failure: a rejection naming storage, or a run summary that says it did not finish.
            if (outcome.error) {
              expect(outcome.error).toBeInstanceOf(Error);
              figures.runOutcomes += `threw ${(outcome.error as Error).name}; `;
            } else {
              expect(outcome.summary?.outcome, JSON.stringify(outcome.summary)).not.toBe('completed');
              figures.runOutcomes += `${outcome.summary?.outcome}; `;
            }
            expect(
              events.some((e) => e.name === 'sync.run.completed' && e.properties.outcome === 'completed'),
            ).toBe(false);
            emulator.control.setFaults(null);

            second = await startAzurite({ location });
            const after = await servicesFor(second);
            // Every stored row still parses (a corrupt row throws corruptRow), and nothing Graph holds is unknown.
            await checkInvariants(emulator, after.store, feedId, timetable.sessions, users, {
              complete: false,
            });
            const feed = await after.store.feeds.get(feedId);
            expect(feed?.lastSyncedHash ?? null).toBeNull();

            const resumed = await syncFeed(
              { ...syncDepsFor(after, createEventLogger(memorySink().sink)), policyRetryWaitsMs: [] },
              feedId,
            );
            expect(resumed.outcome, JSON.stringify(resumed)).toBe('completed');
            const report = await checkInvariants(emulator, after.store, feedId, timetable.sessions, users, {
              complete: true,
            });
            figures.duplicates += report.duplicates;
            figures.trials++;
          } finally {
            emulator.control.setFaults(null);
            await Promise.allSettled([first?.stop(), second?.stop()]);
            await rm(location, { recursive: true, force: true });
          }
        });
      }
      reportFigures('azurite-restart', figures);
    },
  );
});

/** The harness's Graph settings as environment variables (its CA file is reused by path). */
function graphEnv(config: AppServices['config']): Record<string, string> {
  const graph = config.graph;
  if (!graph || graph.credential.kind !== 'secret')
    throw new Error('the harness world has no secret credential');
  return {
    GRAPH_TENANT_ID: graph.tenantId,
    GRAPH_CLIENT_ID: graph.clientId,
    GRAPH_CLIENT_SECRET: graph.credential.secret,
    GRAPH_AUTHORITY_HOST: graph.authorityHost,
    GRAPH_BASE_URL: graph.graphBaseUrl,
    ...(graph.caCertFile ? { GRAPH_CA_CERT_FILE: graph.caCertFile } : {}),
  };
}
