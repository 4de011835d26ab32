// Part 6: scale-out. 1, 2 and 4 Function instances — worker processes (bench/scale-worker.ts), each
// with its own services from src/compose.ts — consume one tenant's sync queue on the same Azurite and
// share one Graph ceiling (the emulator's per-app token bucket, with latency). The timer's fan-out
// (src/handlers/sync.ts fanOutSync) enqueues one message per feed; a third of the way through it fires
// again, as a schedule does when a university's first sync outlasts its interval, so feeds still
// running get a second message that the fencing must defer.
//
// Per instance count: share of the ceiling and of requests answered 429 (the emulator's counts), wall
// time until every feed's first sync finished, duplicates / missing / orphans counted from the
// emulator's meeting list (bench/outcome.ts), and feeds synced twice at once: two lease intervals of
// one feed that overlap, each taken from the acquire that succeeded to the release, in the instances'
// own clocks (one machine).
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import azureFunctions from '@azure/functions';

import { fanOutSync } from '../src/handlers/sync.js';
import { fixed, int, percent, progress, type BenchOptions, type PartResult, type Row } from './common.js';
import { countOutcome, type Outcome } from './outcome.js';
import { hostQueueSettings, type WorkerReport } from './scale-worker.js';
import { CEILING, DAEMON_SETTINGS, ceilingOn, lecturersOf } from './sync.js';
import { university, type DepartmentFeed, type UniversityOptions } from './university.js';
import { BENCH_NOW, newTenant, SEMESTER_START, type BenchEnv, type Tenant } from './world.js';

// CommonJS: no named exports under ESM.
const { InvocationContext } = azureFunctions;

const WORKER = fileURLToPath(new URL('./scale-worker.js', import.meta.url));
export const INSTANCE_COUNTS = [1, 2, 4] as const;

export function scaleUniversity(quick: boolean): UniversityOptions {
  return quick
    ? { departments: 4, seriesPerDepartment: 3, lecturers: 24, start: SEMESTER_START }
    : // 24 departments x 10 series ≈ 3,000 sessions: about two minutes of the ceiling per row.
      { departments: 24, seriesPerDepartment: 10, lecturers: 144, start: SEMESTER_START };
}

interface Lease {
  instance: number;
  feedId: string;
  from: number;
  to: number;
}

export interface ScaleRun {
  instances: number;
  /** Whether the instances shared the ceiling (src/sync/rateShare.ts) or each paced alone. */
  shared: boolean;
  sessions: number;
  seconds: number;
  graphRequests: number;
  throttled: number;
  outcome: Outcome;
  /** Feeds with two lease intervals that overlap. */
  feedsTwiceAtOnce: number;
  messages: Record<Extract<WorkerReport, { type: 'message' }>['outcome'], number>;
  failed: number;
  /** Graph requests each instance sent (its own client's count). */
  perInstance: number[];
  /** Feeds whose first sync each instance ran. */
  feedsPerInstance: number[];
  peakRssMb: number;
  limiterPeaks: number[];
  /** Requests accepted in each second of the wall time. */
  perSecond: number[];
  /** Shares of the ceiling taken from instances that left, per instance. */
  sharesTaken: number[];
}

/** Feeds with at least two lease intervals that overlap in time. */
export function feedsHeldTwice(leases: readonly Lease[]): number {
  const byFeed = new Map<string, Lease[]>();
  for (const l of leases) byFeed.set(l.feedId, [...(byFeed.get(l.feedId) ?? []), l]);
  let twice = 0;
  for (const list of byFeed.values()) {
    const sorted = [...list].sort((a, b) => a.from - b.from);
    if (sorted.some((l, i) => i > 0 && l.from < Math.max(...sorted.slice(0, i).map((p) => p.to)))) twice++;
  }
  return twice;
}

interface Worker {
  child: ChildProcess;
  done: Promise<Extract<WorkerReport, { type: 'done' }>>;
  stderr: string[];
}

