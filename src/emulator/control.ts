// The control surface tests and the `emulator` CLI drive: the library object (`handle.control`) and
// the same operations as JSON over /_emulator/*, whose bodies are validated (400 naming the field).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import * as bodies from './controlSchemas.js';
import { appView, registerApp } from './apps.js';
import { holdEndedMeetings, holdMeeting, reportView } from './attendance.js';
import { mintManagedIdentityAssertion } from './entra.js';
import { parseJsonObject, readBody, sendJson } from './http.js';
import { emulatorErrorBody } from './httpErrors.js';
import { duplicates, joinableView, meetingView } from './meetingRecords.js';
import { behaviourView, createdPerMonthView, setBehaviour } from './meetingRules.js';
import { PolicyError } from './policies.js';
import { emptyCounts, type EmulatorState } from './state.js';
import type { EmulatorControl } from './types.js';
import { changeUser, seedUsers } from './users.js';

export function createControl(state: EmulatorState): EmulatorControl {
  const { policies } = state;
  return {
    seedUsers: (seeds) => seedUsers(state.users, seeds),
    users: () => [...state.users.values()].map((u) => ({ ...u })),
    setUser: (userId, change) => changeUser(state.users, userId, change),
    registerApp: (reg) => registerApp(state.apps, reg),
    apps: () => [...state.apps.values()].map(appView),
    setAppRoles: (clientId, roles) => {
      const app = state.apps.get(clientId.toLowerCase());
      if (!app) throw new Error(`no app ${clientId}`);
      app.roles = [...roles];
      return appView(app);
    },
    newPolicy: (name, appIds, description, opts) =>
      policies.newPolicy(name, appIds, description, opts?.delayMs),
    setPolicy: (name, change, opts) => policies.setPolicy(name, change, opts?.delayMs),
    removePolicy: (name) => policies.removePolicy(name),
    grantPolicy: (name, target, opts) => policies.grant(name, target, opts?.delayMs),
    allowDefaultAppGlobally: () => {
      const name = 'emulator-default-allow';
      if (!policies.list().policies.some((p) => p.name === name))
        policies.newPolicy(name, [state.defaultApp.clientId], 'test shortcut', 0);
      policies.grant(name, 'global', 0);
    },
    policies: () => policies.list(),
    setPropagationDelay: (ms) => {
      policies.delayMs = ms;
    },
    setPolicyErrorStyle: (style) => {
      state.policyErrorStyle = style;
    },
    setBehaviour: (change) => setBehaviour(state, change),
    behaviour: () => behaviourView(state),
    setThrottle: (s) => state.throttle.configure(s),
    setFaults: (s) => state.faults.configure(s),
    advanceTime: (ms) => {
      state.clockOffsetMs += ms;
    },
    now: () => state.now(),
    mintManagedIdentityAssertion: (clientId) => mintManagedIdentityAssertion(state, clientId),
    meetings: (opts) =>
      state.meetings.filter((m) => opts?.includeDeleted === true || !m.deleted).map(meetingView),
    joinable: (joinWebUrl) => {
      const m = state.meetings.find((x) => x.joinWebUrl === joinWebUrl);
      return m ? joinableView(m) : null;
    },
    join: (joinWebUrl) => {
      const m = state.meetings.find((x) => x.joinWebUrl === joinWebUrl);
      if (!m) return null;
      if (m.deleted) m.joinedAfterDelete = true;
      return joinableView(m);
    },
    holdMeeting: (meetingId, options) => {
      const meeting = state.meetings.find((m) => m.id === meetingId);
      if (!meeting) throw new Error(`no meeting ${meetingId}`);
      return holdMeeting(state, meeting, options);
    },
    holdEndedMeetings: (options) => holdEndedMeetings(state, options),
    attendanceReports: (meetingId) =>
      state.heldMeetings
        .filter((h) => meetingId === undefined || h.meetingId === meetingId)
        .sort((a, b) => b.end - a.end)
        .map(reportView),
    setAttendance: (change) => {
      Object.assign(state.attendance, change);
      return { ...state.attendance };
    },
    meetingsCreatedPerMonth: () => createdPerMonthView(state),
    requestCounts: () => structuredClone(state.counts),
    duplicates: () => duplicates(state.meetings),
    reset: (opts) => {
      state.meetings = [];
      state.heldMeetings = [];
      state.createdPerMonth.clear();
      state.counts = emptyCounts();
      state.throttle.configure(null);
      state.faults.configure(null);
      if (opts?.everything) {
        state.users.clear();
        policies.clear();
        for (const id of state.apps.keys()) if (id !== state.defaultApp.clientId) state.apps.delete(id);
      }
    },
  };
}

