// `timetable-sync demo` (what `npm start` runs without Graph settings): the whole product on this
// machine. Starts Azurite and the Graph emulator on free ports, seeds the emulator's directory with the
// feed's lecturers, grants the access policy the way an admin would, registers the feed, runs the sync
// twice and reports what happened — then stops everything.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { decodeCalendarBody, uploadFeed } from '../admin/feeds.js';
import { recordPolicyGrant } from '../admin/policies.js';
import { buildServices, type AppServices } from '../compose.js';
import { loadConfig } from '../config.js';
import { normalizeEmail } from '../core/identity.js';
import { createEventLogger, memorySink, type LoggedEvent } from '../events.js';
import { startAzurite, type AzuriteInstance } from '../dev/azurite.js';
import { emulatorAppSettings, startGraphEmulator, type EmulatorHandle } from '../emulator/index.js';
import { syncDepsFor } from '../handlers/sync.js';
import { expandCalendar } from '../ical/index.js';
import type { RunSummary } from '../storage/index.js';
import { syncFeed } from '../sync/syncFeed.js';
import { serveAdmin } from '../web/serve.js';
import { UsageError, parseArgs } from './errors.js';
import { ADMIN_KEY_ENV, parsePort, untilInterrupted } from './serve.js';
import { clockFrom, formatTable } from './context.js';
import { SUMMARY_COLUMNS } from './report.js';

export const SAMPLE_FEED = fileURLToPath(new URL('../../../samples/university.ics', import.meta.url));
/** The sample semester starts on Mon 11 Jan 2027; the demo's clock starts the week before. */
export const SAMPLE_NOW = '2027-01-04T08:00:00Z';
const SAMPLE_FEED_ID = 'northbridge-spring-2027';
/** Roles of two sample lecturers (samples/README.md): the rest are granted and effective at once. */
const SAMPLE_NO_POLICY = 'p.quill@northbridge.example';
const SAMPLE_PROPAGATING = 'r.hooke@northbridge.example';
const SAMPLE_PROPAGATION_MS = 5_000;

export interface DemoOptions {
  feedPath?: string;
  now?: string;
  horizonDays?: number;
  /** Called with the running services after the two passes (the admin page's --serve keeps them up). */
  keepRunning?: (ctx: DemoContext) => Promise<void>;
}

export interface DemoContext {
  report: DemoReport;
  services: AppServices;
  emulator: EmulatorHandle;
  azurite: AzuriteInstance;
  feedId: string;
}

export interface DemoReport {
  mode: 'sample' | 'file';
  feed: string;
  now: string;
  lecturers: Array<{ email: string; objectId: string; policy: 'granted' | 'propagating' | 'none' }>;
  passes: RunSummary[];
  events: LoggedEvent[];
  emulator: { meetings: number; duplicates: number; graphRequests: number; throttled: number };
}

