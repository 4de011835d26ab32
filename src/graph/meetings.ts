// onlineMeetings on an organizer's behalf (application permission OnlineMeetings.ReadWrite.All plus
// a Teams application access policy granted to the organizer).
// https://learn.microsoft.com/graph/api/application-post-onlinemeetings
import type { Client } from '@microsoft/microsoft-graph-client';
import type { MeetingOptions } from './client.js';
import { GraphError, isGraphError } from './errors.js';
import { sendGraph, seg } from './request.js';
import type { MeetingInput, MeetingUpdate, MeetingsGateway, OnlineMeeting } from './types.js';

interface GraphOnlineMeeting {
  id: string;
  joinWebUrl: string;
  subject: string | null;
  startDateTime: string;
  endDateTime: string;
  externalId?: string | null;
  lobbyBypassSettings?: { scope?: string | null } | null;
  allowedPresenters?: string | null;
}

function toMeeting(m: GraphOnlineMeeting): OnlineMeeting {
  return {
    id: m.id,
    joinWebUrl: m.joinWebUrl,
    subject: m.subject ?? '',
    startDateTime: m.startDateTime,
    endDateTime: m.endDateTime,
    externalId: m.externalId ?? null,
    lobbyBypassScope: m.lobbyBypassSettings?.scope ?? null,
    allowedPresenters: m.allowedPresenters ?? null,
  };
}

/** The meeting a call must answer with; a 2xx without one is a transient failure (retried next run). */
function meetingBody(
  response: { body: GraphOnlineMeeting | null; status: number; requestId: string | null },
  call: string,
): GraphOnlineMeeting {
  if (response.body) return response.body;
  throw new GraphError({
    kind: 'transient',
    message: `${call} returned no body`,
    status: response.status,
    requestId: response.requestId,
  });
}

function meetingsPath(organizerId: string): string {
  return `/users/${seg(organizerId)}/onlineMeetings`;
}

/** The PATCH body: start and end always together (Graph rejects one without the other). */
export function toMeetingPatch(update: MeetingUpdate, options: MeetingOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    subject: update.subject,
    startDateTime: update.startDateTime,
    endDateTime: update.endDateTime,
  };
  if (update.lockLobby) {
    // `lock` cancel mode: only the organizer skips the lobby and presents, so a cancelled session's
    // link no longer opens a usable meeting. https://learn.microsoft.com/graph/api/resources/lobbybypasssettings
    body.lobbyBypassSettings = { scope: 'organizer', isDialInBypassEnabled: false };
    body.allowedPresenters = 'organizer';
  } else {
    if (options.lobbyBypass) body.lobbyBypassSettings = { scope: options.lobbyBypass };
    if (options.allowedPresenters) body.allowedPresenters = options.allowedPresenters;
  }
  return body;
}

export function createMeetingsGateway(client: Client, options: MeetingOptions): MeetingsGateway {
  return {
    // createOrGet is the only create path: the SDK's RetryHandler retries POST on 503/504, and a lost
    // response must not leave a second meeting. https://learn.microsoft.com/graph/api/onlinemeeting-createorget
    async createOrGet(organizerId: string, input: MeetingInput) {
      const body = {
        externalId: input.externalId,
        subject: input.subject,
        startDateTime: input.startDateTime,
        endDateTime: input.endDateTime,
      };
      const response = await sendGraph<GraphOnlineMeeting>(
        client,
        'POST',
        `${meetingsPath(organizerId)}/createOrGet`,
        body,
      );
      return { ...toMeeting(meetingBody(response, 'createOrGet')), created: response.status === 201 };
    },

    async get(organizerId, meetingId) {
      try {
        const { body } = await sendGraph<GraphOnlineMeeting>(
          client,
          'GET',
          `${meetingsPath(organizerId)}/${seg(meetingId)}`,
        );
        return body ? toMeeting(body) : null;
      } catch (e) {
        if (isGraphError(e) && e.kind === 'notFound') return null;
        throw e;
      }
    },

    async update(organizerId, meetingId, update) {
      const path = `${meetingsPath(organizerId)}/${seg(meetingId)}`;
      const { body } = await sendGraph<GraphOnlineMeeting>(
        client,
        'PATCH',
        path,
        toMeetingPatch(update, options),
      );
      if (body) return toMeeting(body);
      // PATCH is documented as 200 with the meeting, but Graph PATCH endpoints also answer 204 without
      // a body: the change is applied, so read the meeting back (a 404 here is the sync's notFound).
      const read = await sendGraph<GraphOnlineMeeting>(client, 'GET', path);
      return toMeeting(meetingBody(read, 'GET onlineMeeting after its PATCH'));
    },

    carriesOptions(meeting) {
      return (
        (!options.lobbyBypass || meeting.lobbyBypassScope === options.lobbyBypass) &&
        (!options.allowedPresenters || meeting.allowedPresenters === options.allowedPresenters)
      );
    },

    async delete(organizerId, meetingId) {
      try {
        await sendGraph<never>(client, 'DELETE', `${meetingsPath(organizerId)}/${seg(meetingId)}`);
        return true;
      } catch (e) {
        if (isGraphError(e) && e.kind === 'notFound') return false;
        throw e;
      }
    },
  };
}