/** A refused control request: answered as {error: {code, message, details?}} with `status`. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: bodies.FieldProblem[],
  ) {
    super(message);
  }
}

/** Answers /_emulator/*; `segments` are the path after /_emulator. Returns the status sent. */
export async function handleControl(
  state: EmulatorState,
  control: EmulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  query: URLSearchParams,
): Promise<number> {
  const method = req.method ?? 'GET';
  const path = segments.join('/');
  const raw = method === 'GET' || method === 'DELETE' ? {} : parseJsonObject(await readBody(req));
  const body = <T>(schema: z.ZodType<T>): T => {
    const parsed = schema.safeParse(raw);
    // The schemas only check (no defaults, no transforms): hand back the body as sent, so settings
    // echo in the caller's key order as before.
    if (parsed.success) return raw as T;
    const problems = bodies.fieldProblems(parsed.error);
    const message = `invalid body for ${method} /_emulator/${path}: ${problems.map((p) => `${p.target}: ${p.message}`).join('; ')}`;
    throw new ControlError(400, 'BadRequest', message, problems);
  };
  const ok = (status: number, value: unknown) => {
    sendJson(res, status, value);
    return status;
  };
  try {
    // A policy may be called "grant": only POST policies/grant is the grant route.
    const isPolicyPath =
      segments[0] === 'policies' &&
      segments.length === 2 &&
      !(method === 'POST' && path === 'policies/grant');
    const isUserPath = segments[0] === 'users' && segments.length === 2;
    const policyName = () => decodeURIComponent(segments[1] ?? '');
    const template = isPolicyPath ? 'policies/{name}' : isUserPath ? 'users/{id}' : path;
    switch (`${method} ${template}`) {
      case 'GET ': {
        const { url, tenantId, defaultApp, caCertPem } = state;
        return ok(200, {
          url,
          graphBaseUrl: url,
          authorityHost: url,
          tenantId,
          clientId: defaultApp.clientId,
          clientSecret: defaultApp.secret ?? '',
          caCertPem,
          now: new Date(state.now()).toISOString(),
          tenantDomain: state.tenantDomain,
          cloud: state.cloud,
          lastTokenScope: state.lastTokenScope,
        });
      }
      case 'GET meetings':
        return ok(200, {
          value: control.meetings({ includeDeleted: query.get('includeDeleted') === 'true' }),
          duplicates: control.duplicates(),
          createdPerMonth: control.meetingsCreatedPerMonth(),
        });
      case 'POST join': {
        const found = control.join(body(bodies.joinBody).joinWebUrl);
        if (!found) return ok(404, emulatorErrorBody('NotFound', 'the emulator never issued this join link'));
        return ok(200, found);
      }
      case 'GET joinable': {
        const found = control.joinable(query.get('joinWebUrl') ?? '');
        if (!found) return ok(404, emulatorErrorBody('NotFound', 'the emulator never issued this join link'));
        return ok(200, found);
      }
      case 'GET requests':
        return ok(200, control.requestCounts());
      case 'GET duplicates':
        return ok(200, { duplicates: control.duplicates() });
      case 'POST reset':
        control.reset({ everything: body(bodies.resetBody).everything === true });
        return ok(200, { reset: true });
      case 'GET users':
        return ok(200, { value: control.users() });
      case 'POST users':
        return ok(201, { value: control.seedUsers(body(bodies.seedUsersBody).users) });
      case 'PATCH users/{id}': {
        const change = body(bodies.userChangeBody);
        const id = decodeURIComponent(segments[1] ?? '');
        if (!state.users.has(id.toLowerCase()))
          return ok(404, emulatorErrorBody('NotFound', `no seeded user ${id}`));
        return ok(200, control.setUser(id, change));
      }
      case 'GET apps':
        return ok(200, { value: control.apps() });
      case 'POST apps':
        return ok(201, control.registerApp(body(bodies.registerAppBody)));
      case 'GET policies':
        return ok(200, control.policies());
      case 'POST policies': {
        const b = body(bodies.newPolicyBody);
        return ok(
          201,
          control.newPolicy(b.name ?? b.identity ?? '', b.appIds ?? [], b.description ?? '', {
            delayMs: b.delayMs,
          }),
        );
      }
      case 'POST policies/grant': {
        const b = body(bodies.grantPolicyBody);
        const target = b.global === true ? 'global' : { userId: b.userId ?? b.identity ?? '' };
        return ok(200, control.grantPolicy(b.policyName, target, { delayMs: b.delayMs }));
      }
      case 'PATCH policies/{name}': {
        const { delayMs, ...change } = body(bodies.setPolicyBody);
        return ok(200, control.setPolicy(policyName(), change, { delayMs }));
      }
      case 'DELETE policies/{name}':
        control.removePolicy(policyName());
        return ok(204, undefined);
      case 'GET settings':
        return ok(200, control.behaviour());
      case 'PUT settings':
        return ok(200, control.setBehaviour(body(bodies.settingsBody)));
      case 'PUT throttle':
        control.setThrottle(body(bodies.throttleBody));
        return ok(200, state.throttle.current());
      case 'PUT faults':
        control.setFaults(body(bodies.faultsBody));
        return ok(200, state.faults.current());
      case 'POST hold': {
        const b = body(bodies.holdBody);
        const meeting = state.meetings.find((m) => m.id === b.meetingId);
        if (!meeting) return ok(404, emulatorErrorBody('NotFound', `no meeting ${b.meetingId}`));
        const start = b.start ? Date.parse(b.start) : meeting.start;
        if ((b.end ? Date.parse(b.end) : meeting.end) <= start)
          throw new ControlError(400, 'BadRequest', 'end must be after start');
        const report = control.holdMeeting(b.meetingId, {
          ...(b.start ? { start: Date.parse(b.start) } : {}),
          ...(b.end ? { end: Date.parse(b.end) } : {}),
          ...(b.attendees !== undefined ? { attendees: b.attendees } : {}),
          ...(b.seed !== undefined ? { seed: b.seed } : {}),
        });
        return ok(200, { report });
      }
      case 'POST hold-ended':
        return ok(200, { held: control.holdEndedMeetings(body(bodies.holdEndedBody)) });
      case 'GET attendance':
        return ok(200, {
          settings: control.setAttendance({}),
          reports: control.attendanceReports(query.get('meetingId') ?? undefined),
        });
      case 'PUT attendance':
        return ok(200, control.setAttendance(body(bodies.attendanceBody)));
      case 'POST clock':
        control.advanceTime(body(bodies.clockBody).advanceMs);
        return ok(200, { now: new Date(state.now()).toISOString() });
      default:
        return ok(
          404,
          emulatorErrorBody('NotFound', `no emulator control route ${method} /_emulator/${path}`),
        );
    }
  } catch (e) {
    if (e instanceof ControlError) return ok(e.status, emulatorErrorBody(e.code, e.message, e.details));
    if (e instanceof PolicyError) return ok(400, emulatorErrorBody('PolicyError', e.message));
    throw e;
  }
}
