// The one mutable state of a running emulator. Every route module receives it explicitly (no module
// state), so several emulators can run in one process — the tests start one per file.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { registerApp } from './apps.js';
import type { RegisteredCertificate } from './jwt.js';
import { Faults, Throttle } from './limits.js';
import { PolicyStore } from './policies.js';
import type { EmulatorApp, EmulatorOptions, EmulatorUser, PolicyErrorStyle, RequestCounts } from './types.js';
import { seedUsers } from './users.js';

export interface AppRecord {
  clientId: string;
  displayName: string;
  secret: string | null;
  certificates: RegisteredCertificate[];
  roles: string[];
  federatedSubject: string;
  servicePrincipalId: string;
}

export interface MeetingRecord {
  id: string;
  organizerId: string;
  externalId: string | null;
  subject: string;
  start: number;
  end: number;
  created: number;
  joinWebUrl: string;
  joinMeetingId: string;
  passcode: string;
  threadId: string;
  lobbyBypassSettings: { scope: string; isDialInBypassEnabled: boolean };
  allowedPresenters: string;
  attendees: unknown[];
  createdBy: 'createOrGet' | 'post';
  patchCount: number;
  deleted: boolean;
}

export interface EmulatorState {
  readonly tenantId: string;
  /** https://127.0.0.1:PORT: set once the server listens, before any request can arrive. */
  url: string;
  readonly caCertPem: string;
  readonly tokenLifetimeSeconds: number;
  /** RS256 key for access tokens and minted managed-identity assertions, generated per start. */
  readonly signing: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
  /** The app `settings()` and the control shortcuts use; survives `reset({everything})`. */
  readonly defaultApp: EmulatorApp;
  readonly users: Map<string, EmulatorUser>;
  readonly apps: Map<string, AppRecord>;
  meetings: MeetingRecord[];
  counts: RequestCounts;
  readonly policies: PolicyStore;
  policyErrorStyle: PolicyErrorStyle;
  readonly throttle: Throttle;
  readonly faults: Faults;
  /** Added to the base clock by `advanceTime`. */
  clockOffsetMs: number;
  /** The emulator clock: policy propagation, token expiry, timestamps. */
  now(): number;
}

export function emptyCounts(): RequestCounts {
  return { total: 0, graph: 0, graphThrottled: 0, token: 0, byRoute: {} };
}

export function createState(options: EmulatorOptions, caCertPem: string): EmulatorState {
  const baseNow = options.now ?? (() => Date.now());
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apps = new Map<string, AppRecord>();
  const defaultApp = registerApp(apps, {
    clientId: options.clientId,
    secret: options.clientSecret ?? undefined,
  });
  const state: EmulatorState = {
    tenantId: options.tenantId ?? randomUUID(),
    url: '',
    caCertPem,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    signing: {
      privateKey: signing.privateKey,
      publicKey: signing.publicKey,
      kid: randomBytes(8).toString('hex'),
    },
    defaultApp,
    users: new Map(),
    apps,
    meetings: [],
    counts: emptyCounts(),
    policies: new PolicyStore(() => state.now(), options.propagationDelayMs ?? 30 * 60_000),
    policyErrorStyle: options.policyErrorStyle ?? 'current',
    throttle: new Throttle(),
    faults: new Faults(),
    clockOffsetMs: 0,
    now: () => baseNow() + state.clockOffsetMs,
  };
  state.throttle.configure(options.throttle ?? null);
  state.faults.configure(options.faults ?? null);
  seedUsers(state.users, options.users ?? []);
  return state;
}

/** Counts one answered (or reset) request under its route template. */
export function recordRequest(
  state: EmulatorState,
  route: string,
  status: number | 'reset',
  graph: boolean,
): void {
  const counts = state.counts;
  counts.total++;
  if (graph) {
    counts.graph++;
    if (status === 429) counts.graphThrottled++;
  }
  if (route === 'POST /{tenant}/oauth2/v2.0/token') counts.token++;
  const byStatus = (counts.byRoute[route] ??= {});
  byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
}
