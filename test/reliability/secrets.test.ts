// Secrets never leak: full syncs with a recognizable client secret and with a certificate credential,
// with faults and failing organizers so that error paths log too; then the client secret, a wrong
// secret, the private key, any access token (JWT), join URLs and meeting passcodes must appear in no log
// event (memory sink), no error message, no run record (runs table), no meeting row error, and no CLI
// output (stdout and --verbose stderr).
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { uploadFeed } from '../../src/admin/feeds.js';
import { buildServices, type AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import { startGraphEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { createEventLogger, memorySink, type LoggedEvent } from '../../src/events.js';
import { syncDepsFor } from '../../src/handlers/sync.js';
import { syncFeed } from '../../src/sync/syncFeed.js';
import { requireBuiltCli, startCli } from '../support/reliability-cli.js';
import { reportFigures, weeklyTimetable } from '../support/reliability-env.js';

const SECRET = `RELIABILITY-S3CRET-${randomBytes(12).toString('hex')}`;
const WRONG_SECRET = `WRONG-S3CRET-${randomBytes(12).toString('hex')}`;
const NOW = '2027-01-04T08:00:00Z';
const GRANTED = ['ada@uni.example', 'brian@uni.example'];
const NO_POLICY = 'nopolicy@uni.example';
const UNKNOWN = 'ghost@uni.example';

let azurite: AzuriteInstance;
let emulator: EmulatorHandle;
let workDir: string;
let caFile: string;
const dispatcher = () => new Agent({ connect: { ca: emulator.caCertPem } });

beforeAll(async () => {
  requireBuiltCli();
  [azurite, emulator] = await Promise.all([
    startAzurite(),
    startGraphEmulator({ propagationDelayMs: 0, clientSecret: SECRET }),
  ]);
  workDir = await mkdtemp(path.join(tmpdir(), 'tts-secrets-'));
  caFile = path.join(workDir, 'ca.pem');
  await writeFile(caFile, emulator.caCertPem);
  const users = emulator.control.seedUsers(
    [...GRANTED, NO_POLICY].map((mail) => ({
      displayName: mail.split('@')[0] ?? mail,
      userPrincipalName: mail,
      mail,
    })),
  );
  emulator.control.newPolicy('TimetableSync-OnlineMeetings', [emulator.clientId]);
  for (const user of users)
    if (user.mail !== NO_POLICY)
      emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: user.id }, { delayMs: 0 });
});

