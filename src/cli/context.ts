// What every CLI command that touches state needs: the validated config (environment, plus the Values
// of ./local.settings.json when present, as `func start` would read them), the services, a logger.
import { existsSync, readFileSync } from 'node:fs';

import { buildServices, type AppServices } from '../compose.js';
import { loadConfig, type AppConfig } from '../config.js';
import { createEventLogger, stderrSink, type EventLogger } from '../events.js';
import { UsageError } from './errors.js';
import { userError } from '../errors.js';

export function cliEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  file = 'local.settings.json',
): Record<string, string | undefined> {
  if (!existsSync(file)) return env;
  let values: Record<string, unknown> = {};
  try {
    values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> }).Values ?? {};
  } catch {
    throw userError('invalidInput', `${file} is not valid JSON`);
  }
  const fromFile = Object.fromEntries(
    Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  return { ...fromFile, ...env }; // the real environment wins, as in the Functions host
}

export function loadCliConfig(): AppConfig {
  return loadConfig(cliEnvironment());
}

export async function cliServices(config: AppConfig = loadCliConfig()): Promise<AppServices> {
  if (!config.storage) {
    throw userError(
      'storageNotConfigured',
      'AzureWebJobsStorage is not set: point it at a Storage account (or Azurite), or run `npm start` for the local demo',
    );
  }
  return buildServices(config);
}

export function cliLogger(verbose: boolean): EventLogger {
  return createEventLogger(stderrSink(verbose ? 'debug' : 'warning'));
}

/** `--now ISO` → a clock that starts there and advances in real time (so waits still work). */
export function clockFrom(value: string | undefined): () => Date {
  if (value === undefined) return () => new Date();
  const start = Date.parse(value);
  if (Number.isNaN(start) || !/^\d{4}-\d\d-\d\d/.test(value))
    throw new UsageError(`--now must be an ISO date-time, got '${value}'`);
  const realStart = Date.now();
  return () => new Date(start + (Date.now() - realStart));
}

/** A fixed-width text table for terminal output. */
export function formatTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
