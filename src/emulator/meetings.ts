// /v1.0/users/{id}/onlineMeetings: createOrGet, POST, GET (by id or $filter=JoinWebUrl), PATCH and
// DELETE, with Graph's validation and the Teams application access policy check.
// https://learn.microsoft.com/graph/api/resources/onlinemeeting
import type { IncomingMessage } from 'node:http';
import { MEETING_READ_ROLES, MEETING_WRITE_ROLES, requireRole, type TokenClaims } from './graphAuth.js';
import { odataString, parseJsonObject, readBody, str, type GraphResult } from './http.js';
import { badRequest, HttpError, methodNotAllowed } from './httpErrors.js';
import { meetingPayload, newMeeting, type MeetingFields } from './meetingRecords.js';
import type { EmulatorState, MeetingRecord } from './state.js';
import type { EmulatorUser } from './types.js';
import {
  checkMonthlyLimit,
  checkOrganizer,
  countCreation,
  LOBBY_SCOPES,
  PRESENTERS,
} from './meetingRules.js';
import { findOrganizer } from './users.js';

// ISO 8601 date-time with a zone (Z or ±hh:mm); Graph's dateTime properties are UTC.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
// Properties of microsoft.graph.onlineMeeting: a create body may carry any of them (createOrGet and
// POST ignore all but subject, times, participants, externalId and chatInfo); any other name is
// OData's 400. https://learn.microsoft.com/graph/api/resources/onlinemeeting
const MEETING_PROPERTIES = new Set([
  'allowAttendeeToEnableCamera',
  'allowAttendeeToEnableMic',
  'allowBreakoutRooms',
  'allowCopyingAndSharingMeetingContent',
  'allowedLobbyAdmitters',
  'allowedPresenters',
  'allowLiveShare',
  'allowMeetingChat',
  'allowParticipantsToChangeName',
  'allowPowerPointSharing',
  'allowRecording',
  'allowTeamworkReactions',
  'allowTranscription',
  'allowWhiteboard',
  'audioConferencing',
  'broadcastSettings',
  'chatInfo',
  'chatRestrictions',
  'creationDateTime',
  'endDateTime',
  'externalId',
  'id',
  'isBroadcast',
  'isEndToEndEncryptionEnabled',
  'isEntryExitAnnounced',
  'joinInformation',
  'joinMeetingIdSettings',
  'joinWebUrl',
  'lobbyBypassSettings',
  'meetingTemplateId',
  'participants',
  'recordAutomatically',
  'shareMeetingChatHistoryDefault',
  'startDateTime',
  'subject',
  'videoTeleconferenceId',
  'watermarkProtection',
  '@odata.type',
]);
const PATCH_FIELDS = new Set([
  'subject',
  'startDateTime',
  'endDateTime',
  'participants',
  'lobbyBypassSettings',
  'allowedPresenters',
  'isEntryExitAnnounced',
  'allowMeetingChat',
  'allowTeamworkReactions',
  'recordAutomatically',
  'allowAttendeeToEnableCamera',
  'allowAttendeeToEnableMic',
]);

type Body = Record<string, unknown>;

function parseInstant(value: unknown, name: string): number {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw badRequest(
      `Invalid value '${String(value)}' for property '${name}': expected an ISO 8601 date-time with a time zone (UTC 'Z').`,
    );
  }
  return Date.parse(value);
}

// Only an end earlier than the start is refused: equal times are accepted.
const endBeforeStart = () =>
  badRequest('The meeting endDateTime must be later than or equal to its startDateTime.');
const invalidSubject = () => badRequest("Invalid value for property 'subject'.");

