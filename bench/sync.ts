// Parts 1 and 2: first-sync throughput against Graph's ceiling (with a one-at-a-time baseline), and
// the steady state (an unchanged second run, then one feed with 1 % of its sessions moved).
import { performance } from 'node:perf_hooks';

import type { RequestCounts } from '../src/emulator/index.js';
import { expandCalendar } from '../src/ical/index.js';
import type { RunSummary } from '../src/storage/index.js';
import {
  fixed,
  int,
  percent,
  pool,
  progress,
  type BenchOptions,
  type PartResult,
  type Row,
} from './common.js';
import { university, type DepartmentFeed, type UniversityOptions } from './university.js';
import {
  BENCH_NOW,
  newTenant,
  SEMESTER_START,
  tableCalls,
  type BenchEnv,
  type OpCounts,
  type Tenant,
} from './world.js';

/** Graph's ceiling as the emulator enforces it, and the daemon's settings (the production defaults). */
export const CEILING = { perAppPerSecond: 50, retryAfterSeconds: 1, latencyMs: 100 };
export const DAEMON_SETTINGS = { MAX_CONCURRENCY: '16', PER_ORGANIZER_CONCURRENCY: '4' };
/**
 * Feeds synced at once by one instance: host.json queues.batchSize (4) + newBatchThreshold (batchSize/2)
 * is the most queue messages one instance runs concurrently.
 */
const FEEDS_IN_PARALLEL = 6;

export interface SyncScale {
  university: UniversityOptions;
  /** Sessions the sequential baseline syncs (whole feeds, at least this many). */
  baselineSessions: number;
  /** Share of the feeds synced again without a ceiling (latency only). */
  uncappedShare: number;
}

export function syncScale(quick: boolean): SyncScale {
  return quick
    ? {
        university: { departments: 5, seriesPerDepartment: 5, lecturers: 30, start: SEMESTER_START },
        baselineSessions: 40,
        uncappedShare: 0.4,
      }
    : // 50 departments x 16 series ≈ 10,000 sessions; 300 lecturers (6 per department).
      {
        university: { departments: 50, seriesPerDepartment: 16, lecturers: 300, start: SEMESTER_START },
        baselineSessions: 150,
        uncappedShare: 0.2,
      };
}

export function lecturersOf(feeds: readonly DepartmentFeed[]): string[] {
  return [...new Set(feeds.flatMap((f) => f.lecturers))];
}

function snapshot(counts: OpCounts): OpCounts {
  return new Map(counts);
}

function diff(after: OpCounts, before: OpCounts): OpCounts {
  const out: OpCounts = new Map();
  for (const [key, n] of after)
    if (n - (before.get(key) ?? 0) !== 0) out.set(key, n - (before.get(key) ?? 0));
  return out;
}

function byMethod(counts: RequestCounts, method: string, status?: string): number {
  let total = 0;
  for (const [route, statuses] of Object.entries(counts.byRoute)) {
    if (!route.startsWith(`${method} /v1.0`)) continue;
    for (const [s, n] of Object.entries(statuses)) if (status === undefined || s === status) total += n;
  }
  return total;
}

interface SyncRun {
  summaries: RunSummary[];
  sessions: number;
  created: number;
  failed: number;
  seconds: number;
  graphRequests: number;
  throttled: number;
  ops: OpCounts;
  parses: number;
  limiter: ReturnType<Tenant['services']['limiter']['stats']>;
}

