// The local stack a newcomer keeps after the demo: Azurite persisted to ./.azurite and the Graph
// emulator, with ./local.settings.json pointing every CLI command at them. Its record (ports, the
// emulator's identity, the lecturers and grants seeded) lives beside Azurite's data, so `dev up` brings
// the same stack back on the same ports after `dev down`.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { EmulatorHandle, EmulatorUserSeed } from '../emulator/index.js';
import { emulatorAppSettings, startGraphEmulator } from '../emulator/index.js';
import { startAzurite, type AzuriteInstance } from './azurite.js';

/** Azurite's data and the stack's record: git-ignored, in the directory the CLI runs in. */
export const STACK_DIR = '.azurite';
const RECORD_FILE = 'timetable-sync-stack.json';
const CA_FILE = 'graph-emulator-ca.pem';
const LOG_FILE = 'timetable-sync-stack.log';

export interface StackRecord {
  /** The process that holds the stack; `running` until it stops. */
  pid: number;
  state: 'starting' | 'running' | 'stopped' | 'failed';
  /** Why it failed, for the command that waited for it. */
  error?: string;
  azurite: { blobPort: number; queuePort: number; tablePort: number };
  emulator: { port: number; tenantId: string; clientId: string; clientSecret: string };
  policyName: string;
  users: EmulatorUserSeed[];
  /** Object ids granted the access policy. */
  grants: string[];
  /** Settings beside the endpoints (HORIZON_DAYS of the demo). */
  settings: Record<string, string>;
  /** The demo's report, printed by the command that started the stack in the background. */
  report?: string;
}

export interface RunningStack {
  azurite: AzuriteInstance;
  emulator: EmulatorHandle;
  caFile: string;
  stop(): Promise<void>;
}

export const stackPaths = (dir: string) => ({
  record: path.join(dir, RECORD_FILE),
  ca: path.join(dir, CA_FILE),
  log: path.join(dir, LOG_FILE),
});

export async function readStackRecord(dir: string): Promise<StackRecord | null> {
  try {
    return JSON.parse(await readFile(stackPaths(dir).record, 'utf8')) as StackRecord;
  } catch {
    return null;
  }
}

/** Written whole then renamed: a reader never sees half a record. */
export async function writeStackRecord(dir: string, record: StackRecord): Promise<void> {
  const file = stackPaths(dir).record;
  await writeFile(`${file}.tmp`, JSON.stringify(record, null, 2));
  await rename(`${file}.tmp`, file);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A stack recorded as running whose process still lives. */
export async function runningStack(dir: string): Promise<StackRecord | null> {
  const record = await readStackRecord(dir);
  return record && (record.state === 'running' || record.state === 'starting') && isAlive(record.pid)
    ? record
    : null;
}

/**
 * Makes `dir` ready for a fresh demo stack: absent, empty, or holding an earlier demo's stack (its
 * record is there), which is cleared. Azurite data that is not the demo's is never deleted.
 */
export async function prepareFreshStackDir(dir: string): Promise<'new' | 'replaced'> {
  if (!existsSync(dir)) {
    await mkdir(dir, { recursive: true });
    return 'new';
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return 'new';
  if (!entries.includes(RECORD_FILE))
    throw new Error(
      `./${dir} holds Azurite data that the demo did not write: move it away (or remove it) and run again`,
    );
  await Promise.all(entries.map((e) => rm(path.join(dir, e), { recursive: true, force: true })));
  return 'replaced';
}

/** Starts Azurite on the recorded ports (persisted in `dir`) and the emulator with its recorded identity. */
export async function startStack(dir: string, record: StackRecord): Promise<RunningStack> {
  const [azuriteStart, emulatorStart] = await Promise.allSettled([
    // A new stack (ports 0, no identity yet) gets free ports and a fresh identity, recorded after.
    startAzurite({
      location: path.resolve(dir),
      ...(record.azurite.blobPort ? { ports: record.azurite } : {}),
    }),
    startGraphEmulator({
      port: record.emulator.port,
      ...(record.emulator.tenantId
        ? {
            tenantId: record.emulator.tenantId,
            clientId: record.emulator.clientId,
            clientSecret: record.emulator.clientSecret,
          }
        : {}),
      propagationDelayMs: 0,
      users: record.users,
    }),
  ]);
  if (azuriteStart.status === 'rejected' || emulatorStart.status === 'rejected') {
    // One may have started: stop it, so a failed start leaves nothing behind.
    if (azuriteStart.status === 'fulfilled') await azuriteStart.value.stop();
    if (emulatorStart.status === 'fulfilled') await emulatorStart.value.stop();
    throw azuriteStart.status === 'rejected'
      ? azuriteStart.reason
      : (emulatorStart as PromiseRejectedResult).reason;
  }
  const azurite = azuriteStart.value;
  const emulator = emulatorStart.value;
  if (record.grants.length > 0) {
    emulator.control.newPolicy(record.policyName, [emulator.clientId], 'timetable-sync local stack');
    for (const userId of record.grants) emulator.control.grantPolicy(record.policyName, { userId });
  }
  const caFile = path.resolve(stackPaths(dir).ca);
  await writeFile(caFile, emulator.caCertPem);
  return {
    azurite,
    emulator,
    caFile,
    stop: async () => {
      await Promise.allSettled([azurite.stop(), emulator.stop()]);
    },
  };
}

/** The Values of local.settings.json that point the daemon and the CLI at a running stack. */
export function localSettingsValues(
  stack: { azurite: AzuriteInstance; emulator: EmulatorHandle; caFile: string },
  settings: Record<string, string>,
): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: stack.azurite.connectionString,
    ...emulatorAppSettings(stack.emulator, stack.caFile),
    ...settings,
  };
}

/** A stack that has never run: free ports, a fresh emulator identity, no lecturers. */
export function newStackRecord(policyName: string): StackRecord {
  return {
    pid: process.pid,
    state: 'starting',
    azurite: { blobPort: 0, queuePort: 0, tablePort: 0 },
    emulator: { port: 0, tenantId: '', clientId: '', clientSecret: '' },
    policyName,
    users: [],
    grants: [],
    settings: {},
  };
}

/** The record of a stack that runs in this process now. */
export function runningRecord(
  stack: { azurite: AzuriteInstance; emulator: EmulatorHandle },
  rest: Pick<StackRecord, 'policyName' | 'grants' | 'settings'>,
): StackRecord {
  const { azurite, emulator } = stack;
  return {
    pid: process.pid,
    state: 'running',
    azurite: { blobPort: azurite.blobPort, queuePort: azurite.queuePort, tablePort: azurite.tablePort },
    emulator: {
      port: emulatorPort(emulator),
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
    },
    users: emulator.control.users().map((u) => ({
      id: u.id,
      displayName: u.displayName,
      userPrincipalName: u.userPrincipalName,
      mail: u.mail,
    })),
    policyName: rest.policyName,
    grants: rest.grants,
    settings: rest.settings,
  };
}

/** The port an emulator handle listens on. */
export function emulatorPort(emulator: EmulatorHandle): number {
  return Number(new URL(emulator.url).port);
}