/** A property outside the onlineMeeting type is refused (the others a create ignores). */
function refuseUnknownProperties(body: Body): void {
  const unknown = Object.keys(body).find((k) => !MEETING_PROPERTIES.has(k));
  if (unknown !== undefined)
    throw badRequest(
      `The property '${unknown}' does not exist on type 'microsoft.graph.onlineMeeting'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    );
}

/** A new meeting's fields: start defaults to now, end to an hour later; options are not read. */
function creationFields(state: EmulatorState, body: Body): MeetingFields {
  const start =
    body.startDateTime === undefined ? state.now() : parseInstant(body.startDateTime, 'startDateTime');
  const end =
    body.endDateTime === undefined ? start + 3600_000 : parseInstant(body.endDateTime, 'endDateTime');
  if (end < start) throw endBeforeStart();
  if (body.subject !== undefined && typeof body.subject !== 'string') throw invalidSubject();
  const participants = body.participants as { attendees?: unknown[] } | undefined;
  return {
    subject: typeof body.subject === 'string' ? body.subject : '',
    start,
    end,
    attendees: Array.isArray(participants?.attendees) ? participants.attendees : [],
  };
}

function create(
  state: EmulatorState,
  organizer: EmulatorUser,
  body: Body,
  externalId: string | null,
  createdBy: MeetingRecord['createdBy'],
): GraphResult {
  refuseUnknownProperties(body);
  const fields = creationFields(state, body);
  checkMonthlyLimit(state, organizer.id);
  const m = newMeeting(state, organizer, fields, externalId, createdBy);
  state.meetings.push(m);
  countCreation(state, organizer.id, m.created);
  return { status: 201, write: true, body: meetingPayload(state, m, organizer) };
}

/** 403 when no effective application access policy lets the app act for the organizer. */
export function checkPolicy(
  state: EmulatorState,
  method: string,
  appId: string,
  organizer: EmulatorUser,
): void {
  if (state.policies.isAllowed(appId, organizer.id)) return;
  // https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
  const verb = { GET: 'Get', POST: 'Create', PATCH: 'Update', DELETE: 'Delete' }[method] ?? 'Access';
  if (state.policyErrorStyle === 'legacy')
    throw new HttpError(
      403,
      'Unauthorized',
      `App ${appId} is not authorized to ${verb} meeting on behalf of user ${organizer.id}`,
    );
  throw new HttpError(403, 'Forbidden', 'No application access policy found for this app.');
}

/** Handles /v1.0/users/{id}/onlineMeetings[/…]; `rest` is the path after onlineMeetings. */
export async function handleMeetings(
  state: EmulatorState,
  req: IncomingMessage,
  token: TokenClaims,
  organizerKey: string,
  rest: string[],
  query: URLSearchParams,
): Promise<GraphResult> {
  const method = req.method ?? 'GET';
  requireRole(token, method === 'GET' ? MEETING_READ_ROLES : MEETING_WRITE_ROLES);
  const organizer = findOrganizer(state, organizerKey);
  checkPolicy(state, method, token.appid, organizer);
  checkOrganizer(organizer);
  const body = method === 'POST' || method === 'PATCH' ? parseJsonObject(await readBody(req)) : {};
  const mine = (m: MeetingRecord) => !m.deleted && m.organizerId === organizer.id;

  if (rest.length === 0) {
    if (method === 'GET') {
      // No list API: only $filter=JoinWebUrl eq '...'. https://learn.microsoft.com/graph/api/onlinemeeting-get
      const m = /^\s*joinWebUrl\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(query.get('$filter') ?? '');
      if (!m)
        throw badRequest("Filter expression expected - /onlineMeetings?$filter=JoinWebUrl eq 'joinUrl'.");
      const joinUrl = odataString(m[1] ?? '');
      const found = state.meetings.filter((x) => mine(x) && x.joinWebUrl === joinUrl);
      return {
        status: 200,
        write: false,
        body: {
          '@odata.context': `${state.url}/v1.0/$metadata#users('${organizer.id}')/onlineMeetings`,
          value: found.map((x) => meetingPayload(state, x, organizer)),
        },
      };
    }
    if (method === 'POST') {
      // Plain create has no idempotency key; Graph rejects externalId here (createOrGet only).
      if (body.externalId !== undefined)
        throw badRequest("The property 'externalId' is only supported on /onlineMeetings/createOrGet.");
      return create(state, organizer, body, null, 'post');
    }
    throw methodNotAllowed();
  }

  if (rest.length === 1 && rest[0] === 'createOrGet') {
    if (method !== 'POST') throw methodNotAllowed();
    // https://learn.microsoft.com/graph/api/onlinemeeting-createorget: lobbyBypassSettings,
    // allowedPresenters and the other options are accepted and ignored (msgraph-sdk-dotnet#1121).
    refuseUnknownProperties(body);
    const externalId = body.externalId;
    if (typeof externalId !== 'string' || !externalId)
      throw badRequest('externalId is required for createOrGet.');
    const existing = state.meetings.find((x) => mine(x) && x.externalId === externalId);
    // Existing meeting: returned unchanged (createOrGet never updates, whatever the body says).
    if (existing) return { status: 200, write: false, body: meetingPayload(state, existing, organizer) };
    return create(state, organizer, body, externalId, 'createOrGet');
  }

  if (rest.length === 1) {
    const id = rest[0] ?? '';
    // A deleted meeting someone joined since comes back for GET (microsoft-graph-docs#17590).
    const revived = (x: MeetingRecord) =>
      method === 'GET' && x.deleted && x.joinedAfterDelete && x.organizerId === organizer.id;
    const m = state.meetings.find((x) => (mine(x) || revived(x)) && x.id === id);
    if (!m) throw new HttpError(404, 'NotFound', `The online meeting '${id}' was not found.`);
    if (method === 'GET') return { status: 200, write: false, body: meetingPayload(state, m, organizer) };
    if (method === 'DELETE') {
      // Gone from Graph, but its link still opens the meeting as it was (microsoft-graph-docs#7802).
      m.deleted = true;
      m.deletedAt = state.now();
      return { status: 204, write: true };
    }
    if (method === 'PATCH') {
      applyPatch(m, body);
      // Documented as 200 with the meeting; other Graph PATCH endpoints answer 204 (optional mode).
      if (state.patchNoContent) return { status: 204, write: true };
      return { status: 200, write: true, body: meetingPayload(state, m, organizer) };
    }
    throw methodNotAllowed();
  }
  throw badRequest('Unsupported segment.');
}

