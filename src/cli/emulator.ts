// `timetable-sync emulator [--port N] [--propagation-seconds N] [--users FILE.json]`: runs the local
// Graph emulator until Ctrl-C and prints exactly how to point the daemon at it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorAppSettings, startGraphEmulator, type EmulatorUserSeed } from '../emulator/index.js';
import type { CommandArgs } from './args.js';
import { UsageError, listenProblem } from './errors.js';
import { userError } from '../errors.js';

function parseNonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

async function readUsers(file: string | undefined): Promise<EmulatorUserSeed[]> {
  if (!file) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw userError(
      'badUsersFile',
      `--users ${file}: cannot read JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const list: unknown = Array.isArray(parsed) ? parsed : (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(list))
    throw userError(
      'badUsersFile',
      `--users ${file}: expected a JSON array of {displayName, userPrincipalName, mail?, id?}`,
    );
  return list.map((u: unknown, i) => {
    const o = (u ?? {}) as Record<string, unknown>;
    if (typeof o.userPrincipalName !== 'string' || !o.userPrincipalName)
      throw userError('badUsersFile', `--users ${file}: entry ${i} has no userPrincipalName`);
    return {
      userPrincipalName: o.userPrincipalName,
      displayName: typeof o.displayName === 'string' ? o.displayName : o.userPrincipalName,
      mail: typeof o.mail === 'string' ? o.mail : null,
      ...(typeof o.id === 'string' ? { id: o.id } : {}),
      ...(Array.isArray(o.proxyAddresses)
        ? { proxyAddresses: o.proxyAddresses.filter((p): p is string => typeof p === 'string') }
        : {}),
    };
  });
}

export async function run(args: CommandArgs): Promise<number> {
  const port = parseNonNegativeInt('port', args.string('port'), 0);
  const propagationSeconds = parseNonNegativeInt(
    'propagation-seconds',
    args.string('propagation-seconds'),
    30 * 60,
  );
  const users = await readUsers(args.string('users'));

  const emulator = await startGraphEmulator({
    port,
    propagationDelayMs: propagationSeconds * 1000,
    users,
  }).catch((error: unknown) => {
    throw listenProblem(error, port);
  });
  const dir = await mkdtemp(join(tmpdir(), 'graph-emulator-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, emulator.caCertPem, { mode: 0o644 });

  const seeded = emulator.control.users();
  // Printing the client secret is deliberate: it is a throwaway credential of a local test server.
  console.log(
    [
      `Graph emulator listening on ${emulator.url} (loopback only; /_emulator/* control API is unauthenticated)`,
      `  tenant id:      ${emulator.tenantId}`,
      `  client id:      ${emulator.clientId}`,
      `  client secret:  ${emulator.clientSecret}`,
      `  CA certificate: ${caFile}`,
      `  policy propagation delay: ${propagationSeconds} s`,
      `  users: ${seeded.length ? seeded.map((u) => `${u.userPrincipalName} (${u.id})`).join(', ') : 'none (POST /_emulator/users or --users FILE.json)'}`,
      '',
      'Point the daemon at it with:',
      ...Object.entries(emulatorAppSettings(emulator, caFile)).map(([name, value]) => `  ${name}=${value}`),
      '',
      'Access policies (Teams semantics, effective after the delay):',
      `  curl --cacert ${caFile} -X POST ${emulator.url}/_emulator/policies -d '{"name":"timetable-sync","appIds":["${emulator.clientId}"]}'`,
      `  curl --cacert ${caFile} -X POST ${emulator.url}/_emulator/policies/grant -d '{"policyName":"timetable-sync","global":true}'`,
      `Inspect: ${emulator.url}/_emulator/meetings, ${emulator.url}/_emulator/requests. Ctrl-C stops.`,
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('stopping Graph emulator');
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
  return 0;
}
