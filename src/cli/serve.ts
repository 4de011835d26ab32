// `timetable-sync serve [--port N] [--host ADDR [--allow-remote]] [--no-sync] [--verbose]`: the admin page and the whole
// HTTP surface on this machine, with the real settings (environment, then local.settings.json), without
// the Functions host. Queued syncs ("Sync now", uploads) run in this process when Graph is configured.
//
// The function key the admin routes accept is TIMETABLE_SYNC_ADMIN_KEY when set; otherwise a random one
// is generated and printed once (it exists only for this process: it is not a key of any Function App).
import { randomBytes } from 'node:crypto';

import { serveAdmin } from '../web/serve.js';
import type { CommandArgs } from './args.js';
import { cliServices } from './context.js';
import { UsageError, listenProblem } from './errors.js';

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

/** 127.0.0.1, ::1, localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

export async function run(args: CommandArgs): Promise<number> {
  const port = parsePort(args.string('port'), 7071);
  const host = args.string('host') ?? '127.0.0.1';
  // Plain http: the function key and every answer would cross the network readable by anyone on it.
  if (!isLoopbackHost(host) && !args.flag('allow-remote'))
    throw new UsageError(
      `serve: --host ${host} is not a loopback address. The page and the admin API are served over plain http, so the function key and the timetables would cross the network unencrypted. Put it behind an https proxy and add --allow-remote, or use --host 127.0.0.1`,
    );
  const services = await cliServices();
  const fromEnv = process.env[ADMIN_KEY_ENV];
  const adminKey = fromEnv && fromEnv.length > 0 ? fromEnv : randomBytes(24).toString('base64url');
  const server = await serveAdmin({
    services,
    adminKey,
    port,
    host,
    runQueuedSyncs: !args.flag('no-sync') && services.graph !== null,
    verbose: args.flag('verbose'),
  }).catch((error: unknown) => {
    throw listenProblem(error, port, host);
  });
  if (!isLoopbackHost(host))
    console.log(
      `Listening on ${host} (--allow-remote): plain http, reachable from the network; use it only behind an https proxy.`,
    );
  console.log(`Admin page: ${server.url}`);
  console.log(
    fromEnv ? `Function key: the value of ${ADMIN_KEY_ENV}` : `Function key (this process only): ${adminKey}`,
  );
  console.log(
    services.graph && !args.flag('no-sync')
      ? 'Queued syncs run in this process (like the queue trigger). Ctrl+C stops.'
      : 'Queued syncs are NOT run here (no Graph settings, or --no-sync): they wait on the queue. Ctrl+C stops.',
  );
  await untilInterrupted();
  await server.stop();
  return 0;
}