/** Lecturers named as ORGANIZER in the feed (within the horizon), with their display names. */
function lecturersOf(
  text: string,
  nowMs: number,
  horizonDays: number,
): Array<{ email: string; name: string }> {
  const { occurrences } = expandCalendar(text, {
    from: nowMs - 86_400_000,
    to: nowMs + horizonDays * 86_400_000,
  });
  const byEmail = new Map<string, string>();
  for (const occ of occurrences) {
    const email = occ.organizer?.email ? normalizeEmail(occ.organizer.email) : '';
    if (email && !byEmail.has(email)) byEmail.set(email, occ.organizer?.name ?? email);
  }
  return [...byEmail]
    .map(([email, name]) => ({ email, name }))
    .sort((a, b) => a.email.localeCompare(b.email));
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const mode = options.feedPath ? 'file' : 'sample';
  const feedPath = options.feedPath ?? SAMPLE_FEED;
  const text = decodeCalendarBody(await readFile(feedPath), 50 * 1024 * 1024, feedPath);
  const now = clockFrom(options.now ?? (mode === 'sample' ? SAMPLE_NOW : undefined));
  const horizonDays = options.horizonDays ?? 120;
  const lecturers = lecturersOf(text, now().getTime(), horizonDays);

  const workDir = await mkdtemp(path.join(tmpdir(), 'timetable-sync-demo-'));
  let azurite: AzuriteInstance | undefined;
  let emulator: EmulatorHandle | undefined;
  try {
    [azurite, emulator] = await Promise.all([startAzurite(), startGraphEmulator({ propagationDelayMs: 0 })]);
    const caFile = path.join(workDir, 'graph-emulator-ca.pem');
    await writeFile(caFile, emulator.caCertPem);
    // The same settings a person would put in local.settings.json to point the daemon at the emulator.
    const config = loadConfig({
      ...emulatorAppSettings(emulator, caFile),
      AzureWebJobsStorage: azurite.connectionString,
      HORIZON_DAYS: String(horizonDays),
    });
    const services: AppServices = { ...(await buildServices(config)), now };

    // The admin's side: seed the directory, create the policy, grant it (per lecturer), record the grants.
    const users = emulator.control.seedUsers(
      lecturers.map((l) => ({ displayName: l.name, userPrincipalName: l.email, mail: l.email })),
    );
    emulator.control.newPolicy(config.policy.policyName, [emulator.clientId], 'timetable-sync demo');
    const roles: DemoReport['lecturers'] = [];
    for (const user of users) {
      const email = user.mail ?? user.userPrincipalName;
      const policy =
        mode === 'sample' && email === SAMPLE_NO_POLICY
          ? 'none'
          : mode === 'sample' && email === SAMPLE_PROPAGATING
            ? 'propagating'
            : 'granted';
      roles.push({ email, objectId: user.id, policy });
      if (policy === 'none') continue;
      emulator.control.grantPolicy(
        config.policy.policyName,
        { userId: user.id },
        { delayMs: policy === 'propagating' ? SAMPLE_PROPAGATION_MS : 0 },
      );
      await recordPolicyGrant(services, { user: user.id, grantedAt: now().toISOString() });
    }
    await uploadFeed(services, SAMPLE_FEED_ID, text, {});

    const { sink, events } = memorySink();
    const deps = syncDepsFor(services, createEventLogger(sink));
    const passes = [await syncFeed(deps, SAMPLE_FEED_ID), await syncFeed(deps, SAMPLE_FEED_ID)];
    const requests = emulator.control.requestCounts();
    const report: DemoReport = {
      mode,
      feed: feedPath,
      now: passes[0]?.startedAt ?? now().toISOString(),
      lecturers: roles,
      passes,
      events,
      emulator: {
        meetings: emulator.control.meetings().length,
        duplicates: emulator.control.duplicates(),
        graphRequests: requests.graph,
        throttled: requests.graphThrottled,
      },
    };
    if (options.keepRunning)
      await options.keepRunning({ report, services, emulator, azurite, feedId: SAMPLE_FEED_ID });
    return report;
  } finally {
    await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
    await rm(workDir, { recursive: true, force: true });
  }
}

function eventsNamed(report: DemoReport, name: string): LoggedEvent[] {
  return report.events.filter((e) => e.name === name);
}

