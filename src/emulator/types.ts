// Public types of the Graph emulator (library API and the /_emulator JSON API).
import type { FaultSettings, ThrottleSettings } from './limits.js';
import type { GrantTarget, GrantView, PolicyView } from './policies.js';
import type { AttendanceReportView, AttendanceSettings, AttendeeSeed, HoldOptions } from './attendance.js';

export type { FaultSettings, ThrottleSettings, GrantTarget, GrantView, PolicyView };
export type { AttendanceReportView, AttendanceSettings, AttendeeSeed, HoldOptions };

export interface EmulatorUserSeed {
  id?: string;
  displayName: string;
  userPrincipalName: string;
  mail?: string | null;
  /** e.g. `SMTP:primary@x` / `smtp:alias@x` */
  proxyAddresses?: string[];
  /** Default 'Member'. A guest cannot organize meetings for the app (403 on onlineMeetings). */
  userType?: UserType;
  /** Default true. A disabled account cannot organize meetings for the app (403 on onlineMeetings). */
  accountEnabled?: boolean;
  /** Default true. Without a Teams licence the user cannot organize meetings (403 on onlineMeetings). */
  teamsLicensed?: boolean;
}

export type UserType = 'Member' | 'Guest';

export interface EmulatorUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  proxyAddresses: string[];
  userType: UserType;
  accountEnabled: boolean;
  teamsLicensed: boolean;
}

/** What `control.setUser` may change on a seeded user. */
export type EmulatorUserChange = Partial<Pick<EmulatorUser, 'userType' | 'accountEnabled' | 'teamsLicensed'>>;

/** Which Microsoft cloud's Entra the token endpoint plays: it decides the Graph scope it accepts. */
export type EmulatorCloud = 'global' | 'usgov' | 'usgovdod';

/** The settings a new meeting gets, whatever createOrGet / POST asked for (they ignore options). */
export interface TenantMeetingDefaults {
  /** lobbyBypassSettings.scope; default 'organization'. */
  lobbyBypassScope: string;
  /** lobbyBypassSettings.isDialInBypassEnabled; default false. */
  isDialInBypassEnabled: boolean;
  /** Default 'everyone' (Microsoft's createOrGet example response). */
  allowedPresenters: string;
}

/** The 2,000 meetings per organizer per calendar month (UTC) limit; its status is undocumented. */
export interface MonthlyMeetingLimit {
  /** Meetings one organizer may create per calendar month; default 2,000. */
  perOrganizer: number;
  /** 403 (default, no Retry-After) or 429 (Retry-After = seconds to the month's end). */
  status: 403 | 429;
  /** The error message; undocumented, so settable (default MONTHLY_LIMIT_MESSAGE). */
  message?: string;
}

/** The Graph behaviours a test may set (PUT /_emulator/settings) and what the emulator observed. */
export interface EmulatorBehaviour {
  propagationDelayMs: number;
  policyErrorStyle: PolicyErrorStyle;
  meetingDefaults: TenantMeetingDefaults;
  monthlyMeetingLimit: MonthlyMeetingLimit;
  /** PATCH onlineMeeting answers 204 without a body (still applying the change); default false (200 + meeting). */
  patchNoContent: boolean;
  /** Fixed at start. */
  cloud: EmulatorCloud;
  /** The tenant's domain, accepted in token and metadata URLs like the tenant id; fixed at start. */
  tenantDomain: string;
  /** The `scope` of the last token request (accepted or not); null before any. */
  lastTokenScope: string | null;
}

export type EmulatorBehaviourChange = Partial<
  Pick<EmulatorBehaviour, 'propagationDelayMs' | 'policyErrorStyle' | 'patchNoContent'>
> & {
  meetingDefaults?: Partial<TenantMeetingDefaults>;
  monthlyMeetingLimit?: Partial<MonthlyMeetingLimit>;
};

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
  /** The tenant's domain, accepted in the token URL instead of the id; default 'contoso.onmicrosoft.com'. */
  tenantDomain?: string;
  /** Default 'global': tokens are for https://graph.microsoft.com/.default only. */
  cloud?: EmulatorCloud;
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
  meetingDefaults?: Partial<TenantMeetingDefaults>;
  monthlyMeetingLimit?: Partial<MonthlyMeetingLimit>;
  patchNoContent?: boolean;
  /** Attendance reports: their delay after a held meeting ends, and the records' page size. */
  attendance?: Partial<AttendanceSettings>;
  /** Application permissions of the default app; default OnlineMeetings.ReadWrite.All + User.Read.All. */
  appRoles?: string[];
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
  /** Deleted over Graph (listed only with `includeDeleted`); its link still opens the meeting. */
  deleted: boolean;
  deletedDateTime: string | null;
}