/** Uploads the feeds (not measured), then syncs them all, FEEDS_IN_PARALLEL at a time (measured). */
async function firstSync(
  env: BenchEnv,
  tenant: Tenant,
  feeds: readonly DepartmentFeed[],
  options: BenchOptions,
  label: string,
): Promise<SyncRun> {
  let sessions = 0;
  for (const feed of feeds) {
    const result = (await tenant.upload(feed.feedId, feed.text)) as { sessions: number };
    sessions += result.sessions;
  }
  // Warm the token cache so token acquisition is not part of the measured window (it is per process).
  await tenant.services.graph?.getToken();
  progress(options, `${label}: ${feeds.length} feeds, ${sessions} sessions uploaded; syncing`);
  const before = snapshot(tenant.ops);
  const parsesBefore = tenant.parses();
  const countsBefore = env.emulator.control.requestCounts();
  const t0 = performance.now();
  const summaries = await pool(feeds, FEEDS_IN_PARALLEL, (feed) => tenant.sync(feed.feedId));
  const seconds = (performance.now() - t0) / 1000;
  const countsAfter = env.emulator.control.requestCounts();
  const created = summaries.reduce((n, s) => n + s.created, 0);
  const failed = summaries.reduce((n, s) => n + s.failed + s.blocked, 0);
  progress(options, `${label}: ${created} created, ${failed} failed/blocked in ${seconds.toFixed(1)} s`);
  return {
    summaries,
    sessions,
    created,
    failed,
    seconds,
    graphRequests: countsAfter.graph - countsBefore.graph,
    throttled: countsAfter.graphThrottled - countsBefore.graphThrottled,
    ops: diff(tenant.ops, before),
    parses: tenant.parses() - parsesBefore,
    limiter: tenant.services.limiter.stats(),
  };
}

export function ceilingOn(env: BenchEnv): void {
  env.emulator.control.setThrottle({
    perAppPerSecond: CEILING.perAppPerSecond,
    retryAfterSeconds: CEILING.retryAfterSeconds,
  });
  env.emulator.control.setFaults({ latencyMs: CEILING.latencyMs });
}

export interface ThroughputOutcome {
  result: PartResult;
  tenant: Tenant;
  feeds: DepartmentFeed[];
}

