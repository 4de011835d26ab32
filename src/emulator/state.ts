// The one mutable state of a running emulator. Every route module receives it explicitly (no module
// state), so several emulators can run in one process — the tests start one per file.
import { MONTHLY_LIMIT_MESSAGE } from './meetingRules.js';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { registerApp } from './apps.js';
import { DEFAULT_ATTENDANCE_SETTINGS, type AttendanceSettings, type HeldOccurrence } from './attendance.js';
import type { RegisteredCertificate } from './jwt.js';
import { Faults, Throttle } from './limits.js';
import { setBehaviour } from './meetingRules.js';
import { PolicyStore } from './policies.js';
import type {
  EmulatorApp,
  EmulatorCloud,
  EmulatorOptions,
  EmulatorUser,
  MonthlyMeetingLimit,
  PolicyErrorStyle,
  RequestCounts,
  TenantMeetingDefaults,
} from './types.js';
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
  /** Deleted over Graph: gone from GET and the control list, but its join link still opens it. */
  deleted: boolean;
  deletedAt: number | null;
  /** Someone opened a deleted meeting's link: GET by id returns it again (microsoft-graph-docs#17590). */
  joinedAfterDelete: boolean;
}

/** Microsoft's createOrGet example: presenters everyone, lobby bypass for the organization. */
export const DEFAULT_MEETING_DEFAULTS: TenantMeetingDefaults = {
  lobbyBypassScope: 'organization',
  isDialInBypassEnabled: false,
  allowedPresenters: 'everyone',
};
export const DEFAULT_MONTHLY_LIMIT: MonthlyMeetingLimit = {
  perOrganizer: 2000,
  status: 403,
  message: MONTHLY_LIMIT_MESSAGE,
};

export interface EmulatorState {
  readonly tenantId: string;
  readonly tenantDomain: string;
  readonly cloud: EmulatorCloud;
  /** The `scope` of the last token request; null before any. */
  lastTokenScope: string | null;
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
  /** Every time a meeting was held (control.holdMeeting): its attendance report. */
  heldMeetings: HeldOccurrence[];
  attendance: AttendanceSettings;
  /** Meetings created per `organizerId|YYYY-MM` (UTC, emulator clock); deletes do not give any back. */
  createdPerMonth: Map<string, number>;
  meetingDefaults: TenantMeetingDefaults;
  monthlyLimit: MonthlyMeetingLimit;
  patchNoContent: boolean;
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
  return { total: 0, graph: 0, graphThrottled: 0, token: 0, lostResponses: 0, byRoute: {} };
}

export function createState(options: EmulatorOptions, caCertPem: string): EmulatorState {
  const baseNow = options.now ?? (() => Date.now());
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apps = new Map<string, AppRecord>();
  const defaultApp = registerApp(apps, {
    clientId: options.clientId,
    secret: options.clientSecret ?? undefined,
    ...(options.appRoles ? { roles: options.appRoles } : {}),
  });
  const state: EmulatorState = {
    tenantId: options.tenantId ?? randomUUID(),
    tenantDomain: options.tenantDomain ?? 'contoso.onmicrosoft.com',
    cloud: options.cloud ?? 'global',
    lastTokenScope: null,
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
    heldMeetings: [],
    attendance: { ...DEFAULT_ATTENDANCE_SETTINGS, ...options.attendance },
    createdPerMonth: new Map(),
    meetingDefaults: { ...DEFAULT_MEETING_DEFAULTS },
    monthlyLimit: { ...DEFAULT_MONTHLY_LIMIT },
    patchNoContent: false,
    counts: emptyCounts(),
    policies: new PolicyStore(() => state.now(), options.propagationDelayMs ?? 30 * 60_000),
    policyErrorStyle: options.policyErrorStyle ?? 'current',
    throttle: new Throttle(),
    faults: new Faults(),
    clockOffsetMs: 0,
    now: () => baseNow() + state.clockOffsetMs,
  };
  setBehaviour(state, {
    meetingDefaults: options.meetingDefaults,
    monthlyMeetingLimit: options.monthlyMeetingLimit,
    patchNoContent: options.patchNoContent,
  });
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