export function formatDemoReport(report: DemoReport): string {
  const out: string[] = [];
  out.push(`timetable-sync demo — local Azurite + Graph emulator (no Microsoft tenant is contacted)`);
  out.push(
    `feed: ${report.mode === 'sample' ? 'bundled sample, Northbridge University Spring 2027' : report.feed}`,
  );
  out.push(
    `sync clock: ${report.now}${report.mode === 'sample' ? ' (a week before the semester; --now to change)' : ''}`,
  );
  out.push('');
  out.push('Lecturers (seeded in the emulator directory):');
  out.push(
    formatTable(
      ['lecturer', 'object id', 'access policy'],
      report.lecturers.map((l) => [
        l.email,
        l.objectId,
        l.policy === 'none'
          ? 'not granted'
          : l.policy === 'propagating'
            ? 'granted, still propagating (5 s)'
            : 'granted',
      ]),
    ),
  );
  out.push('');
  out.push('Sync passes:');
  out.push(
    formatTable(
      ['pass', 'outcome', ...SUMMARY_COLUMNS, 'graph calls', 'ms'],
      report.passes.map((p, i) => [
        String(i + 1),
        p.outcome,
        ...SUMMARY_COLUMNS.map((c) => p[c]),
        p.graphCalls,
        p.durationMs,
      ]),
    ),
  );
  out.push('');
  const waited = eventsNamed(report, 'policy.propagating.waiting');
  const active = eventsNamed(report, 'policy.active');
  if (waited.length > 0) {
    out.push(
      `Policy propagation: waited ${waited.length}× for a grant to reach Graph${active.length > 0 ? '; it took effect within the run and the meetings were created' : ''}.`,
    );
  }
  const missing = eventsNamed(report, 'policy.missing');
  if (missing.length > 0) {
    out.push(
      'Blocked — no application access policy (run these in Teams PowerShell, then `timetable-sync policy grant --user <id>`):',
    );
    for (const event of missing) out.push(`  ${String(event.properties.grantCommand)}`);
  }
  for (const event of eventsNamed(report, 'organizer.unresolved'))
    out.push(`Blocked — organizer ${String(event.properties.email)}: ${String(event.properties.reason)}`);
  for (const event of eventsNamed(report, 'session.skipped')) {
    out.push(
      `Skipped — ${String(event.properties.count)} session(s), reason ${String(event.properties.reason)}${event.properties.reason === 'noOrganizer' ? " (set the feed's default organizer or add ORGANIZER)" : ''}`,
    );
  }
  for (const event of eventsNamed(report, 'guard.cancellations.held'))
    out.push(
      `Deletion guard held ${String(event.properties.wouldCancel)} cancellations (${String(event.properties.reason)})`,
    );
  out.push('');
  out.push(
    `Emulator: ${report.emulator.meetings} meetings, ${report.emulator.duplicates} duplicates, ${report.emulator.graphRequests} Graph requests (${report.emulator.throttled} throttled).` +
      (report.passes[1]?.graphCalls === 0 ? ' Pass 2 found the feed unchanged and made no Graph call.' : ''),
  );
  return out.join('\n');
}

export function demoJson(report: DemoReport): string {
  return JSON.stringify({
    passes: report.passes.map((p) => ({
      created: p.created,
      updated: p.updated,
      cancelled: p.cancelled,
      unchanged: p.unchanged,
      blocked: p.blocked,
      failed: p.failed,
    })),
    emulator: { meetings: report.emulator.meetings, duplicates: report.emulator.duplicates },
  });
}

/** `--serve`: after the report, keep Azurite, the emulator and the admin page running until Ctrl-C. */
function serveUntilInterrupted(port: number): NonNullable<DemoOptions['keepRunning']> {
  return async ({ services }) => {
    const adminKey = process.env[ADMIN_KEY_ENV] || randomBytes(18).toString('base64url');
    const server = await serveAdmin({ services, adminKey, port });
    console.log(
      `\nAdmin page: ${server.url}\nFunction key (this demo only): ${adminKey}\nCtrl-C stops the page, Azurite and the Graph emulator.`,
    );
    await untilInterrupted();
    await server.stop();
  };
}

export async function run(args: string[]): Promise<number> {
  const { values, flags } = parseArgs(args, {
    values: ['feed', 'now', 'horizon-days', 'port'],
    flags: ['json', 'serve'],
  });
  const horizon = values.get('horizon-days');
  if (horizon !== undefined && !/^\d+$/.test(horizon))
    throw new UsageError('--horizon-days must be a whole number');
  let printed = false;
  const print = (report: DemoReport) => {
    if (!printed) console.log(flags.has('json') ? demoJson(report) : formatDemoReport(report));
    printed = true;
  };
  const serve = flags.has('serve') ? serveUntilInterrupted(parsePort(values.get('port'), 7071)) : undefined;
  const report = await runDemo({
    ...(values.has('feed') ? { feedPath: values.get('feed') as string } : {}),
    ...(values.has('now') ? { now: values.get('now') as string } : {}),
    ...(horizon !== undefined ? { horizonDays: Number(horizon) } : {}),
    // The report comes first; the page then serves the same Azurite and emulator.
    ...(serve ? { keepRunning: async (ctx: DemoContext) => (print(ctx.report), serve(ctx)) } : {}),
  });
  print(report);
  return report.emulator.duplicates === 0 ? 0 : 1;
}