function startWorker(
  tenant: Tenant,
  instance: number,
  shared: boolean,
  onReport: (report: WorkerReport) => void,
): { worker: Worker; ready: Promise<void> } {
  const stderr: string[] = [];
  const child = fork(WORKER, [tenant.namePrefix, String(instance), shared ? 'share' : 'alone'], {
    env: { ...process.env, ...tenant.appSettings },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    if (stderr.length > 20) stderr.shift();
  });
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const done = new Promise<Extract<WorkerReport, { type: 'done' }>>((resolve, reject) => {
    child.on('message', (report: WorkerReport) => {
      if (report.type === 'ready') readyResolve();
      else if (report.type === 'done') resolve(report);
      else onReport(report);
    });
    child.on('exit', (code) =>
      reject(new Error(`scale worker ${instance} exited (${code}) early: ${stderr.join('').slice(-2000)}`)),
    );
  });
  // A worker that dies before it is ready fails the wait for it too.
  return { worker: { child, done, stderr }, ready: Promise.race([ready, done.then(() => undefined)]) };
}

async function fanOut(tenant: Tenant): Promise<number> {
  const context = new InvocationContext({
    functionName: 'syncTimer',
    invocationId: randomUUID(),
    logHandler: () => undefined,
  });
  const messages = await fanOutSync(context, tenant.services);
  for (const message of messages) await tenant.services.store.syncQueue.enqueue(message);
  return messages.length;
}

export async function scaleRun(
  env: BenchEnv,
  feeds: readonly DepartmentFeed[],
  instances: number,
  options: BenchOptions,
  timeoutMs: number,
  shared = true,
): Promise<ScaleRun> {
  const tenant = await newTenant(env, { lecturers: lecturersOf(feeds), settings: DAEMON_SETTINGS });
  let sessions = 0;
  for (const feed of feeds) {
    const result = (await tenant.upload(feed.feedId, feed.text)) as { sessions: number };
    sessions += result.sessions;
  }
  ceilingOn(env);

  const leases: Lease[] = [];
  const messages: ScaleRun['messages'] = { synced: 0, skipped: 0, deferred: 0, crashed: 0, dropped: 0 };
  const syncedFeeds = new Set<string>();
  const feedsPerInstance = Array.from({ length: instances }, () => 0);
  let failed = 0;
  /** Messages the instances took and have not finished yet. */
  let inFlight = 0;
  let changed: () => void = () => undefined;
  const onReport = (report: WorkerReport): void => {
    if (report.type === 'lease') leases.push(report);
    if (report.type === 'received') inFlight += report.count;
    if (report.type === 'message') {
      inFlight--;
      messages[report.outcome]++;
      if (report.outcome === 'synced' && !syncedFeeds.has(report.feedId)) {
        syncedFeeds.add(report.feedId);
        feedsPerInstance[report.instance] = (feedsPerInstance[report.instance] ?? 0) + 1;
      }
      failed += report.failed;
    }
    changed();
  };
  const started = Array.from({ length: instances }, (_, i) => startWorker(tenant, i, shared, onReport));
  const workers = started.map((s) => s.worker);
  try {
    await Promise.all(started.map((s) => s.ready));
    progress(options, `scale x${instances}: ${feeds.length} feeds, ${sessions} sessions; syncing`);

    const countsBefore = env.emulator.control.requestCounts();
    const t0 = Date.now();
    // Requests accepted in each second: whether the ceiling is used in the middle of the run, or only lost
    // in its tail (the last feeds running alone).
    const perSecond: number[] = [];
    let lastAccepted = 0;
    const sampler = setInterval(() => {
      const c = env.emulator.control.requestCounts();
      const accepted = c.graph - c.graphThrottled - (countsBefore.graph - countsBefore.graphThrottled);
      perSecond.push(accepted - lastAccepted);
      lastAccepted = accepted;
    }, 1000);
    await fanOut(tenant);
    // The schedule fires again a third of the way through (at the ceiling, ~2 requests per session).
    const secondTickMs = ((sessions * 2.05) / CEILING.perAppPerSecond / 3) * 1000;
    let ticked = false;
    const tickFailure: { error: Error | null } = { error: null };
    const tick = setTimeout(() => {
      fanOut(tenant).then(
        () => {
          ticked = true;
          changed();
        },
        (error: unknown) => {
          tickFailure.error = error instanceof Error ? error : new Error(String(error));
          changed();
        },
      );
    }, secondTickMs);
    let seconds = 0;
    let countsAtEnd = countsBefore;
    const deadline = t0 + timeoutMs;
    for (;;) {
      // A busy Azurite can time the fan-out's feed list out: the run ends with that error, not a crash.
      if (tickFailure.error !== null) {
        clearInterval(sampler);
        throw tickFailure.error;
      }
      if (seconds === 0 && syncedFeeds.size === feeds.length) {
        seconds = (Date.now() - t0) / 1000;
        clearInterval(sampler);
        countsAtEnd = env.emulator.control.requestCounts();
      }
      // Every feed synced once: what is still queued (deferred second requests) would find the feeds
      // unchanged; the instances finish what they hold and stop.
      if (seconds > 0 && ticked && inFlight === 0) break;
      if (Date.now() > deadline) {
        clearTimeout(tick);
        clearInterval(sampler);
        throw new Error(
          `scale x${instances}: not done after ${timeoutMs / 1000} s (${syncedFeeds.size} of ${feeds.length} feeds synced, ${inFlight} messages in flight)`,
        );
      }
      await new Promise<void>((resolve) => {
        changed = resolve;
        setTimeout(resolve, 500);
      });
    }
    clearTimeout(tick);
    clearInterval(sampler);
    for (const w of workers) w.child.send({ type: 'stop' });
    const done = await Promise.all(workers.map((w) => w.done));
    env.emulator.control.setThrottle(null);
    env.emulator.control.setFaults(null);
    const outcome = countOutcome(env.emulator, feeds, tenant.services.config, Date.parse(BENCH_NOW));
    const run: ScaleRun = {
      instances,
      shared,
      sessions,
      seconds,
      graphRequests: countsAtEnd.graph - countsBefore.graph,
      throttled: countsAtEnd.graphThrottled - countsBefore.graphThrottled,
      outcome,
      feedsTwiceAtOnce: feedsHeldTwice(leases),
      messages,
      failed,
      perInstance: done.map((d) => d.graphRequests),
      feedsPerInstance,
      peakRssMb: Math.max(...done.map((d) => d.peakRssMb)),
      limiterPeaks: done.map((d) => d.limiterPeak),
      perSecond,
      sharesTaken: done.map((d) => d.sharesTaken),
    };
    progress(
      options,
      `scale x${instances}: ${fixed(seconds)} s, ${run.graphRequests} requests, ${run.throttled} answered 429, outcome ${JSON.stringify(outcome)}, feeds twice at once ${run.feedsTwiceAtOnce}`,
    );
    return run;
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
  }
}

