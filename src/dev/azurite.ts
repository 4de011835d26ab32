// Starts the real Azure Storage emulator (Azurite) as a child process for local runs and integration
// tests. Free ports, in-memory (or a temp location removed on stop), bounded start-up, and a stop that
// really ends the process, so test runs never leak emulators or fight over the default 10000-10002.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface AzuriteOptions {
  /** Persist to this directory instead of memory (kept on stop: the caller owns it). */
  location?: string;
  /** Suppress Azurite's access log (default true: the log is noise in tests). */
  silent?: boolean;
  /** How long to wait for all three ports to accept connections (default 30 s). */
  startTimeoutMs?: number;
  /** These ports instead of free ones (a kept local stack comes back where its settings point). */
  ports?: { blobPort: number; queuePort: number; tablePort: number };
}

export interface AzuriteInstance {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  pid: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Azurite's well-known development account; the key is published in Microsoft's docs, not a secret. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const STOP_GRACE_MS = 5_000;

export function azuriteConnectionString(ports: {
  blobPort: number;
  queuePort: number;
  tablePort: number;
}): string {
  // Explicit endpoints (path-style, account in the first segment) so every SDK talks to our ports.
  const base = (port: number): string => `http://${HOST}:${port}/${AZURITE_ACCOUNT_NAME}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT_NAME}`,
    `AccountKey=${AZURITE_ACCOUNT_KEY}`,
    `BlobEndpoint=${base(ports.blobPort)}`,
    `QueueEndpoint=${base(ports.queuePort)}`,
    `TableEndpoint=${base(ports.tablePort)}`,
  ].join(';');
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const require = createRequire(import.meta.url);
  const script = path.join(
    path.dirname(require.resolve('azurite/package.json')),
    'dist',
    'src',
    'azurite.js',
  );
  // Ports are found by binding to 0 and releasing; a tiny race with other processes is possible, and
  // then Azurite fails to bind and we report it (with its stderr) rather than hang.
  const [blobPort, queuePort, tablePort] = options.ports
    ? [options.ports.blobPort, options.ports.queuePort, options.ports.tablePort]
    : await freePorts();
  // A given port already taken would make the readiness check below succeed against someone else.
  if (options.ports)
    for (const port of [blobPort, queuePort, tablePort])
      if (await canConnect(port))
        throw new Error(`port ${port} on ${HOST} is already in use by another process`);
  // In memory, Azurite still may write small files to its working directory: give it a temp one.
  const workDir = await mkdtemp(path.join(tmpdir(), 'azurite-'));

  const args = [
    script,
    '--blobHost',
    HOST,
    '--blobPort',
    String(blobPort),
    '--queueHost',
    HOST,
    '--queuePort',
    String(queuePort),
    '--tableHost',
    HOST,
    '--tablePort',
    String(tablePort),
    '--skipApiVersionCheck', // newer SDKs send API versions this Azurite may not know yet
    '--loose',
    '--disableProductStyleUrl', // the account is the first path segment, whatever the host is
    '--disableTelemetry',
  ];
  // Azurite refuses --inMemoryPersistence together with --location.
  args.push(...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']));
  if (options.silent ?? true) args.push('--silent');

  const child = spawn(process.execPath, args, {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    // Keep only the tail: enough to explain a failed start without growing forever.
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  // If the test runner or CLI exits without calling stop(), do not leave an orphan emulator behind.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child, () => exited !== null, exitPromise);
      await rm(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const pid = child.pid;
  try {
    if (pid === undefined) throw await spawnError;
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (const port of [blobPort, queuePort, tablePort]) {
      for (;;) {
        if (exited) {
          const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null };
          throw new Error(`Azurite exited during start-up (code ${code}, signal ${signal})`);
        }
        if (await canConnect(port)) break;
        if (Date.now() > deadline)
          throw new Error(`Azurite did not accept connections on port ${port} in time`);
        await sleep(100);
      }
    }
    return {
      connectionString: azuriteConnectionString({ blobPort, queuePort, tablePort }),
      blobPort,
      queuePort,
      tablePort,
      pid,
      stop,
    };
  } catch (error) {
    await stop();
    const detail = output.trim() ? `\n--- Azurite output ---\n${output.trim()}` : '';
    throw new Error(`${(error as Error).message}${detail}`, { cause: error });
  }
}

async function terminate(
  child: ChildProcess,
  hasExited: () => boolean,
  exitPromise: Promise<void>,
): Promise<void> {
  if (hasExited() || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited()) child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  try {
    await exitPromise;
  } finally {
    clearTimeout(timer);
  }
}

async function freePorts(): Promise<[number, number, number]> {
  // Hold all three servers open until every port is known, so the ports are distinct.
  const servers = await Promise.all(
    [0, 1, 2].map(() => {
      const server = createServer();
      return new Promise<Server>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('could not determine a free port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports as [number, number, number];
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.setTimeout(1_000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