export async function benchThroughput(env: BenchEnv, options: BenchOptions): Promise<ThroughputOutcome> {
  const part = '1 sync';
  const scale = syncScale(options.quick);
  const feeds = university(scale.university);
  const lecturers = lecturersOf(feeds);

  // Baseline first (small), on its own tenant: limiter max 1 = one Graph request at a time.
  const baselineFeeds: DepartmentFeed[] = [];
  let baselineTarget = 0;
  for (const feed of feeds) {
    if (baselineTarget >= scale.baselineSessions) break;
    baselineFeeds.push(feed);
    baselineTarget += countSessions(feed);
  }
  const sequential = await newTenant(env, {
    lecturers: lecturersOf(baselineFeeds),
    settings: { MAX_CONCURRENCY: '1', PER_ORGANIZER_CONCURRENCY: '1' },
  });
  ceilingOn(env);
  const base = await firstSync(env, sequential, baselineFeeds, options, 'baseline (limiter max 1)');

  // The same daemon without a ceiling (latency only) on a subset: what the limiter gives when Graph
  // does not throttle, i.e. whether MAX_CONCURRENCY or the ceiling bounds the speed-up. Before the main
  // run, whose state part 2 reuses (a new tenant resets the emulator).
  const freeFeeds = feeds.slice(0, Math.max(1, Math.round(feeds.length * scale.uncappedShare)));
  const free = await newTenant(env, { lecturers: lecturersOf(freeFeeds), settings: DAEMON_SETTINGS });
  env.emulator.control.setFaults({ latencyMs: CEILING.latencyMs });
  const uncapped = await firstSync(env, free, freeFeeds, options, 'no ceiling (latency only)');
  env.emulator.control.setFaults(null);
  const uncappedRate = uncapped.created / uncapped.seconds;

  const tenant = await newTenant(env, { lecturers, settings: DAEMON_SETTINGS });
  ceilingOn(env);
  const run = await firstSync(env, tenant, feeds, options, 'throughput');
  const meetings = env.emulator.control.meetings().length;
  const duplicates = env.emulator.control.duplicates();
  env.emulator.control.setThrottle(null);
  env.emulator.control.setFaults(null);

  const sessionsPerSecond = run.created / run.seconds;
  const accepted = run.graphRequests - run.throttled;
  const acceptedPerSecond = accepted / run.seconds;
  const ceilingShare = acceptedPerSecond / CEILING.perAppPerSecond;
  const throttledShare = run.graphRequests ? run.throttled / run.graphRequests : 0;
  const baseRate = base.created / base.seconds;
  const speedup = sessionsPerSecond / baseRate;
  // Each new meeting costs a createOrGet and the PATCH of its options (createOrGet ignores them), plus
  // look-ups: the ceiling bounds sessions/s at ceiling / requests per session.
  const requestsPerSession = run.graphRequests / Math.max(1, run.created);
  const sessionCeiling = CEILING.perAppPerSecond / requestsPerSession;
  const puts = run.ops.get('meetings.put') ?? 0;
  const rows: Row[] = [
    {
      part,
      figure: 'sessions / lecturers / feeds',
      value: `${int(run.sessions)} / ${lecturers.length} / ${feeds.length}`,
    },
    {
      part,
      figure: 'meetings created (emulator; duplicates)',
      value: `${int(run.created)} (${int(meetings)}; ${duplicates})`,
      target: `= sessions, 0 dup`,
      met: run.created === run.sessions && meetings === run.sessions && duplicates === 0,
    },
    { part, figure: 'wall time', value: `${fixed(run.seconds)} s` },
    { part, figure: 'sessions/s', value: fixed(sessionsPerSecond) },
    { part, figure: 'Graph requests accepted/s (ceiling 50/s)', value: fixed(acceptedPerSecond) },
    {
      part,
      figure: 'share of the ceiling reached',
      value: percent(ceilingShare),
      target: '>= 90 %',
      met: ceilingShare >= 0.9,
    },
    {
      part,
      figure: 'Graph requests / answered 429',
      value: `${int(run.graphRequests)} / ${int(run.throttled)}`,
    },
    {
      part,
      figure: 'share of requests answered 429',
      value: percent(throttledShare),
      target: '<= 5 %',
      met: throttledShare <= 0.05,
    },
    {
      part,
      figure: 'sessions failed or blocked',
      value: int(run.failed),
      target: '0',
      met: run.failed === 0,
    },
    {
      part,
      figure: 'limiter: final / peak concurrency, throttle signals',
      value: `${run.limiter.concurrency} / ${run.limiter.peak}, ${run.limiter.throttles}`,
    },
    {
      part,
      figure: 'Table calls (meetings.put per session)',
      value: `${int(tableCalls(run.ops))} (${fixed(puts / Math.max(1, run.created), 2)})`,
    },
    {
      part,
      figure: `baseline, limiter max 1: sessions (subset)`,
      value: `${int(base.created)} in ${fixed(base.seconds)} s`,
    },
    { part, figure: 'baseline sessions/s', value: fixed(baseRate, 2) },
    {
      part,
      figure: 'speed-up vs one-at-a-time',
      value: `${fixed(speedup)}x`,
      target: '>= 20x',
      met: speedup >= 20,
    },
    {
      part,
      figure: 'upper bound of the speed-up under this ceiling',
      value: `${fixed(sessionCeiling / baseRate)}x (50/s / ${fixed(requestsPerSession, 2)} requests per session / baseline)`,
    },
    {
      part,
      figure: `no ceiling (latency only): sessions/s (${int(uncapped.created)} sessions)`,
      value: `${fixed(uncappedRate)} = ${fixed(uncappedRate / baseRate)}x baseline, peak ${uncapped.limiter.peak}`,
    },
  ];
  const notes = [
    `sync: emulator ${CEILING.latencyMs} ms latency on every /v1.0 request, throttle ${CEILING.perAppPerSecond} requests/s per app (burst ${CEILING.perAppPerSecond}, Retry-After ${CEILING.retryAfterSeconds} s);` +
      ` daemon MAX_CONCURRENCY=${DAEMON_SETTINGS.MAX_CONCURRENCY} (limiter starts at min(8, MAX_CONCURRENCY) = 8), PER_ORGANIZER_CONCURRENCY=${DAEMON_SETTINGS.PER_ORGANIZER_CONCURRENCY},` +
      ` ${FEEDS_IN_PARALLEL} feeds synced at once (host.json batchSize 4 + newBatchThreshold 2), SDK RetryHandler defaults.`,
    `sync: baseline = same ceiling and latency, MAX_CONCURRENCY=1 and PER_ORGANIZER_CONCURRENCY=1, on the first ${baselineFeeds.length} feed(s) (${int(base.created)} sessions); a sequential rate does not depend on the session count, so it is compared as measured.`,
  ];
  if (run.failed > 0)
    notes.push(
      `sync: first problems: ${tenant.events.problems
        .slice(0, 3)
        .map((e) => `${e.name} ${JSON.stringify(e.properties).slice(0, 200)}`)
        .join(' | ')}`,
    );
  return { result: { part, rows, notes }, tenant, feeds };
}