/** Mean of each fifth of the samples. */
function fifths(samples: readonly number[]): number[] {
  return [0, 1, 2, 3, 4].map((k) => {
    const slice = samples.slice(
      Math.floor((k * samples.length) / 5),
      Math.floor(((k + 1) * samples.length) / 5),
    );
    return slice.length ? slice.reduce((a, b) => a + b, 0) / slice.length : 0;
  });
}

export function scaleRows(part: string, runs: readonly ScaleRun[], label = ''): Row[] {
  const rows: Row[] = [];
  const one = runs[0];
  for (const run of runs) {
    const n = `${run.instances} instance${run.instances > 1 ? 's' : ''}${run.shared ? '' : ' pacing alone'}${label}`;
    const last = run.shared && run.instances === INSTANCE_COUNTS[INSTANCE_COUNTS.length - 1];
    const accepted = run.graphRequests - run.throttled;
    const share = accepted / run.seconds / CEILING.perAppPerSecond;
    const throttled = run.graphRequests ? run.throttled / run.graphRequests : 0;
    const target = (text: string, met: boolean): Pick<Row, 'target' | 'met'> =>
      last ? { target: text, met } : {};
    rows.push(
      {
        part,
        figure: `${n}: share of the ceiling reached`,
        value: percent(share),
        ...target('>= 90 %', share >= 0.9),
      },
      {
        part,
        figure: `${n}: share of requests answered 429`,
        value: `${percent(throttled)} (${int(run.throttled)} of ${int(run.graphRequests)})`,
        ...target('<= 5 %', throttled <= 0.05),
      },
      {
        part,
        figure: `${n}: accepted/s by fifth of the run`,
        value: fifths(run.perSecond)
          .map((v) => fixed(v, 0))
          .join(' / '),
      },
      {
        part,
        figure: `${n}: wall time`,
        value: `${fixed(run.seconds)} s${one && run !== one ? ` (${fixed(run.seconds / one.seconds, 2)}x of 1 instance)` : ''}`,
      },
      {
        part,
        figure: `${n}: duplicates / orphans`,
        value: `${run.outcome.duplicates} / ${run.outcome.orphans} (${int(run.outcome.live)} live meetings for ${int(run.outcome.expected)} sessions)`,
        ...target('0 / 0', run.outcome.duplicates === 0 && run.outcome.orphans === 0),
      },
      {
        part,
        figure: `${n}: missing (sessions failed, retried next run)`,
        value: `${run.outcome.missing} (${run.failed})`,
      },
      {
        part,
        figure: `${n}: feeds synced twice at once`,
        value: String(run.feedsTwiceAtOnce),
        ...target('0', run.feedsTwiceAtOnce === 0),
      },
      {
        part,
        figure: `${n}: messages synced / skipped / deferred / crashed`,
        value: `${run.messages.synced} / ${run.messages.skipped} / ${run.messages.deferred} / ${run.messages.crashed}`,
      },
      {
        part,
        figure: `${n}: per instance: feeds / Graph requests / peak in flight`,
        value: run.perInstance
          .map((r, i) => `${run.feedsPerInstance[i] ?? 0} / ${int(r)} / ${run.limiterPeaks[i] ?? 0}`)
          .join(', '),
      },
      ...(run.instances > 1 && run.shared
        ? [
            {
              part,
              figure: `${n}: shares of the ceiling taken from instances that left`,
              value: run.sharesTaken.join(', '),
            },
          ]
        : []),
    );
  }
  return rows;
}

