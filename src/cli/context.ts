// What every CLI command that touches state needs: the validated config (./settings.ts), the services,
// a logger.
import { buildServices, type AppServices } from '../compose.js';
import type { AppConfig } from '../config.js';
import { createEventLogger, stderrSink, type EventLogger } from '../events.js';
import { UsageError } from './errors.js';
import { assertStorageReachable, loadCliConfig } from './settings.js';
import { userError } from '../errors.js';

export async function cliServices(config: AppConfig = loadCliConfig()): Promise<AppServices> {
  if (!config.storage) {
    throw userError(
      'storageNotConfigured',
      'AzureWebJobsStorage is not set: point it at a Storage account (or Azurite), or run `npm start -- --keep` for the local demo (it writes ./local.settings.json)',
    );
  }
  await assertStorageReachable(config.storage);
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
