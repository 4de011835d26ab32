// The /v1.0 pipeline every Graph request goes through, in Graph's order: injected latency and
// faults, token check, throttling, the route, then (for writes) a possibly lost response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleAttendance } from './attendance.js';
import { authenticateGraph } from './graphAuth.js';
import { sendJson, sleep, type GraphResult } from './http.js';
import { badRequest, graphErrorBody, HttpError, type RequestIds } from './httpErrors.js';
import { handleMeetings } from './meetings.js';
import type { EmulatorState } from './state.js';
import { handleUsers } from './users.js';

const FAULT_CODES = {
  500: 'UnknownError',
  502: 'BadGateway',
  503: 'ServiceNotAvailable',
  504: 'GatewayTimeout',
} as const;

/** The route template a /v1.0 request is counted under (`segments` are the path after /v1.0). */
export function routeTemplate(method: string, segments: string[]): string {
  if (segments[0] !== 'users') return `${method} /v1.0/${segments.join('/')}`;
  if (segments.length === 1) return `${method} /v1.0/users?$filter`;
  if (segments.length === 2) return `${method} /v1.0/users/{id}`;
  if (segments[2] === 'onlineMeetings') {
    if (segments.length === 3) return `${method} /v1.0/users/{id}/onlineMeetings`;
    if (segments.length === 4 && segments[3] === 'createOrGet')
      return `${method} /v1.0/users/{id}/onlineMeetings/createOrGet`;
    if (segments[4] === 'attendanceReports') {
      if (segments.length === 5)
        return `${method} /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports`;
      if (segments.length === 6)
        return `${method} /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports/{reportId}`;
      return `${method} /v1.0/users/{id}/onlineMeetings/{meetingId}/attendanceReports/{reportId}/${segments.slice(6).join('/')}`;
    }
    return `${method} /v1.0/users/{id}/onlineMeetings/{meetingId}`;
  }
  return `${method} /v1.0/users/{id}/${segments.slice(2).join('/')}`;
}

async function route(
  state: EmulatorState,
  req: IncomingMessage,
  segments: string[],
  query: URLSearchParams,
): Promise<GraphResult> {
  const token = authenticateGraph(state, req);
  const organizerKey =
    segments[0] === 'users' && segments[2] === 'onlineMeetings' ? (segments[1] ?? null) : null;
  const retryAfter = state.throttle.check(token.appid, organizerKey);
  if (retryAfter !== null)
    throw new HttpError(
      429,
      'TooManyRequests',
      'Too many requests. Please retry after the time in the Retry-After header.',
      { 'retry-after': String(retryAfter) },
    );

  const users = handleUsers(state, req.method ?? 'GET', token, segments, query);
  if (users) return users;
  if (segments[0] === 'users' && segments[2] === 'onlineMeetings' && segments[4] === 'attendanceReports') {
    const [, organizerKey = '', , meetingId = ''] = segments;
    return handleAttendance(
      state,
      req.method ?? 'GET',
      token,
      organizerKey,
      meetingId,
      segments.slice(5),
      query,
    );
  }
  if (segments[0] === 'users' && segments[2] === 'onlineMeetings' && segments.length >= 3) {
    return handleMeetings(state, req, token, segments[1] ?? '', segments.slice(3), query);
  }
  throw badRequest(`Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`);
}

/** Answers one /v1.0 request; returns the status it answered, or 'reset' when the connection was cut. */
export async function handleGraph(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  query: URLSearchParams,
  ids: RequestIds,
): Promise<number | 'reset'> {
  const { faults } = state;
  const latency = faults.latencyMs();
  if (latency > 0) await sleep(latency);
  // Resets and 5xx are decided before any work is done, like a failing gateway.
  const before = faults.before();
  if (before.kind === 'reset') {
    req.socket.destroy();
    return 'reset';
  }
  const headers = { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
  let result: GraphResult;
  try {
    if (before.kind === 'error') {
      const retryAfter = faults.retryAfterSeconds();
      throw new HttpError(
        before.status,
        FAULT_CODES[before.status],
        'Injected fault.',
        retryAfter !== undefined && before.status >= 503 ? { 'retry-after': String(retryAfter) } : {},
      );
    }
    result = await route(state, req, segments, query);
    if (result.write) {
      // The write is committed; its response may still be lost (the client must not duplicate it).
      const lost = faults.afterCommit();
      if (lost !== null) state.counts.lostResponses++;
      if (lost === 'reset') {
        req.socket.destroy();
        return 'reset';
      }
      if (lost === '504')
        throw new HttpError(504, 'GatewayTimeout', 'The gateway did not receive a response in time.');
    }
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    sendJson(res, e.status, graphErrorBody(e.code, e.message, ids, state.now()), {
      ...headers,
      ...e.headers,
    });
    return e.status;
  }
  sendJson(res, result.status, result.body, headers);
  return result.status;
}