export async function benchScale(env: BenchEnv, options: BenchOptions): Promise<PartResult> {
  const part = '6 scale';
  const feeds = university(scaleUniversity(options.quick));
  const runs: ScaleRun[] = [];
  const timeoutMs = options.quick ? 180_000 : 900_000;
  for (const instances of INSTANCE_COUNTS)
    runs.push(await scaleRun(env, feeds, instances, options, timeoutMs));
  // The before row: the most instances, each pacer learning its share alone (not in --quick).
  const most = INSTANCE_COUNTS[INSTANCE_COUNTS.length - 1] ?? 4;
  if (!options.quick) runs.push(await scaleRun(env, feeds, most, options, timeoutMs, false));
  const queue = hostQueueSettings();
  const first = runs[0] as ScaleRun;
  const rows: Row[] = [
    {
      part,
      figure: 'sessions / lecturers / feeds',
      value: `${int(first.sessions)} / ${lecturersOf(feeds).length} / ${feeds.length}`,
    },
    ...scaleRows(part, runs),
    {
      part,
      figure: 'peak RSS of one instance',
      value: `${fixed(Math.max(...runs.map((r) => r.peakRssMb)), 0)} MB`,
    },
  ];
  return {
    part,
    rows,
    notes: [
      `scale: each instance is a process with its own services from src/compose.ts (MAX_CONCURRENCY=${DAEMON_SETTINGS.MAX_CONCURRENCY}, PER_ORGANIZER_CONCURRENCY=${DAEMON_SETTINGS.PER_ORGANIZER_CONCURRENCY}) taking messages from one queue as the host does with host.json (batchSize ${queue.batchSize}, newBatchThreshold ${queue.newBatchThreshold}, visibilityTimeout ${queue.visibilityTimeoutSeconds} s, maxDequeueCount ${queue.maxDequeueCount}; empty-queue polls 0.1-2 s) and handing them to src/handlers/sync.ts; one emulator ceiling for all: ${CEILING.perAppPerSecond} requests/s per app, burst ${CEILING.perAppPerSecond}, Retry-After ${CEILING.retryAfterSeconds} s, ${CEILING.latencyMs} ms latency.`,
      "scale: the timer fans out one message per feed, and again a third of the way through (feeds still running are deferred by their lease); wall time = until every feed's first sync finished; share of the ceiling = requests answered without 429 per second of it / the ceiling; duplicates / missing / orphans from the emulator's meeting list against the feeds' desired sessions; \"twice at once\" = two lease intervals of one feed (acquired → released, as the instances saw them) that overlap.",
    ],
  };
}
