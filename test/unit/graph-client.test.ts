// The Graph layer's own behaviour over a stub wire: the last middleware (instead of Node's fetch) and
// msal-node's network module (instead of the token endpoint) are fakes; MSAL, the SDK's middleware chain
// (AuthenticationHandler, RetryHandler, …), the pacer and the gateways are the real ones.
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import {
  createGraphAccess,
  retryDelaySeconds,
  type GraphSettings,
  type GraphTransport,
} from '../../src/graph/client.js';
import { GraphError, classifyHttpFailure } from '../../src/graph/errors.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const ORGANIZER = 'aaaaaaaa-0000-0000-0000-000000000001';

interface SentToken {
  url: string;
  body: URLSearchParams;
}

/** msal-node's network module answering the OIDC metadata and token requests of any authority. */
class StubTokenNetwork implements INetworkModule {
  readonly tokenRequests: SentToken[] = [];
  readonly gets: string[] = [];

  sendGetRequestAsync<T>(url: string): Promise<NetworkResponse<T>> {
    this.gets.push(url);
    const u = new URL(url);
    if (u.pathname.endsWith('/discovery/instance')) {
      const authority = u.searchParams.get('authorization_endpoint') ?? '';
      const host = new URL(authority).host;
      return reply({
        tenant_discovery_endpoint: `https://${host}/${TENANT}/v2.0/.well-known/openid-configuration`,
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    const origin = u.origin;
    return reply({
      token_endpoint: `${origin}/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `${origin}/${TENANT}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${origin}/${TENANT}/oauth2/v2.0/logout`,
      issuer: `${origin}/${TENANT}/v2.0`,
      jwks_uri: `${origin}/${TENANT}/discovery/v2.0/keys`,
    });
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    this.tokenRequests.push({
      url: url.replace(/\?.*$/, ''),
      body: new URLSearchParams(options?.body ?? ''),
    });
    return reply({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: 'stub-token',
    });
  }
}

function reply<T>(body: unknown, status = 200): Promise<NetworkResponse<T>> {
  return Promise.resolve({ headers: { 'content-type': 'application/json' }, body: body as T, status });
}

interface SentRequest {
  method: string;
  url: string;
  authorization: string | null;
  body: unknown;
}

type Answer = (request: SentRequest) => Response;

/** The wire: records each request the chain sends and answers it from a script (default: 200 {}). */
class StubWire implements Middleware {
  readonly sent: SentRequest[] = [];
  private readonly script: Answer[] = [];

  then(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  async execute(context: Context): Promise<void> {
    // The SDK's RequestInfo is the DOM type; at run time it is a URL string or a fetch Request.
    const request = context.request as unknown as string | Request;
    const init: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown } =
      context.options ?? {};
    const url = typeof request === 'string' ? request : request.url;
    const headers = new Headers(typeof request === 'string' ? init.headers : request.headers);
    const text = typeof init.body === 'string' ? init.body : null;
    const sent: SentRequest = {
      method: (init.method ?? (typeof request === 'string' ? 'GET' : request.method)).toUpperCase(),
      url,
      authorization: headers.get('authorization'),
      body: text ? (JSON.parse(text) as unknown) : null,
    };
    this.sent.push(sent);
    const answer = this.script.shift();
    context.response = answer ? answer(sent) : json(200, {});
    return Promise.resolve();
  }

  setNext(): void {}
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function meeting(start: string, end: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'MSo-meeting',
    joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/abc',
    subject: 'Lecture',
    startDateTime: start,
    endDateTime: end,
    externalId: 'ext-1',
    ...extra,
  };
}

function tooManyRequests(retryAfter: string): Answer {
  return () =>
    json(
      429,
      { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
      { 'retry-after': retryAfter },
    );
}

function fakeClock() {
  let t = 1_000_000;
  return {
    now: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function graphOver(settings: Partial<GraphSettings> = {}, transport: GraphTransport = {}) {
  const wire = new StubWire();
  const network = new StubTokenNetwork();
  const clock = fakeClock();
  const access = createGraphAccess(
    {
      tenantId: TENANT,
      clientId: '99999999-0000-0000-0000-000000000000',
      credential: { kind: 'secret', secret: 'stub-secret-value' },
      ...settings,
    },
    { httpHandler: wire, tokenNetwork: network, pacer: clock, ...transport },
  );
  return { access, wire, network, clock };
}

async function rejection(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected a GraphError');
}

describe('national clouds: token scope and hosts', () => {
  it.each([
    [undefined, 'https://login.microsoftonline.com', 'https://graph.microsoft.com'],
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com'],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'],
    ['usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
  ] as const)('cloud %s: token from %s with scope %s/.default', async (cloud, authority, graph) => {
    const { access, wire, network } = graphOver(cloud ? { cloud } : {});
    wire.then(() => json(200, { value: [] }));
    await access.users.resolveByEmail('ada@uni.example');
    expect(network.tokenRequests).toHaveLength(1);
    const [token] = network.tokenRequests;
    expect(token?.url).toBe(`${authority}/${TENANT}/oauth2/v2.0/token`);
    expect(token?.body.get('scope')).toBe(`${graph}/.default`);
    expect(token?.body.get('grant_type')).toBe('client_credentials');
    expect(network.gets.filter((url) => !url.startsWith(authority))).toEqual([]); // no other cloud asked
    expect(wire.sent[0]?.url.startsWith(`${graph}/v1.0/users`)).toBe(true);
    expect(wire.sent[0]?.authorization).toBe('Bearer stub-token');
  });

  it("explicit hosts win, and the token is still asked for the cloud's Graph", async () => {
    const { access, wire, network } = graphOver({
      cloud: 'usgov',
      authorityHost: 'https://127.0.0.1:8443/',
      graphBaseUrl: 'https://127.0.0.1:8443',
    });
    wire.then(() => json(200, { value: [] }));
    await access.users.resolveByEmail('ada@uni.example');
    expect(network.tokenRequests[0]?.url).toBe(`https://127.0.0.1:8443/${TENANT}/oauth2/v2.0/token`);
    expect(network.tokenRequests[0]?.body.get('scope')).toBe('https://graph.microsoft.us/.default');
    expect(wire.sent[0]?.url.startsWith('https://127.0.0.1:8443/v1.0/users')).toBe(true);
    expect(wire.sent[0]?.authorization).toBe('Bearer stub-token');
  });

  it('china is refused: no onlineMeetings writes there', () => {
    expect(() => graphOver({ cloud: 'china' })).toThrow(
      'GRAPH_CLOUD: the onlineMeetings create/update/delete APIs are not offered in the China (21Vianet) cloud',
    );
  });
});

describe('meetings over the stub wire', () => {
  const update = {
    subject: 'Lecture',
    startDateTime: '2026-09-14T08:15:00Z',
    endDateTime: '2026-09-14T10:00:00Z',
  };

  it('PATCH answered 200 with the meeting: no read-back', async () => {
    const { access, wire } = graphOver();
    wire.then(() => json(200, meeting(update.startDateTime, update.endDateTime)));
    const m = await access.meetings.update(ORGANIZER, 'MSo-meeting', update);
    expect(m).toMatchObject({ id: 'MSo-meeting', startDateTime: update.startDateTime });
    expect(wire.sent.map((r) => r.method)).toEqual(['PATCH']);
  });

  it('PATCH answered 204 without a body: the meeting is read back with GET', async () => {
    const { access, wire } = graphOver();
    wire.then(
      () => new Response(null, { status: 204 }),
      () =>
        json(
          200,
          meeting(update.startDateTime, update.endDateTime, {
            lobbyBypassSettings: { scope: 'organization' },
            allowedPresenters: 'organizer',
          }),
        ),
    );
    const m = await access.meetings.update(ORGANIZER, 'MSo-meeting', update);
    expect(m).toMatchObject({
      id: 'MSo-meeting',
      startDateTime: update.startDateTime,
      endDateTime: update.endDateTime,
      lobbyBypassScope: 'organization',
      allowedPresenters: 'organizer',
    });
    expect(wire.sent.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      `PATCH /v1.0/users/${ORGANIZER}/onlineMeetings/MSo-meeting`,
      `GET /v1.0/users/${ORGANIZER}/onlineMeetings/MSo-meeting`,
    ]);
  });

  it('PATCH 204 and then a 404 on the read-back is notFound (the sync handles a vanished meeting)', async () => {
    const { access, wire } = graphOver();
    wire.then(
      () => new Response(null, { status: 204 }),
      () => json(404, { error: { code: 'NotFound', message: 'not found' } }),
    );
    expect((await rejection(access.meetings.update(ORGANIZER, 'MSo-meeting', update))).kind).toBe('notFound');
  });

  it('end == start is sent as it is, on create and on update (Graph accepts it)', async () => {
    const { access, wire } = graphOver();
    const at = '2026-09-14T08:15:00Z';
    wire.then(
      () => json(201, meeting(at, at)),
      () => json(200, meeting(at, at)),
    );
    const created = await access.meetings.createOrGet(ORGANIZER, {
      externalId: 'ext-1',
      subject: 'Zero length',
      startDateTime: at,
      endDateTime: at,
    });
    expect(created).toMatchObject({ created: true, startDateTime: at, endDateTime: at });
    await access.meetings.update(ORGANIZER, created.id, {
      subject: 'Zero length',
      startDateTime: at,
      endDateTime: at,
    });
    expect(wire.sent.map((r) => r.body)).toEqual([
      expect.objectContaining({ startDateTime: at, endDateTime: at }),
      expect.objectContaining({ startDateTime: at, endDateTime: at }),
    ]);
  });
});

describe('access-policy denial with 401', () => {
  it('the legacy policy body is policyMissing with 401 as with 403; a token 401 stays unauthorized', async () => {
    const { access, wire } = graphOver();
    const legacy = {
      error: {
        code: 'Unauthorized',
        message:
          'App 99999999-0000-0000-0000-000000000000 is not authorized to Create meeting on behalf of user aaaaaaaa',
      },
    };
    wire.then(
      () => json(401, legacy),
      () => json(403, legacy),
      () =>
        json(401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired.' } }),
    );
    const input = {
      externalId: 'x',
      subject: 's',
      startDateTime: '2026-09-14T08:15:00Z',
      endDateTime: '2026-09-14T09:00:00Z',
    };
    expect(await rejection(access.meetings.createOrGet(ORGANIZER, input))).toMatchObject({
      kind: 'policyMissing',
      status: 401,
      graphCode: 'Unauthorized',
    });
    expect((await rejection(access.meetings.createOrGet(ORGANIZER, input))).kind).toBe('policyMissing');
    expect(await rejection(access.meetings.createOrGet(ORGANIZER, input))).toMatchObject({
      kind: 'unauthorized',
      status: 401,
    });
  });

  it.each([
    [401, 'Unauthorized', 'App 1 is not authorized to Create meeting on behalf of user 2', 'policyMissing'],
    [401, 'Forbidden', 'No application access policy found for this app.', 'policyMissing'],
    [401, 'Unauthorized', 'Unauthorized', 'unauthorized'],
    [
      401,
      'InvalidAuthenticationToken',
      'CompactToken parsing failed with error code: 80049217',
      'unauthorized',
    ],
    [400, 'Unauthorized', 'App 1 is not authorized to Create meeting on behalf of user 2', 'invalidRequest'],
    // One organizer's account (guest, licence, disabled): Graph sends no explanation.
    [403, 'Forbidden', '', 'userForbidden'],
    // The monthly limit: its status and wording are undocumented, so both statuses and any wording that
    // names the limit are one organizer's, never the app's throttling or refusal.
    [
      403,
      'Forbidden',
      'The user has exceeded the maximum number of meetings that can be created in a month.',
      'monthlyLimit',
    ],
    [
      429,
      'TooManyRequests',
      'The user has exceeded the maximum number of meetings that can be created in a month.',
      'monthlyLimit',
    ],
    [429, 'TooManyRequests', 'Meeting creation limit reached for this user.', 'monthlyLimit'],
    [429, 'TooManyRequests', 'Too many requests', 'throttled'],
    [
      400,
      'BadRequest',
      'The user has exceeded the maximum number of meetings that can be created in a month.',
      'invalidRequest',
    ],
  ])('classifyHttpFailure %i %s %s → %s', (status, code, message, kind) => {
    expect(classifyHttpFailure(status, null, { code, message }).kind).toBe(kind);
  });
});

describe('Retry-After capped (maxRetryAfterSeconds)', () => {
  const input = {
    externalId: 'x',
    subject: 's',
    startDateTime: '2026-09-14T08:15:00Z',
    endDateTime: '2026-09-14T09:00:00Z',
  };

  it('a 300 s Retry-After is not slept through: the call fails at once as throttled, then the pause refuses calls without sending them', async () => {
    const { access, wire, clock } = graphOver({ maxRetryAfterSeconds: 30 });
    wire.then(tooManyRequests('300'));
    const started = Date.now();
    const first = await rejection(access.meetings.createOrGet(ORGANIZER, input));
    expect(first).toMatchObject({ kind: 'throttled', status: 429, retryAfterSeconds: 300 });
    expect(wire.sent).toHaveLength(1); // the SDK did not retry
    const second = await rejection(access.users.resolveByEmail('ada@uni.example'));
    expect(second).toMatchObject({ kind: 'throttled', retryAfterSeconds: 300 });
    expect(wire.sent).toHaveLength(1); // not sent
    expect(Date.now() - started).toBeLessThan(2000);
    expect(access.stats()).toEqual({ requests: 1, throttled: 1 });

    clock.advance(250_000);
    expect((await rejection(access.users.resolveByEmail('ada@uni.example'))).retryAfterSeconds).toBe(50);
    clock.advance(25_000); // 25 s left: waited out (on the pacer's clock), then sent
    wire.then(() => json(200, { value: [] }));
    await access.users.resolveByEmail('ada@uni.example');
    expect(wire.sent).toHaveLength(2);
  });

  it('a Retry-After within the cap is retried by the SDK', async () => {
    const { access, wire } = graphOver({ maxRetryAfterSeconds: 30 });
    wire.then(tooManyRequests('0'), () => json(201, meeting(input.startDateTime, input.endDateTime)));
    const m = await access.meetings.createOrGet(ORGANIZER, input);
    expect(m.created).toBe(true);
    expect(wire.sent).toHaveLength(2);
    expect(access.stats()).toEqual({ requests: 2, throttled: 1 });
  });

  it('a 503 asking for more than the cap is not retried either: transient with retryAfterSeconds', async () => {
    const { access, wire } = graphOver({ maxRetryAfterSeconds: 10 });
    wire.then(() =>
      json(503, { error: { code: 'ServiceNotAvailable', message: 'busy' } }, { 'retry-after': '60' }),
    );
    expect(await rejection(access.meetings.get(ORGANIZER, 'MSo-meeting'))).toMatchObject({
      kind: 'transient',
      status: 503,
      retryAfterSeconds: 60,
    });
    expect(wire.sent).toHaveLength(1);
  });

  it('the delay the cap compares is the one RetryHandler would sleep', () => {
    const headers = (h: Record<string, string>) => new Response(null, { status: 429, headers: h });
    expect(retryDelaySeconds(headers({ 'retry-after': '300' }), 1, 3)).toBe(180); // the SDK's own ceiling
    expect(retryDelaySeconds(headers({ 'retry-after': '12' }), 1, 3)).toBe(12);
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(retryDelaySeconds(headers({ 'retry-after': inAMinute }), 1, 3)).toBeGreaterThan(55);
    expect(retryDelaySeconds(headers({ 'retry-after': 'soon' }), 1, 3)).toBe(Infinity);
    expect(retryDelaySeconds(headers({}), 1, 3)).toBe(3);
    expect(retryDelaySeconds(headers({}), 3, 3)).toBe(7); // ½(2³−1) rounded + base
  });
});
