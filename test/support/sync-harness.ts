// The whole product for an integration test: real Azurite + the https Graph emulator, services built
// by compose.ts exactly as in production (MSAL + Graph SDK + Storage SDKs), a controllable sync clock,
// and helpers to register a feed, grant policies and run syncs. One harness per test file; each
// `world()` gets its own storage names so tests in a file do not see each other.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

import { uploadFeed } from '../../src/admin/feeds.js';
import { recordPolicyGrant } from '../../src/admin/policies.js';
import { buildServices, type AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import {
  emulatorAppSettings,
  startGraphEmulator,
  type EmulatorHandle,
  type EmulatorOptions,
  type EmulatorUser,
} from '../../src/emulator/index.js';
import { DEFAULT_MEETING_DEFAULTS, DEFAULT_MONTHLY_LIMIT } from '../../src/emulator/state.js';
import { createEventLogger, memorySink, type LoggedEvent } from '../../src/events.js';
import { syncDepsFor } from '../../src/handlers/sync.js';
import type { RunSummary } from '../../src/storage/index.js';
import { syncFeed, type SyncDeps, type SyncOptions } from '../../src/sync/syncFeed.js';

export interface HarnessOptions {
  /** Extra app settings (e.g. MAX_CANCEL_SHARE) on top of the test defaults. */
  settings?: Record<string, string>;
}

export interface World {
  services: AppServices;
  emulator: EmulatorHandle;
  events: LoggedEvent[];
  /** The sync clock; advance it with `advance`. */
  now(): Date;
  advance(ms: number): void;
  deps(overrides?: Partial<SyncDeps>): SyncDeps;
  sync(feedId: string, options?: SyncOptions & { deps?: Partial<SyncDeps> }): Promise<RunSummary>;
  upload(
    feedId: string,
    ics: string,
    settings?: Parameters<typeof uploadFeed>[3],
  ): ReturnType<typeof uploadFeed>;
  /** Seeds directory users (one per e-mail) and returns them by e-mail. */
  seed(emails: string[]): Map<string, EmulatorUser>;
  /** Grants the policy in the emulator (effective after delayMs) and records the grant as an admin would. */
  grant(user: EmulatorUser, options?: { delayMs?: number; record?: boolean }): Promise<void>;
}

export interface Harness {
  azurite(): AzuriteInstance;
  emulator(): EmulatorHandle;
  world(options?: HarnessOptions & { start?: string }): Promise<World>;
}

/** Starts Azurite + the emulator once for the file (beforeAll) and stops them (afterAll). */
export function useSyncHarness(emulatorOptions: EmulatorOptions = {}): Harness {
  let azurite: AzuriteInstance | undefined;
  let emulator: EmulatorHandle | undefined;
  let workDir: string | undefined;
  let caFile = '';
  beforeAll(async () => {
    [azurite, emulator] = await Promise.all([
      startAzurite(),
      startGraphEmulator({ propagationDelayMs: 0, ...emulatorOptions }),
    ]);
    workDir = await mkdtemp(path.join(tmpdir(), 'tts-harness-'));
    caFile = path.join(workDir, 'ca.pem');
    await writeFile(caFile, emulator.caCertPem);
  });
  afterAll(async () => {
    await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });
  const running = <T>(value: T | undefined, what: string): T => {
    if (!value) throw new Error(`${what} is not running: call useSyncHarness() at the top of the test file`);
    return value;
  };

  return {
    azurite: () => running(azurite, 'Azurite'),
    emulator: () => running(emulator, 'the Graph emulator'),
    async world(options = {}) {
      const az = running(azurite, 'Azurite');
      const em = running(emulator, 'the Graph emulator');
      // Each world starts from an empty directory, no meetings, no faults.
      em.control.reset({ everything: true });
      // reset() keeps the behaviours a test set: each world starts from Graph's defaults.
      em.control.setBehaviour({
        meetingDefaults: DEFAULT_MEETING_DEFAULTS,
        monthlyMeetingLimit: DEFAULT_MONTHLY_LIMIT,
        patchNoContent: false,
      });
      em.control.newPolicy('TimetableSync-OnlineMeetings', [em.clientId]);
      const config = loadConfig({
        ...emulatorAppSettings(em, caFile),
        AzureWebJobsStorage: az.connectionString,
        ...options.settings,
      });
      let clockMs = Date.parse(options.start ?? '2027-01-04T08:00:00Z');
      const now = () => new Date(clockMs);
      const base = await buildServices(config, { namePrefix: `w${randomBytes(5).toString('hex')}` });
      const services: AppServices = { ...base, now };
      const { sink, events } = memorySink();
      const deps = (overrides: Partial<SyncDeps> = {}): SyncDeps => ({
        ...syncDepsFor(services, createEventLogger(sink)),
        // Tests never wait on wall time for policy propagation unless they ask to.
        policyRetryWaitsMs: [],
        ...overrides,
      });
      return {
        services,
        emulator: em,
        events,
        now,
        advance: (ms) => {
          clockMs += ms;
        },
        deps,
        sync: (feedId, opts = {}) => syncFeed(deps(opts.deps), feedId, opts),
        upload: (feedId, ics, settings) => uploadFeed(services, feedId, ics, settings),
        seed(emails) {
          const users = em.control.seedUsers(
            emails.map((email) => ({
              displayName: email.split('@')[0] ?? email,
              userPrincipalName: email,
              mail: email,
            })),
          );
          return new Map(users.map((u) => [u.mail ?? u.userPrincipalName, u]));
        },
        async grant(user, grantOptions = {}) {
          em.control.grantPolicy(
            'TimetableSync-OnlineMeetings',
            { userId: user.id },
            { delayMs: grantOptions.delayMs ?? 0 },
          );
          if (grantOptions.record !== false)
            await recordPolicyGrant(services, { user: user.id, grantedAt: now().toISOString() });
        },
      };
    },
  };
}

/** Builds a small VCALENDAR from VEVENT bodies (each a list of content lines without BEGIN/END). */
export function calendar(...events: string[][]): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//timetable-sync tests//EN'];
  for (const event of events) lines.push('BEGIN:VEVENT', 'DTSTAMP:20261201T000000Z', ...event, 'END:VEVENT');
  lines.push('END:VCALENDAR');
  return `${lines.join('\r\n')}\r\n`;
}
