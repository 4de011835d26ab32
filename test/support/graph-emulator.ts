// Shared helpers for the Graph integration tests: each test file starts its own emulator (free port)
// and talks to it through the real MSAL + Graph SDK path.
import { createGraphAccess, type GraphAccess, type GraphSettings } from '../../src/graph/client.js';
import { startGraphEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle, EmulatorOptions, EmulatorUser } from '../../src/emulator/index.js';

export const LECTURERS = [
  { displayName: 'Ada Lovelace', userPrincipalName: 'ada@uni.example', mail: 'ada.lovelace@uni.example' },
  {
    displayName: "Brian O'Neill",
    userPrincipalName: 'boneill@uni.example',
    mail: "brian.o'neill@uni.example",
  },
  {
    displayName: 'Chen Wei',
    userPrincipalName: 'chen@uni.example',
    mail: 'chen.wei@uni.example',
    proxyAddresses: ['SMTP:chen.wei@uni.example', 'smtp:wei.chen@alias.example'],
  },
];

export interface TestEmulator {
  emulator: EmulatorHandle;
  users: EmulatorUser[];
  /** A fresh GraphAccess (own MSAL app, own token cache) against the emulator. */
  access(overrides?: Partial<GraphSettings>): GraphAccess;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startGraphEmulator({ propagationDelayMs: 0, ...options });
  const users = emulator.control.seedUsers(LECTURERS);
  return {
    emulator,
    users,
    // Short SDK retry delay for 5xx without Retry-After, so fault tests stay fast.
    access: (overrides = {}) =>
      createGraphAccess({ ...emulator.settings(), retry: { delaySeconds: 1, maxRetries: 3 }, ...overrides }),
  };
}

let sequence = 0;
/** A meeting input with a unique externalId. */
export function meetingInput(
  subject = 'Algorithms lecture',
  startIso = '2026-09-14T08:15:00Z',
  endIso = '2026-09-14T10:00:00Z',
) {
  sequence++;
  return {
    externalId: `test-${Date.now()}-${sequence}`,
    subject,
    startDateTime: startIso,
    endDateTime: endIso,
  };
}

/** Awaits a promise expected to reject and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** Raw HTTPS access to the emulator (for Graph behaviours the gateways never trigger). */
export async function rawClient(
  emulator: EmulatorHandle,
): Promise<(path: string, init?: RequestInit & { token?: string | null }) => Promise<Response>> {
  const { Agent } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  });
  const tokenResponse = await fetch(`${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: form,
    dispatcher,
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    const bearer = init.token === undefined ? token : init.token;
    if (bearer) headers.set('authorization', `Bearer ${bearer}`);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${emulator.url}${path}`, { ...init, headers, dispatcher });
  };
}
