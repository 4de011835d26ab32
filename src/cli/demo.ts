// `timetable-sync demo` (what `npm start` runs without Graph settings): the whole product on this
// machine. Starts Azurite and the Graph emulator on free ports, seeds the emulator's directory with the
// feed's lecturers, grants the access policy the way an admin would, registers the feed, runs the sync
// twice and reports what happened — then stops everything, unless it is kept (`--keep`, in the
// background through ./localStack.ts) or served (`--serve`, in the foreground): then Azurite persists to
// ./.azurite and ./local.settings.json points every command at it.
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
import { stackPaths } from '../dev/stack.js';
import { emulatorAppSettings, startGraphEmulator, type EmulatorHandle } from '../emulator/index.js';
import { syncDepsFor } from '../handlers/sync.js';
import { expandCalendar } from '../ical/index.js';
import type { RunSummary } from '../storage/index.js';
import { syncFeed } from '../sync/syncFeed.js';
import { serveAdmin } from '../web/serve.js';
import type { CommandArgs } from './args.js';
import { UsageError, listenProblem, unreadableFile } from './errors.js';
import { STACK_DIR } from '../dev/stack.js';
import { keepInBackground, keepStack, markStopped, prepareKeptStack } from './localStack.js';
import { ADMIN_KEY_ENV, parsePort, untilInterrupted } from './serve.js';
import { clockFrom, formatTable } from './context.js';
import { SUMMARY_COLUMNS } from './report.js';
import { demoAttendance, formatDemoAttendance, type DemoAttendance } from './demoAttendance.js';

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
  /** Persist Azurite in this directory, with the emulator's CA file (a kept stack); default: in memory. */
  stackDir?: string;
  /** Called with the running services after the two passes (the admin page's --serve keeps them up). */
  keepRunning?: (ctx: DemoContext) => Promise<void>;
}

export interface DemoContext {
  report: DemoReport;
  services: AppServices;
  emulator: EmulatorHandle;
  azurite: AzuriteInstance;
  /** The emulator's CA certificate file (GRAPH_CA_CERT_FILE). */
  caFile: string;
  /** The settings the demo runs with beside the endpoints (HORIZON_DAYS). */
  settings: Record<string, string>;
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
  /** The first week held and its attendance collected (the clock moved past it). */
  attendance: DemoAttendance;
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
  const start = clockFrom(options.now ?? (mode === 'sample' ? SAMPLE_NOW : undefined));
  // The attendance step moves the clock past the first week.
  let movedMs = 0;
  const now = () => new Date(start().getTime() + movedMs);
  const horizonDays = options.horizonDays ?? 120;
  const lecturers = lecturersOf(text, now().getTime(), horizonDays);

