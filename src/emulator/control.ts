// The control surface tests and the `emulator` CLI drive: the library object (`handle.control`) and
// the same operations as JSON over /_emulator/*, whose bodies are validated (400 naming the field).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import * as bodies from './controlSchemas.js';
import { appView, registerApp } from './apps.js';
import { mintManagedIdentityAssertion } from './entra.js';
import { parseJsonObject, readBody, sendJson } from './http.js';
import { emulatorErrorBody } from './httpErrors.js';
import { duplicates, meetingView } from './meetingRecords.js';
import { PolicyError } from './policies.js';
import { emptyCounts, type EmulatorState } from './state.js';
import type { EmulatorControl } from './types.js';
import { seedUsers } from './users.js';

export function createControl(state: EmulatorState): EmulatorControl {
  const { policies } = state;
  return {
    seedUsers: (seeds) => seedUsers(state.users, seeds),
    users: () => [...state.users.values()].map((u) => ({ ...u })),
    registerApp: (reg) => registerApp(state.apps, reg),
    apps: () => [...state.apps.values()].map(appView),
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
    setThrottle: (s) => state.throttle.configure(s),
    setFaults: (s) => state.faults.configure(s),
    advanceTime: (ms) => {
      state.clockOffsetMs += ms;
    },
    now: () => state.now(),
    mintManagedIdentityAssertion: (clientId) => mintManagedIdentityAssertion(state, clientId),
    meetings: () => state.meetings.filter((m) => !m.deleted).map(meetingView),
    requestCounts: () => structuredClone(state.counts),
    duplicates: () => duplicates(state.meetings),
    reset: (opts) => {
      state.meetings = [];
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
    const policyName = () => decodeURIComponent(segments[1] ?? '');
    switch (`${method} ${isPolicyPath ? 'policies/{name}' : path}`) {
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
        });
      }
      case 'GET meetings':
        return ok(200, { value: control.meetings(), duplicates: control.duplicates() });
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
      case 'PUT settings': {
        const b = body(bodies.settingsBody);
        if (b.propagationDelayMs !== undefined) control.setPropagationDelay(b.propagationDelayMs);
        if (b.policyErrorStyle !== undefined) control.setPolicyErrorStyle(b.policyErrorStyle);
        return ok(200, {
          propagationDelayMs: state.policies.delayMs,
          policyErrorStyle: state.policyErrorStyle,
        });
      }
      case 'PUT throttle':
        control.setThrottle(body(bodies.throttleBody));
        return ok(200, state.throttle.current());
      case 'PUT faults':
        control.setFaults(body(bodies.faultsBody));
        return ok(200, state.faults.current());
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
