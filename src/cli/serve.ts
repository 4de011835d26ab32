// `timetable-sync serve [--port N] [--host ADDR] [--no-sync] [--verbose]`: the admin page and the whole
// HTTP surface on this machine, with the real settings (environment, then local.settings.json), without
// the Functions host. Queued syncs ("Sync now", uploads) run in this process when Graph is configured.
//
// The function key the admin routes accept is TIMETABLE_SYNC_ADMIN_KEY when set; otherwise a random one
// is generated and printed once (it exists only for this process: it is not a key of any Function App).
import { randomBytes } from 'node:crypto';

import { serveAdmin } from '../web/serve.js';
import { cliServices } from './context.js';
import { UsageError, parseArgs } from './errors.js';

export const ADMIN_KEY_ENV = 'TIMETABLE_SYNC_ADMIN_KEY';

export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port must be a number from 0 to 65535 (got '${value}')`);
  return Number(value);
}

/** Resolves when the process is asked to stop (Ctrl+C, SIGTERM). */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export async function run(args: string[]): Promise<number> {
  const { values, flags } = parseArgs(args, { values: ['port', 'host'], flags: ['no-sync', 'verbose'] });
  const port = parsePort(values.get('port'), 7071);
  const services = await cliServices();
  const fromEnv = process.env[ADMIN_KEY_ENV];
  const adminKey = fromEnv && fromEnv.length > 0 ? fromEnv : randomBytes(24).toString('base64url');
  const server = await serveAdmin({
    services,
    adminKey,
    port,
    ...(values.has('host') ? { host: values.get('host') } : {}),
    runQueuedSyncs: !flags.has('no-sync') && services.graph !== null,
    verbose: flags.has('verbose'),
  });
  console.log(`Admin page: ${server.url}`);
  console.log(
    fromEnv ? `Function key: the value of ${ADMIN_KEY_ENV}` : `Function key (this process only): ${adminKey}`,
  );
  console.log(
    services.graph && !flags.has('no-sync')
      ? 'Queued syncs run in this process (like the queue trigger). Ctrl+C stops.'
      : 'Queued syncs are NOT run here (no Graph settings, or --no-sync): they wait on the queue. Ctrl+C stops.',
  );
  await untilInterrupted();
  await server.stop();
  return 0;
}
