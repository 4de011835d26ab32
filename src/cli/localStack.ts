// The local stack kept in the background (`demo --keep`, `dev up`) and stopped by `dev down`. The
// command starts this file as a detached Node process (`node localStack.js demo|up`), waits until the
// stack's record says it runs (or failed, and why), prints what it did and returns; the process keeps
// Azurite (persisted to ./.azurite) and the Graph emulator up until SIGTERM. ./local.settings.json is
// written to point every CLI command, `serve` and `func start` at them.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadConfig } from '../config.js';
import {
  STACK_DIR,
  isAlive,
  localSettingsValues,
  newStackRecord,
  prepareFreshStackDir,
  readStackRecord,
  runningRecord,
  runningStack,
  stackPaths,
  startStack,
  writeStackRecord,
  type StackRecord,
} from '../dev/stack.js';
import { userError } from '../errors.js';
import { LOCAL_SETTINGS_FILE } from './settings.js';
import type { DemoContext, DemoOptions } from './demo.js';
import { formatCliError } from './errors.js';

/** How long `demo --keep` and `dev up` wait for the stack (the demo's two passes included). */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

function isLoopbackUrl(value: string): boolean {
  return /^(https?:\/\/)?(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/i.test(value);
}

/**
 * Refuses to replace a local.settings.json that points anywhere but this machine (a real tenant or a
 * real Storage account): those settings are someone's work.
 */
export function checkLocalSettingsReplaceable(file = LOCAL_SETTINGS_FILE): void {
  if (!existsSync(file)) return;
  let values: Record<string, unknown> = {};
  try {
    values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> }).Values ?? {};
  } catch {
    throw userError('localSettingsInUse', `./${file} is not valid JSON: fix or move it; it is not replaced`);
  }
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : '');
  const storage = text('AzureWebJobsStorage');
  const realStorage =
    (storage !== '' &&
      !/UseDevelopmentStorage=true/i.test(storage) &&
      !/Endpoint=http:\/\/127\./i.test(storage)) ||
    text('AzureWebJobsStorage__accountName') !== '';
  const realGraph = text('GRAPH_TENANT_ID') !== '' && !isLoopbackUrl(text('GRAPH_BASE_URL'));
  if (realStorage || realGraph)
    throw userError(
      'localSettingsInUse',
      `./${file} holds settings for a real ${realGraph ? 'tenant' : 'Storage account'}: the local stack would replace them. Move the file away (or run the demo without --keep/--serve)`,
    );
}

async function writeLocalSettings(values: Record<string, string>): Promise<void> {
  await writeFile(
    LOCAL_SETTINGS_FILE,
    `${JSON.stringify({ IsEncrypted: false, Values: values }, null, 2)}\n`,
  );
}

/** Before a demo is kept: nothing running here, settings replaceable, a fresh ./.azurite. */
export async function prepareKeptStack(): Promise<'new' | 'replaced'> {
  const running = await runningStack(STACK_DIR);
  if (running)
    throw userError(
      'stackRunning',
      `a local stack is already running here (process ${running.pid}): stop it with \`timetable-sync dev down\` first, or use it as it is`,
    );
  checkLocalSettingsReplaceable();
  try {
    return await prepareFreshStackDir(STACK_DIR);
  } catch (error) {
    throw userError('stackDirInUse', (error as Error).message);
  }
}

function stackNote(record: StackRecord, wrote = true): string {
  return [
    `${wrote ? 'Wrote' : 'As before,'} ./${LOCAL_SETTINGS_FILE}${wrote ? '' : ' points at'}: Azurite on 127.0.0.1:${record.azurite.tablePort} (tables; data kept in ./${STACK_DIR}) and the Graph emulator on https://127.0.0.1:${record.emulator.port}.`,
    'Every command run here now uses them: `npx timetable-sync feeds list`, `policy list`, `status`, `serve`.',
  ].join('\n');
}

/** The demo's stack is running in process `pid`: record it and write local.settings.json. */
export async function keepStack(ctx: DemoContext, pid: number, report?: string): Promise<string> {
  const record: StackRecord = {
    ...runningRecord(ctx, {
      policyName: ctx.services.config.policy.policyName,
      grants: ctx.report.lecturers.filter((l) => l.policy !== 'none').map((l) => l.objectId),
      settings: ctx.settings,
    }),
    pid,
    ...(report !== undefined ? { report } : {}),
  };
  await writeLocalSettings(localSettingsValues(ctx, ctx.settings));
  await writeStackRecord(STACK_DIR, record);
  return stackNote(record);
}

export async function markStopped(dir: string): Promise<void> {
  const record = await readStackRecord(dir);
  if (record && record.pid === process.pid) await writeStackRecord(dir, { ...record, state: 'stopped' });
}

