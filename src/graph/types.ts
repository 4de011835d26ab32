// The small interfaces the sync uses to talk to Microsoft Graph; implemented over the Graph SDK in
// src/graph and faked nowhere (tests use the emulator).

export interface DirectoryUser {
  /** Entra object id: the only form onlineMeetings accepts in its path. */
  objectId: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  /** 'Member' or 'Guest'; null when the directory did not say. Guests cannot organize meetings for the app. */
  userType: string | null;
  /** false for a disabled account; null when the directory did not say. */
  accountEnabled: boolean | null;
}

export interface UsersGateway {
  /** Resolves an e-mail/UPN to a directory user; null when no such user exists (not an error). */
  resolveByEmail(email: string): Promise<DirectoryUser | null>;
}

export interface MeetingInput {
  /** Caller-chosen idempotency key; createOrGet returns the same meeting for the same organizer + key. */
  externalId: string;
  subject: string;
  /** UTC ISO 8601 instants. */
  startDateTime: string;
  endDateTime: string;
}

export interface OnlineMeeting {
  id: string;
  joinWebUrl: string;
  subject: string;
  startDateTime: string;
  endDateTime: string;
  externalId: string | null;
  /** lobbyBypassSettings.scope as Graph answered it; null when absent. createOrGet ignores the one asked for. */
  lobbyBypassScope: string | null;
  /** allowedPresenters as Graph answered it; null when absent. */
  allowedPresenters: string | null;
}

export interface MeetingUpdate {
  subject: string;
  startDateTime: string;
  endDateTime: string;
  /** When set, locks the meeting (lobby for everyone but the organizer): the `lock` cancel mode. */
  lockLobby?: boolean;
}

export interface MeetingsGateway {
  /** POST /users/{id}/onlineMeetings/createOrGet; `created` is true on 201, false on 200. */
  createOrGet(organizerId: string, input: MeetingInput): Promise<OnlineMeeting & { created: boolean }>;
  get(organizerId: string, meetingId: string): Promise<OnlineMeeting | null>;
  /** PATCH with start, end and subject together (Graph requires start and end together). */
  update(organizerId: string, meetingId: string, update: MeetingUpdate): Promise<OnlineMeeting>;
  /**
   * Whether the meeting already has the configured lobby and presenter options. createOrGet ignores
   * them (a new meeting has the tenant's defaults), so a create PATCHes them when this is false.
   */
  carriesOptions(meeting: OnlineMeeting): boolean;
  /** DELETE; resolves `false` when the meeting was already gone (404), `true` when deleted. */
  delete(organizerId: string, meetingId: string): Promise<boolean>;
}

/** How a failed Graph call should be handled; classified in one place (src/graph/errors.ts). */
export type GraphErrorKind =
  | 'policyMissing' // 403 (legacy body: also 401): no (propagated) application access policy for this organizer
  | 'throttled' // 429 after the SDK's own retries, or a Retry-After pause longer than the cap still running
  | 'transient' // 5xx, reset, timeout
  | 'notFound' // 404
  | 'invalidRequest' // 400 and other 4xx the request itself caused
  | 'unauthorized' // 401 / credential problems: stop the run, tell ops
  | 'forbidden' // 403 naming a missing API permission (role) or admin consent: the app itself
  | 'userForbidden' // any other 403: one organizer (guest, unlicensed, disabled; often an empty message)
  | 'monthlyLimit'; // 403 or 429 saying the organizer's 2,000 meetings a month are used up

/** One attendance report: one time the meeting was held. UTC ISO instants. */
export interface AttendanceReportSummary {
  id: string;
  meetingStartDateTime: string;
  meetingEndDateTime: string;
  totalParticipantCount: number;
}

/** One participant of a held meeting, as Graph reports it (guests and federated users included). */
export interface AttendanceRecordData {
  /** identity.id; null for anonymous and dial-in participants. */
  participantId: string | null;
  displayName: string;
  /** Lower-cased; null when Graph gives none. */
  email: string | null;
  role: string;
  totalSeconds: number;
  /** Join / leave (UTC ISO; leave null while still in) and seconds of each stay. */
  intervals: Array<{ join: string; leave: string | null; seconds: number }>;
}

export interface AttendanceGateway {
  /** GET …/onlineMeetings/{id}/attendanceReports: at most the 50 most recent, once generated. */
  listReports(organizerId: string, meetingId: string): Promise<AttendanceReportSummary[]>;
  /** Every record of one report, following @odata.nextLink. */
  listRecords(organizerId: string, meetingId: string, reportId: string): Promise<AttendanceRecordData[]>;
}