/**
 * PATCH: validates everything before changing anything.
 * https://learn.microsoft.com/graph/api/onlinemeeting-update — start and end go together;
 * joinMeetingIdSettings cannot change after creation.
 */
function applyPatch(m: MeetingRecord, body: Body): void {
  if (body.joinMeetingIdSettings !== undefined)
    throw badRequest('joinMeetingIdSettings cannot be updated after the meeting is created.');
  const unknown = Object.keys(body).filter((k) => !PATCH_FIELDS.has(k));
  if (unknown.length) throw badRequest(`Property not supported for update: ${unknown.join(', ')}.`);
  const hasStart = body.startDateTime !== undefined;
  const hasEnd = body.endDateTime !== undefined;
  if (hasStart !== hasEnd) throw badRequest('startDateTime and endDateTime must be updated together.');
  let start = m.start;
  let end = m.end;
  if (hasStart && hasEnd) {
    start = parseInstant(body.startDateTime, 'startDateTime');
    end = parseInstant(body.endDateTime, 'endDateTime');
    if (end < start) throw endBeforeStart();
  }
  let lobby = m.lobbyBypassSettings;
  if (body.lobbyBypassSettings !== undefined) {
    const raw: unknown = body.lobbyBypassSettings;
    if (!raw || typeof raw !== 'object') throw badRequest('Invalid lobbyBypassSettings.');
    const l: { scope?: unknown; isDialInBypassEnabled?: unknown } = raw;
    if (l.scope !== undefined && !LOBBY_SCOPES.has(str(l.scope)))
      throw badRequest('Invalid lobbyBypassSettings.');
    lobby = {
      scope: typeof l.scope === 'string' ? l.scope : lobby.scope,
      isDialInBypassEnabled:
        typeof l.isDialInBypassEnabled === 'boolean' ? l.isDialInBypassEnabled : lobby.isDialInBypassEnabled,
    };
  }
  let presenters = m.allowedPresenters;
  if (body.allowedPresenters !== undefined) {
    if (!PRESENTERS.has(str(body.allowedPresenters)))
      throw badRequest("Invalid value for 'allowedPresenters'.");
    presenters = str(body.allowedPresenters);
  }
  if (body.subject !== undefined && typeof body.subject !== 'string') throw invalidSubject();
  m.start = start;
  m.end = end;
  m.lobbyBypassSettings = lobby;
  m.allowedPresenters = presenters;
  if (typeof body.subject === 'string') m.subject = body.subject;
  m.patchCount++;
}
