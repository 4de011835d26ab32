// The CLI's settings: the environment, plus the Values of ./local.settings.json when present (as
// `func start` reads them), and whether the Storage they name can be reached. Light on purpose (no SDK):
// main.ts checks Storage with it before a state command's module (and every Azure SDK) is loaded, so a
// stopped Azurite is reported in well under the 3 s the README promises.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

import { loadConfig, type AppConfig, type StorageConfig } from '../config.js';
import { userError } from '../errors.js';

/** Where the CLI reads settings from besides the environment (as `func start` would). */
export const LOCAL_SETTINGS_FILE = 'local.settings.json';

export function cliEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  file = LOCAL_SETTINGS_FILE,
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

/** How long a state command waits for Storage to accept a connection before saying it cannot. */
const STORAGE_PROBE_MS = 2_500;

/** The Table endpoint a storage setting names (the one every state command needs first). */
export function tableEndpointOf(storage: StorageConfig): URL {
  if (storage.kind === 'managedIdentity')
    return new URL(`https://${storage.accountName}.table.core.windows.net`);
  const parts = new Map(
    storage.connectionString
      .split(';')
      .map((p) => p.trim())
      .filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')).toLowerCase(), p.slice(p.indexOf('=') + 1)] as const),
  );
  const explicit = parts.get('tableendpoint');
  if (explicit) return new URL(explicit);
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true')
    return new URL('http://127.0.0.1:10002/devstoreaccount1');
  const protocol = parts.get('defaultendpointsprotocol') ?? 'https';
  return new URL(
    `${protocol}://${parts.get('accountname') ?? 'unknown'}.table.${parts.get('endpointsuffix') ?? 'core.windows.net'}`,
  );
}

/** Resolves when something accepts a TCP connection there, else says what happened (within `ms`). */
function probe(url: URL, ms: number): Promise<string | null> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(ms, () => done(`no answer within ${ms / 1000} s`));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(
        error.code === 'ECONNREFUSED'
          ? 'connection refused: nothing listens there'
          : error.code === 'ENOTFOUND'
            ? 'no such host'
            : (error.code ?? error.message),
      ),
    );
  });
}

/** Where the storage setting came from, for the message that names it. */
function storageSource(): string {
  if (process.env.AzureWebJobsStorage || process.env.AzureWebJobsStorage__accountName)
    return 'the environment';
  return existsSync(LOCAL_SETTINGS_FILE) ? `./${LOCAL_SETTINGS_FILE}` : 'the settings';
}

/** Says at once when the Table endpoint does not accept connections: the endpoint, where it came from, the fix. */
export async function assertStorageReachable(storage: StorageConfig): Promise<void> {
  // The SDKs retry a refused connection for ~16 s; a person at the keyboard is told at once instead.
  const endpoint = tableEndpointOf(storage);
  const problem = await probe(endpoint, STORAGE_PROBE_MS);
  if (problem === null) return;
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(endpoint.hostname);
  throw userError(
    'storageUnreachable',
    `cannot reach Table Storage at ${endpoint.origin} (${problem}; AzureWebJobsStorage from ${storageSource()}). ` +
      (local
        ? 'Start Azurite: `timetable-sync dev up` (the local stack `npm start -- --keep` made), or `npx azurite` for UseDevelopmentStorage=true'
        : 'Check the network and the storage account name in AzureWebJobsStorage'),
  );
}

/** Before a state command is loaded: its Storage, when one is configured, must answer. */
export async function checkStorageBeforeLoading(): Promise<void> {
  const { storage } = loadCliConfig();
  if (storage) await assertStorageReachable(storage);
}
