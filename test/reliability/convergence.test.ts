// Convergence: after kills, lost responses, feed removals, re-uploads and two instances at once, what a
// user sees in Teams is exactly the timetable. Three numbers per scenario, counted from the Graph
// emulator's own meeting list (not from the meetings table): duplicates (more than one live meeting
// for a session), missing (a future session without a live meeting) and orphans (a live meeting no
// session of the current timetable owns). A meeting cancelled in CANCEL_MODE=lock (lobby locked,
// subject "Cancelled: …") is not live. Each trial runs in delete or lock mode (seeded).
//
// 1. The real CLI (`timetable-sync sync`) is SIGKILLed at a seeded point while it creates (version 1),
//    updates (a version 2 that renames, moves, re-times and hands over sessions) or cancels (a version 2
//    that removes courses and instances), with 25 % of Graph writes committing but losing their response.
// 2. While a sync is running, the feed is removed with its future meetings cancelled (removeFeed or
//    `timetable-sync feeds remove ID --cancel-meetings`; expected afterwards: no live meeting at all),
//    or a new version is uploaded.
// 3. Two instances (two CLI processes) sync the same feed at once, one of them sometimes killed.
// After the disturbance, ordinary runs (the clock past every back-off) converge; then the numbers are
// counted. Failing trials are collected (seed, what happened, each orphan's row history) and the
// suite fails at its end, after printing its table.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { removeFeed } from '../../src/admin/feedRemoval.js';
import { uploadFeed } from '../../src/admin/feeds.js';
import { buildServices, type AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import {
  emulatorAppSettings,
  startGraphEmulator,
  type EmulatorHandle,
  type EmulatorUser,
  type FaultSettings,
} from '../../src/emulator/index.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import { syncDepsFor } from '../../src/handlers/sync.js';
import { syncFeed } from '../../src/sync/syncFeed.js';
import {
  countOutcome,
  emptyFigures,
  expectedSessions,
  figuresTable,
  firstVersion,
  reducedVersion,
  renderTimetable,
  RowHistory,
  updatedVersion,
  type Outcome,
  type ScenarioFigures,
  type Timetable,
} from '../support/convergence.js';
import { requireBuiltCli, startCli, type CliResult, type CliRun } from '../support/reliability-cli.js';
import { baseSeed, randomInt, reportFigures, rng, scaled, sleep, SOAK } from '../support/reliability-env.js';

const NOW = Date.parse('2027-01-04T08:00:00Z');
const HOUR = 3_600_000;
const ORGANIZERS = ['ada@uni.example', 'brian@uni.example', 'chen@uni.example'];
// Sessions from 2027-02-01: the clock (from NOW, 7 h per converging run) never reaches them.
const FIRST_DAY = '2027-02-01T00:00:00Z';
const SIZE = {
  courses: scaled<[number, number]>([2, 4], [3, 6]),
  weeks: scaled<[number, number]>([2, 3], [2, 4]),
  firstDay: FIRST_DAY,
};
type Mode = 'delete' | 'lock';

let azurite: AzuriteInstance;
let emulator: EmulatorHandle;
let workDir: string;
let users: Map<string, EmulatorUser>;
/** The sync clock of the in-process runs and of `--now` (each trial starts at NOW). */
let clock = NOW;
const envs = {} as Record<Mode, Record<string, string>>;
const services = {} as Record<Mode, AppServices>;
const figures: Record<string, ScenarioFigures> = {};

beforeAll(async () => {
  requireBuiltCli();
  [azurite, emulator] = await Promise.all([startAzurite(), startGraphEmulator({ propagationDelayMs: 0 })]);
  workDir = await mkdtemp(path.join(tmpdir(), 'tts-convergence-'));
  const caFile = path.join(workDir, 'ca.pem');
  await writeFile(caFile, emulator.caCertPem);
  for (const mode of ['delete', 'lock'] as const) {
    envs[mode] = {
      AzureWebJobsStorage: azurite.connectionString,
      ...emulatorAppSettings(emulator, caFile),
      CANCEL_MODE: mode,
      // Version 2 may remove most of a feed: the deletion guard (tested elsewhere) would hold it.
      MAX_CANCEL_SHARE: '1',
    };
    // The CLI uses the production storage names; so do the in-process runs and this test's own view.
    const built = await buildServices(loadConfig(envs[mode]));
    services[mode] = { ...built, now: () => new Date(clock) };
  }
  const seeded = emulator.control.seedUsers(
    ORGANIZERS.map((mail) => ({ displayName: mail.split('@')[0] ?? mail, userPrincipalName: mail, mail })),
  );
  users = new Map(seeded.map((u) => [u.mail ?? u.userPrincipalName, u]));
  emulator.control.allowDefaultAppGlobally();
});

afterAll(async () => {
  if (Object.keys(figures).length > 0) console.log(`[reliability] convergence\n${figuresTable(figures)}`);
  await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---- helpers -------------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();

function lostResponseFaults(random: () => number, seed: number, latency: [number, number]): FaultSettings {
  return {
    failAfterCommitRate: 0.25,
    failAfterCommitMode: random() < 0.5 ? 'reset' : '504',
    latencyMs: randomInt(random, 0, latency[0]),
    latencyJitterMs: randomInt(random, 0, latency[1]),
    seed,
  };
}

async function upload(mode: Mode, feedId: string, timetable: Timetable): Promise<void> {
  await uploadFeed(services[mode], feedId, renderTimetable(timetable));
}

/** One in-process run (an instance of the Functions app) at the current clock. */
async function runInProcess(mode: Mode, feedId: string): Promise<string> {
  const deps = {
    ...syncDepsFor(services[mode], createEventLogger(memorySink().sink)),
    policyRetryWaitsMs: [],
  };
  try {
    const s = await syncFeed(deps, feedId);
    return `${s.outcome} created ${s.created} updated ${s.updated} cancelled ${s.cancelled} failed ${s.failed}${s.message ? ` (${s.message})` : ''}`;
  } catch (error) {
    return `threw ${(error as Error).name}: ${(error as Error).message}`;
  }
}

function cliSync(mode: Mode, feedId: string): CliRun {
  return startCli(['sync', '--feed', feedId, '--now', iso(clock), '--json'], envs[mode], workDir);
}

function describeCli(label: string, r: CliResult): string {
  return `${label}: ${r.killed ? 'killed' : `exit ${r.code}`} after ${r.durationMs} ms${r.killed || r.code === 0 ? '' : `\n${r.stderr.slice(-1500)}`}`;
}

/** Ordinary runs (clock advanced past every back-off) until every row is settled; faults off for the last. */
async function converge(mode: Mode, feedId: string, history: RowHistory, log: string[]): Promise<void> {
  for (let run = 0; run < 14; run++) {
    if (run === 10) emulator.control.setFaults(null);
    clock += 7 * HOUR;
    const summary = await runInProcess(mode, feedId);
    await history.snapshot(`run ${run}`);
    log.push(`converge run ${run}: ${summary}`);
    // Settled: no row waits for a retry (a failed update or replace keeps its row 'active', with an error).
    const rows = await services[mode].store.meetings.listByFeed(feedId);
    const settled = rows.every(
      (r) =>
        (r.state === 'active' || r.state === 'cancelled') && r.lastError === null && r.nextAttemptAt === null,
    );
    if (settled && /^(completed|skipped)/.test(summary) && !/ failed [1-9]/.test(summary)) return;
  }
}

interface TrialReport {
  outcome: Outcome;
  lostResponses: number;
  kills: number;
}

const failures: Record<string, string[]> = {};

/** Runs one seeded trial; its numbers go into the scenario's figures, a finding into its failures. */
async function trial(
  scenario: string,
  seed: number,
  body: (
    random: () => number,
    log: string[],
    history: (feedId: string) => RowHistory,
  ) => Promise<TrialReport>,
): Promise<void> {
  const f = (figures[scenario] ??= emptyFigures());
  const log: string[] = [];
  let rows: RowHistory | null = null;
  const random = rng(Math.imul(seed, 0x9e3779b1));
  clock = NOW;
  emulator.control.reset();
  f.trials++;
  try {
    const report = await body(random, log, (feedId) => {
      rows = new RowHistory(services.delete.store, feedId);
      return rows;
    });
    f.kills += report.kills;
    f.lostResponses += report.lostResponses;
    f.duplicates += report.outcome.duplicates;
    f.missing += report.outcome.missing;
    f.orphans += report.outcome.orphans;
    if (report.outcome.findings.length > 0) {
      const history = rows as RowHistory | null;
      const orphanHistories = report.outcome.orphanMeetings.map(
        (m) => `  orphan ${m.externalId ?? 'none'} — ${history?.ofExternalId(m.externalId) ?? ''}`,
      );
      (failures[scenario] ??= []).push(
        [
          `${scenario}, seed ${seed} (reproduce: ${SOAK ? 'SOAK=1 ' : ''}RELIABILITY_SEED=${seed} npx vitest run test/reliability/convergence.test.ts)`,
          ...log.map((l) => `  ${l}`),
          ...report.outcome.findings.map((l) => `  ${l}`),
          ...orphanHistories,
        ].join('\n'),
      );
    }
  } catch (error) {
    (failures[scenario] ??= []).push(
      `${scenario}, seed ${seed} threw (reproduce: ${SOAK ? 'SOAK=1 ' : ''}RELIABILITY_SEED=${seed} npx vitest run test/reliability/convergence.test.ts)\n${log.join('\n')}\n${(error as Error).stack ?? String(error)}`,
    );
  } finally {
    emulator.control.setFaults(null);
  }
}

/** Reports the scenarios' figures and findings, then asserts 0 duplicates, 0 missing, 0 orphans in each. */
function finish(...scenarios: string[]): void {
  for (const scenario of scenarios) {
    reportFigures(`convergence ${scenario}`, { ...(figures[scenario] ?? emptyFigures()) });
    const found = failures[scenario] ?? [];
    if (found.length > 0)
      console.log(`[reliability] convergence ${scenario} findings:\n${found.join('\n\n')}`);
  }
  for (const scenario of scenarios) {
    const f = figures[scenario] ?? emptyFigures();
    const found = failures[scenario] ?? [];
    expect(
      {
        scenario,
        duplicates: f.duplicates,
        missing: f.missing,
        orphans: f.orphans,
        failedTrials: found.length,
      },
      found.slice(0, 3).join('\n\n'),
    ).toEqual({ scenario, duplicates: 0, missing: 0, orphans: 0, failedTrials: 0 });
  }
}

// ---- 1. kills --------------------------------------------------------------------------------------

describe('SIGKILL of `timetable-sync sync` while it creates, updates or cancels, 25 % lost responses', () => {
  const TRIALS = scaled(3, 54);
  it(
    `leaves 0 duplicates, 0 missing, 0 orphans over ${TRIALS} seeded trials`,
    { timeout: scaled(120_000, 2_400_000) },
    async () => {
      const seed0 = baseSeed(14_000_000);
      for (let t = 0; t < TRIALS; t++) {
        const seed = seed0 + t;
        const phase = (['create', 'update', 'cancel'] as const)[t % 3] as 'create' | 'update' | 'cancel';
        await trial('kill', seed, async (random, log, historyOf) => {
          const mode: Mode = random() < 0.5 ? 'delete' : 'lock';
          const feedId = `kill-${seed}`;
          const history = historyOf(feedId);
          const v1 = firstVersion(random, `k${seed}`, ORGANIZERS, SIZE);
          await upload(mode, feedId, v1);
          const faults = lostResponseFaults(random, seed, [20, 60]);
          emulator.control.setFaults(faults);
          let target = v1;
          log.push(`${mode} mode, kill while ${phase}; ${expectedSessions(v1).length} sessions in version 1`);
          if (phase !== 'create') {
            await converge(mode, feedId, history, log);
            emulator.control.setFaults(faults);
            const v2 =
              phase === 'update' ? updatedVersion(random, v1, ORGANIZERS) : reducedVersion(random, v1);
            target = v2.timetable;
            log.push(`version 2: ${v2.changes.join(', ')}`);
            await upload(mode, feedId, target);
          }
          const byRequests = random() < 0.5;
          const killAfterRequests = randomInt(random, 1, 2 * expectedSessions(target).length + 2);
          const killAfterMs = randomInt(random, 0, 1_500);
          const before = emulator.control.requestCounts().graph;
          const stop = history.poll('killed run');
          const child = cliSync(mode, feedId);
          let startedAt: number | null = null;
          while (!child.exited()) {
            const graph = emulator.control.requestCounts().graph - before;
            if (startedAt === null && graph > 0) startedAt = Date.now();
            if (
              byRequests
                ? graph >= killAfterRequests
                : startedAt !== null && Date.now() - startedAt >= killAfterMs
            ) {
              child.kill();
              break;
            }
            await sleep(2);
          }
          const killed = await child.done;
          // Requests the dead process left in flight still commit in the emulator: let them land.
          await sleep(150);
          await stop();
          log.push(
            `${describeCli('killed run', killed)} (kill point: ${byRequests ? `${killAfterRequests} Graph requests` : `${killAfterMs} ms`})`,
          );
          await converge(mode, feedId, history, log);
          return {
            outcome: countOutcome(emulator, expectedSessions(target), users),
            lostResponses: emulator.control.requestCounts().lostResponses,
            kills: killed.killed ? 1 : 0,
          };
        });
      }
      finish('kill');
    },
  );
});

// ---- 2. removal / re-upload during a sync ------------------------------------------------------------

describe('a feed removed (cancelling its meetings), or a new version uploaded, during a running sync', () => {
  const TRIALS = scaled(2, 20);
  it(
    `leaves 0 duplicates, 0 missing, 0 orphans (after a removal: no live meeting) over ${TRIALS} seeded trials`,
    { timeout: scaled(120_000, 1_200_000) },
    async () => {
      const seed0 = baseSeed(14_100_000);
      for (let t = 0; t < TRIALS; t++) {
        const seed = seed0 + t;
        const removal = t % 2 === 0;
        await trial(removal ? 'removal' : 're-upload', seed, async (random, log, historyOf) => {
          const mode: Mode = random() < 0.5 ? 'delete' : 'lock';
          const feedId = `remove-${seed}`;
          const history = historyOf(feedId);
          const v1 = firstVersion(random, `r${seed}`, ORGANIZERS, {
            ...SIZE,
            courses: scaled<[number, number]>([2, 3], [4, 8]),
          });
          const sessions = expectedSessions(v1).length;
          await upload(mode, feedId, v1);
          emulator.control.setFaults(
            lostResponseFaults(random, seed, scaled<[number, number]>([10, 40], [30, 80])),
          );
          const syncByCli = random() < 0.5;
          const removeByCli = random() < 0.5;
          const after = randomInt(random, 1, sessions - 1);
          log.push(
            `${mode} mode; ${sessions} sessions; sync ${syncByCli ? 'by the CLI' : 'in-process'}; ` +
              `${removal ? `removal ${removeByCli ? 'by the CLI' : 'by removeFeed'}` : 'upload of version 2'} once ${after} meetings exist`,
          );
          const stop = history.poll('sync');
          const running: Promise<string> = syncByCli
            ? cliSync(mode, feedId).done.then((r) => describeCli('sync', r))
            : runInProcess(mode, feedId).then((s) => `sync: ${s}`);
          let finished = false;
          void running.then(() => (finished = true));
          while (!finished && emulator.control.meetings().length < after) await sleep(2);
          log.push(
            `disturbed with ${emulator.control.meetings().length} meetings, sync finished: ${finished}`,
          );
          let target: Timetable = [];
          if (removal) {
            // As an admin would: a removal that could not cancel everything is repeated until it succeeds.
            // A removal may also be queued for the running sync to carry out (it then removes the feed).
            let queued = false;
            for (let attempt = 0; attempt < 8; attempt++) {
              const result = removeByCli
                ? await startCli(
                    ['feeds', 'remove', feedId, '--cancel-meetings'],
                    envs[mode],
                    workDir,
                  ).done.then((r) =>
                    r.code !== 0
                      ? `failed: ${r.stderr.trim().slice(-300)}`
                      : /queued/.test(r.stdout)
                        ? 'queued'
                        : 'removed',
                  )
                : await removeFeed(
                    { ...services[mode], logger: createEventLogger(memorySink().sink) },
                    feedId,
                    {
                      cancelFutureMeetings: true,
                    },
                  ).then(
                    (r: unknown) => ((r as { status?: string }).status === 'queued' ? 'queued' : 'removed'),
                    (e: unknown) => `failed: ${(e as Error).message}`,
                  );
              log.push(`removal attempt ${attempt}: ${result}`);
              await history.snapshot(`removal ${attempt}`);
              if (result === 'removed') break;
              if (result === 'queued') {
                queued = true;
                break;
              }
              await sleep(200);
            }
            log.push(await running);
            await stop();
            let feed = await services[mode].store.feeds.get(feedId);
            if (queued && feed) {
              // The sync that held the feed did not remove it: the queued message's sync (forced) does.
              log.push('the queued removal was not carried out by the running sync: running the queued sync');
              clock += 7 * HOUR;
              const deps = {
                ...syncDepsFor(services[mode], createEventLogger(memorySink().sink)),
                policyRetryWaitsMs: [],
              };
              log.push(
                await syncFeed(deps, feedId, { force: true }).then(
                  (s) => `queued sync: ${s.outcome}`,
                  (e: unknown) => `queued sync threw ${(e as Error).message}`,
                ),
              );
              feed = await services[mode].store.feeds.get(feedId);
            }
            const rows = await services[mode].store.meetings.listByFeed(feedId);
            log.push(
              `after the sync: feed row ${feed ? 'exists' : 'gone'}, ${rows.length} meeting rows left`,
            );
          } else {
            const v2 = random() < 0.5 ? updatedVersion(random, v1, ORGANIZERS) : reducedVersion(random, v1);
            log.push(`version 2: ${v2.changes.join(', ')}`);
            target = v2.timetable;
            await upload(mode, feedId, target);
            log.push(await running);
            await stop();
            await converge(mode, feedId, history, log);
          }
          return {
            outcome: countOutcome(emulator, expectedSessions(target), users),
            lostResponses: emulator.control.requestCounts().lostResponses,
            kills: 0,
          };
        });
      }
      finish('removal', 're-upload');
    },
  );
});

// ---- 3. two instances ----------------------------------------------------------------------------

describe('two instances (two CLI processes) syncing the same feed at once, 25 % lost responses', () => {
  const TRIALS = scaled(2, 20);
  it(
    `leaves 0 duplicates, 0 missing, 0 orphans over ${TRIALS} seeded trials`,
    { timeout: scaled(120_000, 1_200_000) },
    async () => {
      const seed0 = baseSeed(14_200_000);
      for (let t = 0; t < TRIALS; t++) {
        const seed = seed0 + t;
        await trial('two instances', seed, async (random, log, historyOf) => {
          const mode: Mode = random() < 0.5 ? 'delete' : 'lock';
          const feedId = `twin-${seed}`;
          const history = historyOf(feedId);
          const v1 = firstVersion(random, `t${seed}`, ORGANIZERS, SIZE);
          await upload(mode, feedId, v1);
          const faults = lostResponseFaults(random, seed, [10, 120]);
          emulator.control.setFaults(faults);
          let target = v1;
          if (t % 2 === 1) {
            await converge(mode, feedId, history, log);
            emulator.control.setFaults(faults);
            const v2 = t % 4 === 1 ? updatedVersion(random, v1, ORGANIZERS) : reducedVersion(random, v1);
            target = v2.timetable;
            log.push(`version 2: ${v2.changes.join(', ')}`);
            await upload(mode, feedId, target);
          }
          const headStart = randomInt(random, 0, 150);
          const killOne = random() < 1 / 3;
          const killAfterMs = randomInt(random, 100, 1_500);
          log.push(
            `${mode} mode; ${t % 2 === 1 ? 'version 2' : 'version 1'}; head start ${headStart} ms${killOne ? `; second killed after ${killAfterMs} ms` : ''}`,
          );
          const stop = history.poll('two runs');
          const a = cliSync(mode, feedId);
          await sleep(headStart);
          const b = cliSync(mode, feedId);
          if (killOne) void sleep(killAfterMs).then(() => b.kill());
          const [ra, rb] = await Promise.all([a.done, b.done]);
          await sleep(150);
          await stop();
          log.push(describeCli('first', ra), describeCli('second', rb));
          await converge(mode, feedId, history, log);
          return {
            outcome: countOutcome(emulator, expectedSessions(target), users),
            lostResponses: emulator.control.requestCounts().lostResponses,
            kills: rb.killed ? 1 : 0,
          };
        });
      }
      finish('two instances');
    },
  );
});