/** Starts this file as a detached process and waits until the stack it runs is recorded as running. */
async function startDetached(mode: 'demo' | 'up', payload: unknown): Promise<StackRecord> {
  const paths = stackPaths(STACK_DIR);
  const log = openSync(paths.log, 'w');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), mode, JSON.stringify(payload)], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      const record = await readStackRecord(STACK_DIR);
      if (record && record.pid === child.pid && record.state === 'running') return record;
      if (record && record.pid === child.pid && record.state === 'failed')
        throw userError('stackFailed', record.error ?? 'the local stack failed to start');
      if (exited !== undefined) {
        const tail = existsSync(paths.log)
          ? readFileSync(paths.log, 'utf8').trim().split('\n').slice(-5).join('\n')
          : '';
        throw userError(
          'stackFailed',
          `the local stack stopped while starting (exit ${exited})${tail ? `:\n${tail}` : ''}`,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw userError(
          'stackFailed',
          `the local stack did not start within ${START_TIMEOUT_MS / 1000} s (see ./${paths.log})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    child.unref();
  }
}

/** `demo --keep`: the demo in a background process that keeps its stack; its report printed here. */
export async function keepInBackground(options: DemoOptions, json: boolean): Promise<number> {
  const fresh = await prepareKeptStack();
  const record = await startDetached('demo', { options, json });
  console.log(record.report ?? '');
  const note = [
    '',
    fresh === 'replaced' ? `Replaced the previous demo's state in ./${STACK_DIR}.` : null,
    stackNote(record),
    `Azurite and the Graph emulator keep running in the background (process ${record.pid}): \`npx timetable-sync dev down\` stops them, \`dev up\` starts them again.`,
  ]
    .filter((line) => line !== null)
    .join('\n');
  // With --json the report alone is on stdout, for programs.
  if (json) console.error(note);
  else console.log(note);
  return 0;
}

/** `dev up`: the recorded stack (or a new, empty one) in the background. */
export async function startInBackground(): Promise<number> {
  const running = await runningStack(STACK_DIR);
  if (running) {
    console.log(`the local stack is already running (process ${running.pid}).\n${stackNote(running, false)}`);
    return 0;
  }
  checkLocalSettingsReplaceable();
  const known = await readStackRecord(STACK_DIR);
  if (!known)
    await prepareFreshStackDir(STACK_DIR).catch((error: Error) =>
      Promise.reject(userError('stackDirInUse', error.message)),
    );
  const record = await startDetached('up', null);
  console.log(
    `${known ? 'Started the local stack again' : 'Started a new, empty local stack'} in the background (process ${record.pid}).\n${stackNote(record)}` +
      (known
        ? '\nThe emulator has the recorded lecturers and grants; the meetings it held before are not kept.'
        : ''),
  );
  return 0;
}

/** `dev down` */
export async function stopInBackground(): Promise<number> {
  const running = await runningStack(STACK_DIR);
  if (!running) {
    console.log(`no local stack is running here (./${STACK_DIR}): nothing to stop`);
    return 0;
  }
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(running.pid)) {
    if (Date.now() > deadline) {
      process.kill(running.pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(
    `stopped the local stack (process ${running.pid}); its data stays in ./${STACK_DIR} (\`timetable-sync dev up\` starts it again)`,
  );
  return 0;
}

function untilTerminated(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

/** The detached process: runs the stack until SIGTERM; a failure is written to the record. */
async function main(mode: string, payload: string): Promise<void> {
  try {
    if (mode === 'demo') {
      const { options, json } = JSON.parse(payload) as { options: DemoOptions; json: boolean };
      const { demoJson, formatDemoReport, runDemo } = await import('./demo.js');
      await runDemo({
        ...options,
        stackDir: STACK_DIR,
        keepRunning: async (ctx) => {
          await keepStack(ctx, process.pid, json ? demoJson(ctx.report) : formatDemoReport(ctx.report));
          await untilTerminated();
        },
      });
    } else {
      const known = await readStackRecord(STACK_DIR);
      const record = known ?? newStackRecord(loadConfig({}).policy.policyName);
      const stack = await startStack(STACK_DIR, record);
      const running = runningRecord(stack, {
        policyName: record.policyName,
        grants: record.grants,
        settings: record.settings,
      });
      await writeLocalSettings(localSettingsValues(stack, record.settings));
      await writeStackRecord(STACK_DIR, running);
      await untilTerminated();
      await stack.stop();
    }
    await markStopped(STACK_DIR);
  } catch (error) {
    const record = await readStackRecord(STACK_DIR);
    await writeStackRecord(STACK_DIR, {
      ...(record ?? newStackRecord('')),
      pid: process.pid,
      state: 'failed',
      error: formatCliError(error).replace(/^timetable-sync: /, ''),
    });
    process.exitCode = 1;
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url)
  void main(process.argv[2] ?? '', process.argv[3] ?? 'null');