/**
 * What opening a join link would find: a deleted meeting's link keeps working
 * (microsoft-graph-docs#7802), with the lobby and presenters it had when it was deleted.
 */
export interface EmulatorJoinableView {
  meetingId: string;
  organizerId: string;
  subject: string;
  deleted: boolean;
  deletedDateTime: string | null;
  lobbyBypassScope: string;
  allowedPresenters: string;
  /** Only the organizer bypasses the lobby and presents. */
  lobbyLocked: boolean;
  /** Someone other than the organizer bypasses the lobby (scope not 'organizer'): the link lets people in. */
  admitsAnyone: boolean;
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
  /** Writes that committed but whose response was lost (fault `failAfterCommit*`: reset or 504). */
  lostResponses: number;
  /** "METHOD route-template" → status (or "reset") → count. */
  byRoute: Record<string, Record<string, number>>;
}

export interface EmulatorControl {
  seedUsers(users: EmulatorUserSeed[]): EmulatorUser[];
  users(): EmulatorUser[];
  /** Turns a seeded user into a guest, disables it or takes its Teams licence away (or back). */
  setUser(userId: string, change: EmulatorUserChange): EmulatorUser;
  registerApp(app?: EmulatorAppRegistration): EmulatorApp;
  /** Replaces an app's admin-consented application permissions (tokens issued afterwards carry them). */
  setAppRoles(clientId: string, roles: string[]): EmulatorApp;
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
  /** Changes any of the settable behaviours (a partial meetingDefaults / monthlyMeetingLimit merges). */
  setBehaviour(change: EmulatorBehaviourChange): EmulatorBehaviour;
  behaviour(): EmulatorBehaviour;
  setThrottle(settings: ThrottleSettings | null): void;
  setFaults(settings: FaultSettings | null): void;
  /** Moves the emulator clock forward (policy propagation, token expiry). */
  advanceTime(ms: number): void;
  now(): number;
  /** A managed-identity token the default app accepts as a federated client assertion. */
  mintManagedIdentityAssertion(clientId?: string): string;
  /** All live meetings; deleted ones too (`deleted: true`) with `includeDeleted`. */
  meetings(options?: { includeDeleted?: boolean }): EmulatorMeetingView[];
  /** The meeting a join link opens, deleted or not; null for a link the emulator never issued. */
  joinable(joinWebUrl: string): EmulatorJoinableView | null;
  /**
   * Someone opens the link (as a student would): what it opens, like `joinable`. A deleted meeting
   * joined this way is returned again by GET by id (microsoft-graph-docs#17590).
   */
  join(joinWebUrl: string): EmulatorJoinableView | null;
  /**
   * The meeting is held (someone opens its link at `start`…`end`, default its scheduled time): an
   * attendance report appears `reportDelayMs` after it ends. A meeting held twice has two reports.
   * Null when no one joined (`attendees: 0`): Graph keeps no report then.
   */
  holdMeeting(meetingId: string, options?: HoldOptions): AttendanceReportView | null;
  /** Holds, at its scheduled time, every live meeting that has ended (emulator clock) and was not held yet. */
  holdEndedMeetings(options?: { attendees?: number }): number;
  /** Every report (available or not yet), most recent first; one meeting's with `meetingId`. */
  attendanceReports(meetingId?: string): AttendanceReportView[];
  setAttendance(change: Partial<AttendanceSettings>): AttendanceSettings;
  /** Meetings created (201) per organizer id per UTC month ('YYYY-MM'), deleted ones included. */
  meetingsCreatedPerMonth(): Record<string, Record<string, number>>;
  requestCounts(): RequestCounts;
  /** Meetings beyond one per (organizer, subject, start, end). */
  duplicates(): number;
  /**
   * Clears meetings (deleted ones and monthly counts too), request counts, throttle and faults;
   * `everything` also clears users, policies and extra apps. The behaviours (setBehaviour) stay.
   */
  reset(options?: { everything?: boolean }): void;
}

export interface EmulatorHandle {
  /** https://127.0.0.1:PORT */
  url: string;
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  /** Accepted wherever the tenant id is (token and metadata URLs). */
  tenantDomain: string;
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