  const workDir = await mkdtemp(path.join(tmpdir(), 'timetable-sync-demo-'));
  let azurite: AzuriteInstance | undefined;
  let emulator: EmulatorHandle | undefined;
  try {
    [azurite, emulator] = await Promise.all([
      startAzurite(options.stackDir ? { location: path.resolve(options.stackDir) } : {}),
      // The app as README's setup consents it, attendance included; tokens outlive the clock moving a week.
      startGraphEmulator({
        propagationDelayMs: 0,
        appRoles: ['OnlineMeetings.ReadWrite.All', 'User.Read.All', 'OnlineMeetingArtifact.Read.All'],
        tokenLifetimeSeconds: 30 * 86_400,
      }),
    ]);
    // The emulator's clock is the demo's: meetings end, and reports appear, when the demo says.
    emulator.control.advanceTime(now().getTime() - emulator.control.now());
    const caFile = options.stackDir
      ? path.resolve(stackPaths(options.stackDir).ca)
      : path.join(workDir, 'graph-emulator-ca.pem');
    await writeFile(caFile, emulator.caCertPem);
    const settings = { HORIZON_DAYS: String(horizonDays) };
    // The same settings a person would put in local.settings.json to point the daemon at the emulator.
    const config = loadConfig({
      ...emulatorAppSettings(emulator, caFile),
      AzureWebJobsStorage: azurite.connectionString,
      ...settings,
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
    await uploadFeed(services, SAMPLE_FEED_ID, text, { attendance: true });

    const { sink, events } = memorySink();
    const deps = syncDepsFor(services, createEventLogger(sink));
    const passes = [await syncFeed(deps, SAMPLE_FEED_ID), await syncFeed(deps, SAMPLE_FEED_ID)];
    const meetings = emulator.control.meetings().length;
    const attendance = await demoAttendance({
      services,
      emulator,
      feedId: SAMPLE_FEED_ID,
      logger: createEventLogger(sink),
      advance: (ms) => (movedMs += ms),
    });
    const requests = emulator.control.requestCounts();
    const report: DemoReport = {
      mode,
      feed: feedPath,
      now: passes[0]?.startedAt ?? now().toISOString(),
      lecturers: roles,
      passes,
      events,
      emulator: {
        meetings,
        duplicates: emulator.control.duplicates(),
        graphRequests: requests.graph,
        throttled: requests.graphThrottled,
      },
      attendance,
    };
    if (options.keepRunning)
      await options.keepRunning({
        report,
        services,
        emulator,
        azurite,
        caFile,
        settings,
        feedId: SAMPLE_FEED_ID,
      });
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
  out.push('');
  out.push(formatDemoAttendance(report.attendance));
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
    attendance: {
      sessionsWithReports: report.attendance.sessionsWithReports,
      records: report.attendance.records,
    },
  });
}

/** `--serve`: after the report, keep Azurite, the emulator and the admin page running until Ctrl-C. */
function serveUntilInterrupted(port: number): NonNullable<DemoOptions['keepRunning']> {
  return async (ctx) => {
    const adminKey = process.env[ADMIN_KEY_ENV] || randomBytes(18).toString('base64url');
    const server = await serveAdmin({ services: ctx.services, adminKey, port }).catch((error: unknown) => {
      throw listenProblem(error, port);
    });
    const settingsNote = await keepStack(ctx, process.pid);
    console.log(
      `\nAdmin page: ${server.url}\nFunction key (this demo only): ${adminKey}\n${settingsNote}\nCtrl-C stops the page, Azurite and the Graph emulator (\`timetable-sync dev up\` starts them again).`,
    );
    await untilInterrupted();
    await server.stop();
    await markStopped(STACK_DIR);
  };
}

/** The demo's options from its command line (shared by `start`). */
export function demoOptions(args: CommandArgs): DemoOptions {
  const horizon = args.string('horizon-days');
  if (horizon !== undefined && !/^\d+$/.test(horizon))
    throw new UsageError(`--horizon-days must be a whole number of days, got '${horizon}'`);
  return {
    ...(args.has('feed') ? { feedPath: args.string('feed') } : {}),
    ...(args.has('now') ? { now: args.string('now') } : {}),
    ...(horizon !== undefined ? { horizonDays: Number(horizon) } : {}),
  };
}

export async function run(args: CommandArgs): Promise<number> {
  const options = demoOptions(args);
  const file = options.feedPath;
  if (file !== undefined)
    await readFile(file).catch((error: unknown) => Promise.reject(unreadableFile('--feed', file, error)));
  if (args.flag('keep')) return keepInBackground(options, args.flag('json'));
  const kept = args.flag('serve');
  if (kept) await prepareKeptStack();
  let printed = false;
  const print = (report: DemoReport) => {
    if (!printed) console.log(args.flag('json') ? demoJson(report) : formatDemoReport(report));
    printed = true;
  };
  const serve = kept ? serveUntilInterrupted(parsePort(args.string('port'), 7071)) : undefined;
  const report = await runDemo({
    ...options,
    ...(kept ? { stackDir: STACK_DIR } : {}),
    // The report comes first; the page then serves the same Azurite and emulator.
    ...(serve ? { keepRunning: async (ctx: DemoContext) => (print(ctx.report), serve(ctx)) } : {}),
  });
  print(report);
  return report.emulator.duplicates === 0 ? 0 : 1;
}