afterAll(async () => {
  await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function baseEnv(): Record<string, string> {
  return {
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_TENANT_ID: emulator.tenantId,
    GRAPH_AUTHORITY_HOST: emulator.authorityHost,
    GRAPH_BASE_URL: emulator.graphBaseUrl,
    GRAPH_CA_CERT_FILE: caFile,
  };
}

/** A timetable with sessions for granted organizers, one without a policy and one unknown to the directory. */
function timetable(tag: string) {
  return weeklyTimetable({ tag, organizers: [...GRANTED, NO_POLICY, UNKNOWN], courses: 8, weeks: 2 });
}

async function tokenFor(clientId: string, secret: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    scope: 'https://graph.microsoft.com/.default',
  });
  const response = await fetch(`${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: form,
    dispatcher: dispatcher(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Join URLs and passcodes of every live meeting, read back through Graph. */
async function meetingSecrets(): Promise<string[]> {
  const token = await tokenFor(emulator.clientId, SECRET);
  const out: string[] = [];
  for (const m of emulator.control.meetings()) {
    out.push(m.joinWebUrl);
    const response = await fetch(
      `${emulator.graphBaseUrl}/v1.0/users/${m.organizerId}/onlineMeetings/${encodeURIComponent(m.id)}`,
      {
        headers: { authorization: `Bearer ${token}` },
        dispatcher: dispatcher(),
      },
    );
    const body = (await response.json()) as { joinMeetingIdSettings?: { passcode?: string } };
    const passcode = body.joinMeetingIdSettings?.passcode;
    expect(passcode, `meeting ${m.id} has no passcode to look for`).toBeTruthy();
    out.push(passcode as string);
  }
  return out;
}

interface Haystack {
  name: string;
  text: string;
}

async function stateText(services: AppServices, feedId: string): Promise<Haystack[]> {
  const runs = await services.store.runs.latest(feedId, 50);
  const rows = await services.store.meetings.listByFeed(feedId);
  const feed = await services.store.feeds.get(feedId);
  return [
    { name: 'runs table', text: JSON.stringify(runs) },
    // joinWebUrl is stored on purpose (the published calendar needs it); errors and everything else must be clean.
    {
      name: 'meeting rows (without joinWebUrl)',
      text: JSON.stringify(rows.map(({ joinWebUrl: _join, ...rest }) => rest)),
    },
    { name: 'feed row', text: JSON.stringify(feed) },
  ];
}

function findLeaks(haystacks: Haystack[], needles: { name: string; value: string | RegExp }[]): string[] {
  const leaks: string[] = [];
  for (const h of haystacks) {
    for (const n of needles) {
      const found =
        typeof n.value === 'string'
          ? n.value.length >= 6 &&
            new RegExp(
              `(?<![A-Za-z0-9])${n.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`,
            ).test(h.text)
          : n.value.test(h.text);
      if (found) leaks.push(`${n.name} found in ${h.name}`);
    }
  }
  return leaks;
}

const COMMON_NEEDLES = [
  { name: 'a JWT (access token or assertion)', value: /eyJ[\w-]{5,}\.eyJ[\w-]{5,}/ },
  { name: 'a Teams join URL', value: /meetup-join/i },
  { name: 'a bearer header', value: /Bearer\s+[\w-]{10,}/ },
];

function eventsText(events: LoggedEvent[]): Haystack {
  return { name: 'log events', text: events.map((e) => JSON.stringify(e)).join('\n') };
}

describe('secrets never appear in logs, errors, run records or CLI output', () => {
  it(
    'with a client secret: in-process sync with faults, a wrong secret, and the CLI',
    { timeout: 120_000 },
    async () => {
      const env = { ...baseEnv(), GRAPH_CLIENT_ID: emulator.clientId, GRAPH_CLIENT_SECRET: SECRET };
      const services: AppServices = {
        ...(await buildServices(loadConfig(env), { namePrefix: 'secret' })),
        now: () => new Date(NOW),
      };
      const tt = timetable('sec');
      await uploadFeed(services, 'secret-feed', tt.ics);
      const { sink, events } = memorySink();
      const deps = { ...syncDepsFor(services, createEventLogger(sink)), policyRetryWaitsMs: [] };
      // Errors on the way: 5xx, resets, lost responses; a policy-less and an unknown organizer.
      emulator.control.setFaults({ errorRate: 0.2, resetRate: 0.05, failAfterCommitRate: 0.1, seed: 99 });
      const errors: string[] = [];
      const first = await syncFeed(deps, 'secret-feed').catch(
        (e: unknown) => (errors.push(String((e as Error)?.stack ?? e)), null),
      );
      emulator.control.setFaults(null);

      // A wrong secret: the credential error must not echo it (nor the right one).
      const wrong: AppServices = {
        ...(await buildServices(loadConfig({ ...env, GRAPH_CLIENT_SECRET: WRONG_SECRET }), {
          namePrefix: 'secret',
        })),
        now: () => new Date(Date.parse(NOW) + 3_600_000),
      };
      await uploadFeed(wrong, 'secret-wrong', timetable('wrong').ics);
      const wrongRun = await syncFeed(
        { ...syncDepsFor(wrong, createEventLogger(sink)), policyRetryWaitsMs: [] },
        'secret-wrong',
      ).catch((e: unknown) => (errors.push(String((e as Error)?.stack ?? e)), null));
      expect(wrongRun?.outcome ?? 'threw').not.toBe('completed');

      // The CLI, verbose (every event on stderr), on the production table names.
      const cliServices: AppServices = {
        ...(await buildServices(loadConfig(env))),
        now: () => new Date(NOW),
      };
      await uploadFeed(cliServices, 'secret-cli', tt.ics);
      const cli = await startCli(
        ['sync', '--feed', 'secret-cli', '--now', NOW, '--verbose', '--json'],
        env,
        workDir,
      ).done;
      await uploadFeed(cliServices, 'secret-cli-wrong', timetable('cliwrong').ics);
      const cliWrong = await startCli(
        ['sync', '--feed', 'secret-cli-wrong', '--now', NOW, '--verbose'],
        { ...env, GRAPH_CLIENT_SECRET: WRONG_SECRET },
        workDir,
      ).done;
      expect(cliWrong.code).not.toBe(0);

      const token = await tokenFor(emulator.clientId, SECRET);
      const haystacks: Haystack[] = [
        eventsText(events),
        { name: 'thrown errors', text: errors.join('\n') },
        { name: 'run summaries returned', text: JSON.stringify([first, wrongRun]) },
        { name: 'CLI stdout', text: cli.stdout + cliWrong.stdout },
        { name: 'CLI stderr', text: cli.stderr + cliWrong.stderr },
        ...(await stateText(services, 'secret-feed')),
        ...(await stateText(services, 'secret-wrong')),
        ...(await stateText(cliServices, 'secret-cli')),
      ];
      const passcodes = await meetingSecrets();
      const leaks = findLeaks(haystacks, [
        { name: 'the client secret', value: SECRET },
        { name: 'the wrong client secret', value: WRONG_SECRET },
        { name: 'an access token', value: token },
        ...COMMON_NEEDLES,
        ...passcodes.map((value, i) => ({ name: `join URL or passcode #${i}`, value })),
      ]);
      // The detector itself finds what it looks for (a test that can never fail proves nothing).
      expect(
        findLeaks(
          [{ name: 'control', text: `x ${SECRET} ${passcodes[1]} ${token}` }],
          [{ name: 's', value: SECRET }, { name: 'p', value: passcodes[1] as string }, ...COMMON_NEEDLES],
        ),
      ).toHaveLength(3);
      // The run really exercised the error paths it claims to.
      expect(events.some((e) => e.level === 'error' || e.level === 'warning')).toBe(true);
      expect(cli.stderr.length).toBeGreaterThan(0);
      reportFigures('secrets-secret', {
        logEvents: events.length,
        cliStderrBytes: cli.stderr.length,
        meetingsChecked: passcodes.length / 2,
        leaks: leaks.length,
      });
      expect(leaks, leaks.join('\n')).toEqual([]);
    },
  );

  it(
    'with a certificate credential: the private key and assertions appear nowhere',
    { timeout: 120_000 },
    async () => {
      const cert = await generate([{ name: 'commonName', value: 'timetable-sync reliability' }], {
        keySize: 2048,
        algorithm: 'sha256',
      });
      const app = emulator.control.registerApp({ certificatePems: [cert.cert] });
      emulator.control.setPolicy('TimetableSync-OnlineMeetings', { add: [app.clientId] }, { delayMs: 0 });
      const thumbprint = createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('hex');
      const env = {
        ...baseEnv(),
        GRAPH_CLIENT_ID: app.clientId,
        GRAPH_CERTIFICATE_PEM: cert.private,
        GRAPH_CERTIFICATE_THUMBPRINT_SHA256: thumbprint,
      };
      const services: AppServices = {
        ...(await buildServices(loadConfig(env), { namePrefix: 'cert' })),
        now: () => new Date(NOW),
      };
      emulator.control.reset();
      const tt = timetable('cert');
      await uploadFeed(services, 'cert-feed', tt.ics);
      const { sink, events } = memorySink();
      emulator.control.setFaults({ errorRate: 0.15, failAfterCommitRate: 0.1, seed: 7 });
      const errors: string[] = [];
      const run = await syncFeed(
        { ...syncDepsFor(services, createEventLogger(sink)), policyRetryWaitsMs: [] },
        'cert-feed',
      ).catch((e: unknown) => (errors.push(String((e as Error)?.stack ?? e)), null));
      emulator.control.setFaults(null);
      expect(run?.created ?? 0).toBeGreaterThan(0);

      const cli = await startCli(
        ['sync', '--feed', 'cert-feed', '--now', NOW, '--verbose', '--json'],
        env,
        workDir,
      ).done;
      // The CLI uses production names: its feed does not exist there, so it fails with a message — fine, still checked.
      const cliServices: AppServices = {
        ...(await buildServices(loadConfig(env))),
        now: () => new Date(NOW),
      };
      await uploadFeed(cliServices, 'cert-cli', tt.ics);
      const cli2 = await startCli(
        ['sync', '--feed', 'cert-cli', '--now', NOW, '--verbose', '--json'],
        env,
        workDir,
      ).done;
      expect(cli2.code, cli2.stderr).toBe(0);

      const keyBody = cert.private.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      const keyChunks = Array.from({ length: 8 }, (_, i) => keyBody.slice(i * 100 + 40, i * 100 + 80));
      const haystacks: Haystack[] = [
        eventsText(events),
        { name: 'thrown errors', text: errors.join('\n') },
        { name: 'run summary returned', text: JSON.stringify(run) },
        { name: 'CLI stdout', text: cli.stdout + cli2.stdout },
        { name: 'CLI stderr', text: cli.stderr + cli2.stderr },
        ...(await stateText(services, 'cert-feed')),
        ...(await stateText(cliServices, 'cert-cli')),
      ];
      const passcodes = await meetingSecrets();
      const leaks = findLeaks(haystacks, [
        { name: 'PEM private key header', value: /PRIVATE KEY/ },
        ...keyChunks.map((value, i) => ({ name: `private key text (chunk ${i})`, value })),
        ...COMMON_NEEDLES,
        ...passcodes.map((value, i) => ({ name: `join URL or passcode #${i}`, value })),
      ]);
      reportFigures('secrets-certificate', {
        logEvents: events.length,
        meetingsChecked: passcodes.length / 2,
        leaks: leaks.length,
      });
      expect(leaks, leaks.join('\n')).toEqual([]);
    },
  );
});