/** Sessions of one feed within the sync window, as the sync will see them (for sizing the baseline subset). */
function countSessions(feed: DepartmentFeed): number {
  const now = Date.parse(BENCH_NOW);
  return expandCalendar(feed.text, { from: now - 86_400_000, to: now + 120 * 86_400_000 }).occurrences.filter(
    (o) => o.status !== 'cancelled',
  ).length;
}

/** Moves 1 % of one feed's sessions (at least one) by an hour, as RECURRENCE-ID overrides in UTC. */
export function moveOnePercent(feed: DepartmentFeed): { text: string; moved: number } {
  const now = Date.parse(BENCH_NOW);
  const { occurrences } = expandCalendar(feed.text, { from: now - 86_400_000, to: now + 120 * 86_400_000 });
  // Instances of a series that were not moved already (recurrenceId = original start = start).
  const plain = occurrences.filter(
    (o) => o.recurrenceId !== null && o.recurrenceId === o.start && o.status !== 'cancelled',
  );
  const count = Math.max(1, Math.round(plain.length / 100));
  const step = Math.floor(plain.length / count);
  const utc = (iso: string, shiftMs = 0): string =>
    new Date(Date.parse(iso) + shiftMs)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const overrides: string[] = [];
  for (let i = 0; i < count; i++) {
    const o = plain[i * step];
    if (!o) continue;
    overrides.push(
      'BEGIN:VEVENT',
      `UID:${o.uid}`,
      'DTSTAMP:20261215T120000Z',
      'SEQUENCE:5',
      `RECURRENCE-ID:${utc(o.recurrenceId ?? o.start)}`,
      `DTSTART:${utc(o.start, 3_600_000)}`,
      `DTEND:${utc(o.end, 3_600_000)}`,
      `SUMMARY:${o.summary}`,
      `ORGANIZER;CN=Lecturer:mailto:${o.organizer?.email ?? ''}`,
      'END:VEVENT',
    );
  }
  return {
    text: feed.text.replace('END:VCALENDAR', `${overrides.join('\r\n')}\r\nEND:VCALENDAR`),
    moved: overrides.length / 10,
  };
}

