// A local Microsoft Graph + Entra token endpoint emulator for tests, demos and the `emulator` CLI.
// Serves https on 127.0.0.1 with a certificate generated at start, so the real MSAL + Graph SDK path
// (which only sends tokens to https hosts) is exercised end to end. This file holds the server and
// the dispatch; the surfaces live in entra.ts, graph.ts (users.ts, meetings.ts) and control.ts.
//
// /_emulator/* (JSON control API) has no authentication: it is protected only by the loopback
// binding. Anyone who can connect to 127.0.0.1 on this machine can drive it — run it on dev/CI
// machines only.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { createControl, handleControl } from './control.js';
import { handleToken } from './entra.js';
import { instanceDiscovery, jwks, openIdConfiguration, type MetadataAnswer } from './entraTenant.js';
import { handleGraph, routeTemplate } from './graph.js';
import { sendJson } from './http.js';
import { emulatorErrorBody, graphErrorBody, HttpError, type RequestIds } from './httpErrors.js';
import { createState, recordRequest, type EmulatorState } from './state.js';
import type { EmulatorConnection, EmulatorControl, EmulatorHandle, EmulatorOptions } from './types.js';

/** The TLS certificate (also a CA the clients trust), valid for a week from start. */
function generateTlsCertificate() {
  return generate([{ name: 'commonName', value: 'timetable-sync graph emulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
}

interface Routed {
  /** What the request is counted under in requestCounts().byRoute. */
  route: string;
  graph: boolean;
  answer(): number | 'reset' | Promise<number | 'reset'>;
}

/** Picks the surface for a request; every path not listed answers 404. */
function dispatch(
  state: EmulatorState,
  control: EmulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  segments: string[],
  ids: RequestIds,
): Routed {
  const method = req.method ?? 'GET';
  const json =
    (body: unknown, status = 200) =>
    () => {
      sendJson(res, status, body);
      return status;
    };
  const metadata = (answer: MetadataAnswer) => json(answer.body, answer.status);
  const [first = '', second, third, fourth] = segments;
  if (first === 'v1.0') {
    const rest = segments.slice(1);
    return {
      route: routeTemplate(method, rest),
      graph: true,
      answer: () => handleGraph(state, req, res, rest, url.searchParams, ids),
    };
  }
  if (first === '_emulator') {
    const rest = segments.slice(1);
    return {
      route: `${method} /_emulator/${rest.join('/')}`,
      graph: false,
      answer: () => handleControl(state, control, req, res, rest, url.searchParams),
    };
  }
  if (
    segments.length === 4 &&
    second === 'oauth2' &&
    third === 'v2.0' &&
    fourth === 'token' &&
    method === 'POST'
  ) {
    return {
      route: 'POST /{tenant}/oauth2/v2.0/token',
      graph: false,
      answer: () => handleToken(state, req, res, first, ids.requestId),
    };
  }
  if (
    method === 'GET' &&
    segments.length === 4 &&
    second === 'v2.0' &&
    third === '.well-known' &&
    fourth === 'openid-configuration'
  ) {
    return {
      route: 'GET /{tenant}/v2.0/.well-known/openid-configuration',
      graph: false,
      answer: () => metadata(openIdConfiguration(state, first))(),
    };
  }
  if (method === 'GET' && segments.length === 4 && second === 'discovery' && fourth === 'keys') {
    return {
      route: 'GET /{tenant}/discovery/v2.0/keys',
      graph: false,
      answer: () => metadata(jwks(state, first))(),
    };
  }
  if (method === 'GET' && first === 'common' && second === 'discovery' && third === 'instance') {
    return { route: 'GET /common/discovery/instance', graph: false, answer: json(instanceDiscovery(state)) };
  }
  return {
    route: `${method} ${url.pathname}`,
    graph: false,
    answer: () => {
      sendJson(res, 404, emulatorErrorBody('NotFound', `no emulator route ${method} ${url.pathname}`));
      return 404;
    },
  };
}

export async function startGraphEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const tls = await generateTlsCertificate();
  const state = createState(options, tls.cert);
  const control = createControl(state);

  const server: Server = createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    const ids: RequestIds = {
      requestId: randomUUID(),
      clientRequestId: (req.headers['client-request-id'] as string | undefined) ?? randomUUID(),
    };
    res.setHeader('request-id', ids.requestId);
    const url = new URL(req.url ?? '/', state.url);
    const rawSegments = url.pathname.split('/').filter(Boolean);
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      segments = rawSegments;
    }
    let route = `${req.method ?? 'GET'} ${url.pathname}`;
    let graph = false;
    let status: number | 'reset' = 500;
    void (async () => {
      try {
        const routed = dispatch(state, control, req, res, url, segments, ids);
        ({ route, graph } = routed);
        status = await routed.answer();
      } catch (e) {
        if (!res.headersSent) {
          const known =
            e instanceof HttpError ? e : new HttpError(500, 'UnknownError', 'Internal emulator error.');
          sendJson(res, known.status, graphErrorBody(known.code, known.message, ids, state.now()));
          status = known.status;
        }
        // A client that went away mid-request (killed, timed out) is not an emulator fault: no noise.
        const clientAborted =
          req.destroyed &&
          e instanceof Error &&
          (e.message === 'aborted' || (e as NodeJS.ErrnoException).code === 'ECONNRESET');
        if (!(e instanceof HttpError) && !clientAborted) console.error('graph emulator: internal error', e);
      } finally {
        recordRequest(state, route, status, graph);
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { url, tenantId, tenantDomain, defaultApp } = state;
  const secret = defaultApp.secret ?? '';
  return {
    url,
    graphBaseUrl: url,
    authorityHost: url,
    tenantId,
    tenantDomain,
    clientId: defaultApp.clientId,
    clientSecret: secret,
    caCertPem: tls.cert,
    settings: <T extends object>(overrides?: T) => {
      const connection: EmulatorConnection = {
        tenantId,
        clientId: defaultApp.clientId,
        credential: { kind: 'secret', secret },
        authorityHost: url,
        graphBaseUrl: url,
        caCertPem: tls.cert,
      };
      return Object.assign(connection, overrides) as Omit<EmulatorConnection, keyof T> & T;
    },
    control,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
