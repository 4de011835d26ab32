// Crash injection: the real CLI (`timetable-sync sync --feed ID --now ISO`) runs in a child process and
// is SIGKILLed at a seeded point — after a random number of answered Graph requests, or after a random
// delay while the emulator adds latency — then rerun to completion. After the kill no meeting may exist
// that the meetings table does not know (the `creating` row comes first); after the rerun every expected
// session has exactly one meeting and every row is active with that meeting's id.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { uploadFeed } from '../../src/admin/feeds.js';
import { buildServices, type AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import {
  emulatorAppSettings,
  startGraphEmulator,
  type EmulatorHandle,
  type EmulatorUser,
} from '../../src/emulator/index.js';
import { requireBuiltCli, startCli, type CliResult } from '../support/reliability-cli.js';
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

const TRIALS = scaled(6, 50);
const NOW = '2027-01-04T08:00:00Z';
const ORGANIZERS = ['ada@uni.example', 'brian@uni.example', 'chen@uni.example'];

let azurite: AzuriteInstance;
let emulator: EmulatorHandle;
let services: AppServices;
let workDir: string;
let env: Record<string, string>;
let users: Map<string, EmulatorUser>;

beforeAll(async () => {
  requireBuiltCli();
  [azurite, emulator] = await Promise.all([startAzurite(), startGraphEmulator({ propagationDelayMs: 0 })]);
  workDir = await mkdtemp(path.join(tmpdir(), 'tts-crash-'));
  const caFile = path.join(workDir, 'ca.pem');
  await writeFile(caFile, emulator.caCertPem);
  env = {
    AzureWebJobsStorage: azurite.connectionString,
    ...emulatorAppSettings(emulator, caFile),
  };
  // The CLI uses the production storage names; so does this test's own view of the state.
  services = await buildServices(loadConfig(env));
  services = { ...services, now: () => new Date(NOW) };
  const seeded = emulator.control.seedUsers(
    ORGANIZERS.map((mail) => ({ displayName: mail.split('@')[0] ?? mail, userPrincipalName: mail, mail })),
  );
  users = new Map(seeded.map((u) => [u.mail ?? u.userPrincipalName, u]));
  emulator.control.allowDefaultAppGlobally();
});

afterAll(async () => {
  await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function describeRun(label: string, r: CliResult): string {
  return `${label}: code ${r.code} signal ${r.signal} after ${r.durationMs} ms\n--- stdout ---\n${r.stdout.slice(-2000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

describe('crash injection: SIGKILL of `timetable-sync sync` at random points, then a rerun', () => {
  it(
    `keeps exactly one meeting per session over ${TRIALS} seeded trials`,
    { timeout: scaled(150_000, 900_000) },
    async () => {
      const seed0 = baseSeed(20_270_104);
      const figures = {
        trials: 0,
        killedMidRun: 0,
        finishedBeforeKill: 0,
        byRequests: 0,
        byDelay: 0,
        sessions: 0,
        meetingsAtKill: 0,
        duplicates: 0,
        orphans: 0,
      };
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = seed0 + trial;
        await withSeed(`crash trial ${trial}`, seed, async () => {
          const random = rng(Math.imul(seed, 0x9e3779b1));
          const feedId = `crash-${trial}-${seed}`;
          const timetable = weeklyTimetable({
            tag: feedId,
            organizers: ORGANIZERS,
            courses: randomInt(random, 3, 8),
            weeks: randomInt(random, 2, 5),
          });
          emulator.control.reset();
          await uploadFeed(services, feedId, timetable.ics);
          emulator.control.setFaults({
            latencyMs: randomInt(random, 0, 20),
            latencyJitterMs: randomInt(random, 0, 60),
            seed,
          });

          // Alternate the two kinds of kill point so both are always covered.
          const byRequests = trial % 2 === 0;
          // Graph requests a full run makes: ~1 per session plus organizer look-ups and the policy probe.
          const killAfterRequests = randomInt(random, 1, timetable.sessions.length + 2);
          // Counted from the first request the child makes (the token request): process start-up varies.
          const killAfterMs = randomInt(random, 0, 900);
          const first = startCli(['sync', '--feed', feedId, '--now', NOW, '--json'], env, workDir);
          let startedAt: number | null = null;
          while (!first.exited()) {
            if (startedAt === null && emulator.control.requestCounts().total > 0) startedAt = Date.now();
            if (
              byRequests
                ? emulator.control.requestCounts().graph >= killAfterRequests
                : startedAt !== null && Date.now() - startedAt >= killAfterMs
            ) {
              first.kill();
              break;
            }
            await sleep(2);
          }
          const killed = await first.done;
          // Requests the dead process left in flight still commit in the emulator: let them land.
          await sleep(150);
          figures.trials++;
          if (byRequests) figures.byRequests++;
          else figures.byDelay++;
          if (killed.killed) figures.killedMidRun++;
          else {
            figures.finishedBeforeKill++;
            expect(killed.code, describeRun('uninterrupted run', killed)).toBe(0);
          }
          figures.meetingsAtKill += emulator.control.meetings().length;
          figures.sessions += timetable.sessions.length;

          const context = `kill ${byRequests ? `after ${killAfterRequests} Graph requests` : `after ${killAfterMs} ms`}; ${describeRun('killed run', killed)}`;
          await checkInvariants(emulator, services.store, feedId, timetable.sessions, users, {
            complete: false,
          }).catch((error: unknown) => {
            throw new Error(`right after the kill (${context}):\n${(error as Error).message}`);
          });

          emulator.control.setFaults(null);
          const rerun = await startCli(['sync', '--feed', feedId, '--now', NOW, '--json'], env, workDir).done;
          expect(rerun.code, describeRun('rerun', rerun)).toBe(0);
          const report = await checkInvariants(emulator, services.store, feedId, timetable.sessions, users, {
            complete: true,
          }).catch((error: unknown) => {
            throw new Error(
              `after the rerun (${context}; ${describeRun('rerun', rerun)}):\n${(error as Error).message}`,
            );
          });
          figures.duplicates += report.duplicates;
          expect(emulator.control.duplicates()).toBe(0);
        });
      }
      reportFigures('crash', figures);
      expect(figures.trials).toBe(TRIALS);
    },
  );
});