export async function benchSteady(
  env: BenchEnv,
  options: BenchOptions,
  prepared?: ThroughputOutcome,
): Promise<PartResult> {
  const part = '2 steady';
  let tenant: Tenant;
  let feeds: DepartmentFeed[];
  const notes: string[] = [];
  if (prepared) {
    ({ tenant, feeds } = prepared);
    notes.push('steady: the feeds and state of part 1 (same process, same tenant).');
  } else {
    // Run alone: create the state first without a ceiling (not measured).
    feeds = university(syncScale(options.quick).university);
    tenant = await newTenant(env, { lecturers: lecturersOf(feeds), settings: DAEMON_SETTINGS });
    for (const feed of feeds) await tenant.upload(feed.feedId, feed.text);
    progress(options, `steady: first sync of ${feeds.length} feeds (setup, not measured)`);
    await pool(feeds, FEEDS_IN_PARALLEL, (feed) => tenant.sync(feed.feedId));
    notes.push('steady: state created by an unmeasured first sync without throttling.');
  }
  env.emulator.control.setThrottle(null);
  env.emulator.control.setFaults({ latencyMs: CEILING.latencyMs });
  const steadyFeeds = feeds.slice(0, 50);

  // Unchanged second run over the same feeds.
  const before = new Map(tenant.ops);
  const parsesBefore = tenant.parses();
  const statsBefore = tenant.services.graph?.stats() ?? { requests: 0, throttled: 0 };
  const emBefore = env.emulator.control.requestCounts().graph;
  const t0 = performance.now();
  const summaries = await pool(steadyFeeds, FEEDS_IN_PARALLEL, (feed) => tenant.sync(feed.feedId));
  const ms = performance.now() - t0;
  const ops = diff(tenant.ops, before);
  const graphCalls = (tenant.services.graph?.stats().requests ?? 0) - statsBefore.requests;
  const emCalls = env.emulator.control.requestCounts().graph - emBefore;
  const parses = tenant.parses() - parsesBefore;
  const tables = tableCalls(ops);
  const partitionReads = ops.get('meetings.listByFeed') ?? 0;
  const skipped = summaries.filter((s) => s.outcome === 'unchanged').length;
  progress(options, `steady: ${steadyFeeds.length} unchanged feeds in ${ms.toFixed(0)} ms`);

  // One feed with 1 % of its sessions moved.
  const target = steadyFeeds[0] as DepartmentFeed;
  const { text, moved } = moveOnePercent(target);
  await tenant.upload(target.feedId, text);
  const before2 = new Map(tenant.ops);
  const parses2 = tenant.parses();
  const em2 = env.emulator.control.requestCounts();
  const t1 = performance.now();
  const summary = await tenant.sync(target.feedId);
  const ms2 = performance.now() - t1;
  const em3 = env.emulator.control.requestCounts();
  const ops2 = diff(tenant.ops, before2);
  const patches = byMethod(em3, 'PATCH') - byMethod(em2, 'PATCH');
  const posts = byMethod(em3, 'POST') - byMethod(em2, 'POST');
  const deletes = byMethod(em3, 'DELETE') - byMethod(em2, 'DELETE');
  const perFeed = tables / steadyFeeds.length;
  const rows: Row[] = [
    {
      part,
      figure: `unchanged run: feeds (skipped by fast path)`,
      value: `${steadyFeeds.length} (${skipped})`,
    },
    {
      part,
      figure: 'unchanged run: Graph calls (client / emulator)',
      value: `${graphCalls} / ${emCalls}`,
      target: '0',
      met: graphCalls === 0 && emCalls === 0,
    },
    { part, figure: 'unchanged run: feed parses', value: String(parses), target: '0', met: parses === 0 },
    {
      part,
      figure: 'unchanged run: Table calls per feed',
      value: `${fixed(perFeed, 2)} (${describe(ops)})`,
      target: '<= 1 read',
      met: perFeed <= 1 && sumWrites(ops) === 0,
    },
    { part, figure: 'unchanged run: meeting partition queries', value: String(partitionReads) },
    { part, figure: 'unchanged run: wall time (all feeds)', value: `${fixed(ms, 0)} ms` },
    { part, figure: '1 % moved: sessions moved in one feed', value: String(moved) },
    {
      part,
      figure: '1 % moved: PATCH / POST / DELETE',
      value: `${patches} / ${posts} / ${deletes}`,
      target: `${moved} / 0 / 0`,
      met: patches === moved && posts === 0 && deletes === 0,
    },
    {
      part,
      figure: '1 % moved: run summary updated / created / cancelled',
      value: `${summary.updated} / ${summary.created} / ${summary.cancelled}`,
    },
    {
      part,
      figure: '1 % moved: parses, Table calls',
      value: `${tenant.parses() - parses2}, ${tableCalls(ops2)} (${describe(ops2)})`,
    },
    { part, figure: '1 % moved: wall time', value: `${fixed(ms2, 0)} ms` },
  ];
  notes.push(
    `steady: ${CEILING.latencyMs} ms Graph latency, no throttle; Table calls counted by a proxy around every StateStore repository; parses = sync.planned + feed.rejected events.`,
  );
  return { part, rows, notes };
}

function sumWrites(ops: OpCounts): number {
  let n = 0;
  for (const [key, count] of ops)
    if (/\.(put|putMany|update|create|add|delete)/.test(key) && !key.startsWith('feedBodies.')) n += count;
  return n;
}

function describe(ops: OpCounts): string {
  return [...ops]
    .filter(([key]) => !key.endsWith('.rows'))
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
}

export { BENCH_NOW };
