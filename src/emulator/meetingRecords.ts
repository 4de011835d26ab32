// Online meeting records: how the emulator mints them (ids, join URLs, dial-in ids shaped like
// Teams'), and how they read back over Graph and over the control API.
import { randomBytes, randomInt } from 'node:crypto';
import type { EmulatorState, MeetingRecord } from './state.js';
import type { EmulatorJoinableView, EmulatorMeetingView, EmulatorUser } from './types.js';

/** Graph dateTime output: UTC with 7 fractional digits, as Graph returns them. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Teams writes percent-escapes in lower case in join URLs. */
function lowerEscapes(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
}

export interface MeetingFields {
  subject: string;
  start: number;
  end: number;
  attendees: unknown[];
}

export function newMeeting(
  state: EmulatorState,
  organizer: EmulatorUser,
  fields: MeetingFields,
  externalId: string | null,
  createdBy: MeetingRecord['createdBy'],
): MeetingRecord {
  const thread = `19:meeting_${randomBytes(30).toString('base64url').slice(0, 40)}@thread.v2`;
  const context = lowerEscapes(
    encodeURIComponent(JSON.stringify({ Tid: state.tenantId, Oid: organizer.id })),
  );
  return {
    // Real ids are base64 of "1*{organizerId}*0**{threadId}" (and may contain '/', '+', '=').
    id: Buffer.from(`1*${organizer.id}*0**${thread}`).toString('base64'),
    organizerId: organizer.id,
    externalId,
    subject: fields.subject,
    start: fields.start,
    end: fields.end,
    created: state.now(),
    joinWebUrl: `https://teams.microsoft.com/l/meetup-join/${lowerEscapes(encodeURIComponent(thread))}/0?context=${context}`,
    joinMeetingId: String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999)),
    passcode: randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6),
    threadId: thread,
    // The tenant's defaults: createOrGet and POST ignore the options they are sent.
    lobbyBypassSettings: {
      scope: state.meetingDefaults.lobbyBypassScope,
      isDialInBypassEnabled: state.meetingDefaults.isDialInBypassEnabled,
    },
    allowedPresenters: state.meetingDefaults.allowedPresenters,
    attendees: fields.attendees,
    createdBy,
    patchCount: 0,
    deleted: false,
    deletedAt: null,
    joinedAfterDelete: false,
  };
}

/** The onlineMeeting resource as Graph returns it. */
export function meetingPayload(
  state: EmulatorState,
  m: MeetingRecord,
  organizer: EmulatorUser,
): Record<string, unknown> {
  return {
    '@odata.context': `${state.url}/v1.0/$metadata#users('${organizer.id}')/onlineMeetings/$entity`,
    id: m.id,
    creationDateTime: graphTime(m.created),
    startDateTime: graphTime(m.start),
    endDateTime: graphTime(m.end),
    joinUrl: m.joinWebUrl,
    joinWebUrl: m.joinWebUrl,
    meetingCode: m.joinMeetingId,
    subject: m.subject,
    externalId: m.externalId,
    isBroadcast: false,
    autoAdmittedUsers: 'everyoneInCompany',
    outerMeetingAutoAdmittedUsers: null,
    isEntryExitAnnounced: true,
    allowedPresenters: m.allowedPresenters,
    allowMeetingChat: 'enabled',
    allowTeamworkReactions: true,
    lobbyBypassSettings: { ...m.lobbyBypassSettings },
    joinMeetingIdSettings: { isPasscodeRequired: true, joinMeetingId: m.joinMeetingId, passcode: m.passcode },
    videoTeleconferenceId: null,
    chatInfo: { threadId: m.threadId, messageId: '0', replyChainMessageId: null },
    participants: {
      organizer: {
        upn: organizer.userPrincipalName,
        role: 'presenter',
        identity: {
          user: { id: organizer.id, displayName: null, tenantId: state.tenantId, identityProvider: 'AAD' },
        },
      },
      attendees: m.attendees,
    },
  };
}

/** The control API's flat view of a meeting (what tests assert on). */
export function meetingView(m: MeetingRecord): EmulatorMeetingView {
  return {
    id: m.id,
    organizerId: m.organizerId,
    externalId: m.externalId,
    subject: m.subject,
    startDateTime: graphTime(m.start),
    endDateTime: graphTime(m.end),
    creationDateTime: graphTime(m.created),
    joinWebUrl: m.joinWebUrl,
    lobbyBypassScope: m.lobbyBypassSettings.scope,
    allowedPresenters: m.allowedPresenters,
    lobbyLocked: isLocked(m),
    createdBy: m.createdBy,
    patchCount: m.patchCount,
    deleted: m.deleted,
    deletedDateTime: m.deletedAt === null ? null : graphTime(m.deletedAt),
  };
}

function isLocked(m: MeetingRecord): boolean {
  return m.lobbyBypassSettings.scope === 'organizer' && m.allowedPresenters === 'organizer';
}

/** What a join link opens: a deleted meeting keeps the lobby and presenters it had when deleted. */
export function joinableView(m: MeetingRecord): EmulatorJoinableView {
  return {
    meetingId: m.id,
    organizerId: m.organizerId,
    subject: m.subject,
    deleted: m.deleted,
    deletedDateTime: m.deletedAt === null ? null : graphTime(m.deletedAt),
    lobbyBypassScope: m.lobbyBypassSettings.scope,
    allowedPresenters: m.allowedPresenters,
    lobbyLocked: isLocked(m),
    admitsAnyone: m.lobbyBypassSettings.scope !== 'organizer',
  };
}

/** Live meetings beyond one per (organizer, subject, start, end): what a sync must never create. */
export function duplicates(meetings: MeetingRecord[]): number {
  const groups = new Map<string, number>();
  for (const m of meetings) {
    if (m.deleted) continue;
    const key = `${m.organizerId}|${m.subject}|${m.start}|${m.end}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  let extra = 0;
  for (const n of groups.values()) extra += n - 1;
  return extra;
}
