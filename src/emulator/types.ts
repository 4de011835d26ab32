// Public types of the Graph emulator (library API and the /_emulator JSON API).
import type { FaultSettings, ThrottleSettings } from './limits.js';
import type { GrantTarget, GrantView, PolicyView } from './policies.js';

export type { FaultSettings, ThrottleSettings, GrantTarget, GrantView, PolicyView };

export interface EmulatorUserSeed {
  id?: string;
  displayName: string;
  userPrincipalName: string;
  mail?: string | null;
  /** e.g. `SMTP:primary@x` / `smtp:alias@x` */
  proxyAddresses?: string[];
}

export interface EmulatorUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  proxyAddresses: string[];
}

export interface EmulatorAppRegistration {
  clientId?: string;
  displayName?: string;
  /** Client secret; generated when neither secret nor certificate is given. */
  secret?: string;
  /** PEM certificates whose keys may sign client assertions. */
  certificatePems?: string[];
  /** Application permissions granted (admin-consented); default OnlineMeetings.ReadWrite.All + User.Read.All. */
  roles?: string[];
}

export interface EmulatorApp {
  clientId: string;
  displayName: string;
  secret: string | null;
  roles: string[];
  /** `sub` a managed-identity assertion must carry to be accepted as this app's federated credential. */
  federatedSubject: string;
  certificateThumbprintsSha256: string[];
}

export type PolicyErrorStyle = 'current' | 'legacy';

export interface EmulatorOptions {
  /** 0 (default) = a free port. Always bound to 127.0.0.1. */
  port?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Application access policy propagation delay; default 30 minutes (Microsoft's "up to 30 minutes"). */
  propagationDelayMs?: number;
  policyErrorStyle?: PolicyErrorStyle;
  users?: EmulatorUserSeed[];
  /** Access token lifetime; default 3599 s like Entra. */
  tokenLifetimeSeconds?: number;
  /** Injectable clock (ms since epoch) for policy propagation and token expiry; default Date.now. */
  now?: () => number;
  throttle?: ThrottleSettings;
  faults?: FaultSettings;
}

export interface EmulatorMeetingView {
  id: string;
  organizerId: string;
  externalId: string | null;
  subject: string;
  startDateTime: string;
  endDateTime: string;
  creationDateTime: string;
  joinWebUrl: string;
  lobbyBypassScope: string;
  allowedPresenters: string;
  /** Lobby locked = only the organizer bypasses the lobby and presents (the daemon's `lock` cancel mode). */
  lobbyLocked: boolean;
  createdBy: 'createOrGet' | 'post';
  patchCount: number;
}

export interface RequestCounts {
  /** All requests the emulator answered (or reset). */
  total: number;
  /** Requests to /v1.0 routes. */
  graph: number;
  /** 429 answers on /v1.0 routes. */
  graphThrottled: number;
  /** Requests to the token endpoint. */
  token: number;
  /** "METHOD route-template" → status (or "reset") → count. */
  byRoute: Record<string, Record<string, number>>;
}

export interface EmulatorControl {
  seedUsers(users: EmulatorUserSeed[]): EmulatorUser[];
  users(): EmulatorUser[];
  registerApp(app?: EmulatorAppRegistration): EmulatorApp;
  apps(): EmulatorApp[];
  /** New-CsApplicationAccessPolicy -Identity name -AppIds ... */
  newPolicy(name: string, appIds: string[], description?: string, options?: { delayMs?: number }): PolicyView;
  /** Set-CsApplicationAccessPolicy -Identity name -AppIds @{Add=...; Remove=...} */
  setPolicy(
    name: string,
    change: { add?: string[]; remove?: string[]; appIds?: string[] },
    options?: { delayMs?: number },
  ): PolicyView;
  removePolicy(name: string): void;
  /**
   * Grant-CsApplicationAccessPolicy -PolicyName name|$null (-Identity userObjectId | -Global).
   * `delayMs` overrides the propagation delay for this one change (e.g. 0 in test setup).
   */
  grantPolicy(policyName: string | null, target: GrantTarget, options?: { delayMs?: number }): GrantView;
  /** Test shortcut: one policy holding the default app, granted globally, effective at once. */
  allowDefaultAppGlobally(): void;
  policies(): { policies: PolicyView[]; grants: GrantView[] };
  setPropagationDelay(ms: number): void;
  setPolicyErrorStyle(style: PolicyErrorStyle): void;
  setThrottle(settings: ThrottleSettings | null): void;
  setFaults(settings: FaultSettings | null): void;
  /** Moves the emulator clock forward (policy propagation, token expiry). */
  advanceTime(ms: number): void;
  now(): number;
  /** A managed-identity token the default app accepts as a federated client assertion. */
  mintManagedIdentityAssertion(clientId?: string): string;
  /** All live meetings (deleted ones excluded). */
  meetings(): EmulatorMeetingView[];
  requestCounts(): RequestCounts;
  /** Meetings beyond one per (organizer, subject, start, end). */
  duplicates(): number;
  /** Clears meetings, request counts, throttle and faults; `everything` also clears users, policies and extra apps. */
  reset(options?: { everything?: boolean }): void;
}

export interface EmulatorHandle {
  /** https://127.0.0.1:PORT */
  url: string;
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The self-signed certificate the emulator serves; trust it as a CA. */
  caCertPem: string;
  /**
   * Settings for the daemon's createGraphAccess pointing at this emulator with the default app's
   * secret (the emulator does not import the daemon: the shape is the connection part of its settings).
   */
  settings<T extends object = Record<never, never>>(overrides?: T): Omit<EmulatorConnection, keyof T> & T;
  control: EmulatorControl;
  stop(): Promise<void>;
}

/** Where and as whom a Graph client reaches this emulator. */
export interface EmulatorConnection {
  tenantId: string;
  clientId: string;
  credential: { kind: 'secret'; secret: string };
  authorityHost: string;
  graphBaseUrl: string;
  caCertPem: string;
}
