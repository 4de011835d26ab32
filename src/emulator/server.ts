// A local Microsoft Graph + Entra token endpoint emulator for tests, demos and the `emulator` CLI.
// Serves https on 127.0.0.1 with a certificate generated at start, so the real MSAL + Graph SDK path
// (which only sends tokens to https hosts) is exercised end to end.
//
// /_emulator/* (JSON control API) has no authentication: it is protected only by the loopback
// binding. Anyone who can connect to 127.0.0.1 on this machine can drive it — run it on dev/CI
// machines only.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { decodeJwt, registerCertificate, signJwt, verifyJwtSignature, type RegisteredCertificate } from './jwt.js';
import { Faults, Throttle } from './limits.js';
import { PolicyError, PolicyStore } from './policies.js';
import type {
  EmulatorApp,
  EmulatorAppRegistration,
  EmulatorControl,
  EmulatorHandle,
  EmulatorMeetingView,
  EmulatorOptions,
  EmulatorUser,
  EmulatorUserSeed,
  PolicyErrorStyle,
  RequestCounts,
} from './types.js';

const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const DEFAULT_ROLES = ['OnlineMeetings.ReadWrite.All', 'User.Read.All'];
const USER_READ_ROLES = ['User.Read.All', 'User.ReadBasic.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const MEETING_WRITE_ROLES = ['OnlineMeetings.ReadWrite.All'];
const MEETING_READ_ROLES = ['OnlineMeetings.Read.All', 'OnlineMeetings.ReadWrite.All'];
const MI_AUDIENCE = 'api://AzureADTokenExchange';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ISO 8601 date-time with seconds and a zone (Z or ±hh:mm); Graph's dateTime properties are UTC.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;

interface AppRecord {
  clientId: string;
  displayName: string;
  secret: string | null;
  certificates: RegisteredCertificate[];
  roles: string[];
  federatedSubject: string;
  servicePrincipalId: string;
}

interface MeetingRecord {
  id: string;
  organizerId: string;
  externalId: string | null;
  subject: string;
  start: number;
  end: number;
  created: number;
  joinWebUrl: string;
  joinMeetingId: string;
  passcode: string;
  threadId: string;
  lobbyBypassSettings: { scope: string; isDialInBypassEnabled: boolean };
  allowedPresenters: string;
  attendees: unknown[];
  createdBy: 'createOrGet' | 'post';
  patchCount: number;
  deleted: boolean;
}

interface TokenClaims {
  appid: string;
  tid: string;
  roles: string[];
  exp: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Graph dateTime output: UTC with 7 fractional digits, as Graph returns them. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

function innerDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
}

/** A string property of a parsed JSON body ('' for anything else). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function guid(): string {
  return randomUUID();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'BadRequest', 'The request payload must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export async function startGraphEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  let clockOffset = 0;
  const baseNow = options.now ?? (() => Date.now());
  const now = () => baseNow() + clockOffset;
  const tenantId = options.tenantId ?? guid();
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3599;
  const policies = new PolicyStore(now, options.propagationDelayMs ?? 30 * 60_000);
  let policyErrorStyle: PolicyErrorStyle = options.policyErrorStyle ?? 'current';
  const throttle = new Throttle();
  const faults = new Faults();
  throttle.configure(options.throttle ?? null);
  faults.configure(options.faults ?? null);

  // Token signing key (RS256) and the TLS certificate, generated per start.
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const tls = await generate([{ name: 'commonName', value: 'timetable-sync graph emulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });

  const users = new Map<string, EmulatorUser>();
  const apps = new Map<string, AppRecord>();
  let meetings: MeetingRecord[] = [];
  let counts: RequestCounts = { total: 0, graph: 0, graphThrottled: 0, token: 0, byRoute: {} };

  function registerApp(reg: EmulatorAppRegistration = {}): EmulatorApp {
    const clientId = (reg.clientId ?? guid()).toLowerCase();
    const certificates = (reg.certificatePems ?? []).map(registerCertificate);
    const record: AppRecord = {
      clientId,
      displayName: reg.displayName ?? 'timetable-sync',
      secret: reg.secret ?? (certificates.length ? null : `${randomBytes(3).toString('hex')}8Q~${randomBytes(27).toString('base64url')}`),
      certificates,
      roles: reg.roles ?? [...DEFAULT_ROLES],
      federatedSubject: guid(),
      servicePrincipalId: guid(),
    };
    apps.set(clientId, record);
    return appView(record);
  }

  function appView(a: AppRecord): EmulatorApp {
    return {
      clientId: a.clientId,
      displayName: a.displayName,
      secret: a.secret,
      roles: [...a.roles],
      federatedSubject: a.federatedSubject,
      certificateThumbprintsSha256: a.certificates.map((c) => c.thumbprintSha256),
    };
  }

  const defaultApp = registerApp({ clientId: options.clientId, secret: options.clientSecret ?? undefined });
  const defaultSecret = defaultApp.secret ?? '';

  function seedUsers(seeds: EmulatorUserSeed[]): EmulatorUser[] {
    return seeds.map((s) => {
      const user: EmulatorUser = {
        id: (s.id ?? guid()).toLowerCase(),
        displayName: s.displayName,
        userPrincipalName: s.userPrincipalName,
        mail: s.mail ?? null,
        proxyAddresses: s.proxyAddresses ?? (s.mail ? [`SMTP:${s.mail}`] : []),
      };
      users.set(user.id, user);
      return { ...user };
    });
  }
  seedUsers(options.users ?? []);

  function meetingView(m: MeetingRecord): EmulatorMeetingView {
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
      lobbyLocked: m.lobbyBypassSettings.scope === 'organizer' && m.allowedPresenters === 'organizer',
      createdBy: m.createdBy,
      patchCount: m.patchCount,
    };
  }

  function duplicates(): number {
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

  function record(route: string, status: number | 'reset', graph: boolean): void {
    counts.total++;
    if (graph) {
      counts.graph++;
      if (status === 429) counts.graphThrottled++;
    }
    if (route === 'POST /{tenant}/oauth2/v2.0/token') counts.token++;
    const byStatus = (counts.byRoute[route] ??= {});
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
  }

  const control: EmulatorControl = {
    seedUsers,
    users: () => [...users.values()].map((u) => ({ ...u })),
    registerApp,
    apps: () => [...apps.values()].map(appView),
    newPolicy: (name, appIds, description, opts) => policies.newPolicy(name, appIds, description, opts?.delayMs),
    setPolicy: (name, change, opts) => policies.setPolicy(name, change, opts?.delayMs),
    removePolicy: (name) => policies.removePolicy(name),
    grantPolicy: (name, target, opts) => policies.grant(name, target, opts?.delayMs),
    allowDefaultAppGlobally: () => {
      const name = 'emulator-default-allow';
      if (!policies.list().policies.some((p) => p.name === name)) policies.newPolicy(name, [defaultApp.clientId], 'test shortcut', 0);
      policies.grant(name, 'global', 0);
    },
    policies: () => policies.list(),
    setPropagationDelay: (ms) => {
      policies.delayMs = ms;
    },
    setPolicyErrorStyle: (style) => {
      policyErrorStyle = style;
    },
    setThrottle: (s) => throttle.configure(s),
    setFaults: (s) => faults.configure(s),
    advanceTime: (ms) => {
      clockOffset += ms;
    },
    now,
    mintManagedIdentityAssertion: (clientId) => {
      const app = apps.get((clientId ?? defaultApp.clientId).toLowerCase());
      if (!app) throw new Error(`unknown app ${clientId}`);
      const t = Math.floor(Date.now() / 1000);
      return signJwt({ aud: MI_AUDIENCE, iss: `${url}/${tenantId}/v2.0`, sub: app.federatedSubject, iat: t, nbf: t, exp: t + 3600 }, signing.privateKey, { kid });
    },
    meetings: () => meetings.filter((m) => !m.deleted).map(meetingView),
    requestCounts: () => structuredClone(counts),
    duplicates,
    reset: (opts) => {
      meetings = [];
      counts = { total: 0, graph: 0, graphThrottled: 0, token: 0, byRoute: {} };
      throttle.configure(null);
      faults.configure(null);
      if (opts?.everything) {
        users.clear();
        policies.clear();
        for (const id of apps.keys()) if (id !== defaultApp.clientId) apps.delete(id);
      }
    },
  };

  // ---- responses ------------------------------------------------------------------------------

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
    res.end(text);
  }

  function graphError(res: ServerResponse, requestId: string, clientRequestId: string, e: HttpError): void {
    sendJson(res, e.status, { error: { code: e.code, message: e.message, innerError: { date: innerDate(now()), 'request-id': requestId, 'client-request-id': clientRequestId } } }, e.headers);
  }

  // ---- token endpoint (Entra v2 client credentials) -------------------------------------------
  // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow

  function entraError(status: number, error: string, aadsts: number, description: string, correlationId: string): HttpError & { body: unknown } {
    const timestamp = new Date(now()).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
    const traceId = guid();
    const e = new HttpError(status, error, description) as HttpError & { body: unknown };
    e.body = {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
    };
    return e;
  }

  function authenticateClient(form: URLSearchParams, tokenEndpoint: string, correlationId: string): AppRecord {
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    const assertion = form.get('client_assertion');
    // With an assertion, client_id may be omitted: it is the assertion's `sub` (cert) or the app the
    // federated subject belongs to.
    let app = apps.get(clientId);
    if (!app && clientId) {
      throw entraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, correlationId);
    }
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        throw entraError(400, 'invalid_request', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.", correlationId);
      }
      const jwt = decodeJwt(assertion);
      if (!jwt) throw entraError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.', correlationId);
      const nowSeconds = Date.now() / 1000;
      if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp < nowSeconds - 300) {
        throw entraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', correlationId);
      }
      if (jwt.claims.aud === MI_AUDIENCE) {
        // Managed identity as a federated identity credential: a token the emulator issued (see
        // mintManagedIdentityAssertion), verified with the emulator's own key.
        // https://learn.microsoft.com/entra/workload-id/workload-identity-federation
        const owner = app ?? [...apps.values()].find((a) => a.federatedSubject === jwt.claims.sub);
        if (!owner || jwt.claims.sub !== owner.federatedSubject || !verifyJwtSignature(jwt, signing.publicKey)) {
          throw entraError(400, 'invalid_client', 70021, 'No matching federated identity record found for presented assertion.', correlationId);
        }
        return owner;
      }
      // Certificate credential: the assertion names the certificate by thumbprint (x5t#S256 or x5t)
      // and we verify its signature with that registered certificate's public key.
      if (!app) app = apps.get(str(jwt.claims.sub).toLowerCase());
      if (!app) throw entraError(400, 'unauthorized_client', 700016, `Application with identifier '${str(jwt.claims.sub)}' was not found in the directory '${tenantId}'.`, correlationId);
      if (jwt.claims.iss !== app.clientId || jwt.claims.sub !== app.clientId) {
        throw entraError(401, 'invalid_client', 700023, 'Client assertion audience/issuer/subject claim does not match the client id.', correlationId);
      }
      if (typeof jwt.claims.aud !== 'string' || jwt.claims.aud.toLowerCase() !== tokenEndpoint.toLowerCase()) {
        throw entraError(401, 'invalid_client', 700023, `Invalid audience claim in client assertion: expected '${tokenEndpoint}'.`, correlationId);
      }
      const cert = app.certificates.find((c) => c.x5tS256 === jwt.header['x5t#S256'] || c.x5t === jwt.header.x5t);
      if (!cert) throw entraError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`, correlationId);
      if (!verifyJwtSignature(jwt, cert.publicKey)) throw entraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.', correlationId);
      return app;
    }
    if (!app) throw entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.", correlationId);
    const secret = form.get('client_secret');
    if (!secret) throw entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", correlationId);
    if (!app.secret || secret !== app.secret) {
      throw entraError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`, correlationId);
    }
    return app;
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, tenant: string, requestId: string): Promise<number> {
    const correlationId = (req.headers['client-request-id'] as string | undefined) ?? guid();
    const tokenEndpoint = `${url}/${tenant}/oauth2/v2.0/token`;
    try {
      if (tenant.toLowerCase() !== tenantId.toLowerCase()) {
        throw entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`, correlationId);
      }
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') !== 'client_credentials') {
        throw entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`, correlationId);
      }
      const app = authenticateClient(form, tokenEndpoint, correlationId);
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const graphScope = scopes.find((s) => s.toLowerCase() === `${GRAPH_RESOURCE}/.default` || s.toLowerCase() === `${GRAPH_APP_ID}/.default`);
      if (!graphScope) {
        throw entraError(400, 'invalid_scope', 1002012, `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, correlationId);
      }
      const iat = Math.floor(now() / 1000);
      const claims = {
        aud: GRAPH_RESOURCE,
        iss: `https://sts.windows.net/${tenantId}/`,
        iat,
        nbf: iat,
        exp: iat + tokenLifetime,
        app_displayname: app.displayName,
        appid: app.clientId,
        appidacr: '1',
        idp: `https://sts.windows.net/${tenantId}/`,
        idtyp: 'app',
        oid: app.servicePrincipalId,
        roles: app.roles,
        sub: app.servicePrincipalId,
        tid: tenantId,
        ver: '1.0',
      };
      const accessToken = signJwt(claims, signing.privateKey, { kid });
      sendJson(res, 200, { token_type: 'Bearer', expires_in: tokenLifetime, ext_expires_in: tokenLifetime, access_token: accessToken }, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': requestId, 'client-request-id': correlationId });
      return 200;
    } catch (e) {
      if (e instanceof HttpError && 'body' in e) {
        sendJson(res, e.status, (e).body, { 'x-ms-request-id': requestId });
        return e.status;
      }
      throw e;
    }
  }

  function openIdConfiguration(tenant: string): unknown {
    const base = `${url}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${url}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${url}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'roles'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    };
  }

  function jwks(): unknown {
    const jwk = signing.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e }] };
  }

  // ---- Graph /v1.0 --------------------------------------------------------------------------

  function authenticateGraph(req: IncomingMessage): TokenClaims {
    const header = req.headers.authorization ?? '';
    const challenge = { 'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"` };
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new HttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.', challenge);
    const jwt = decodeJwt(match[1]);
    if (!jwt) throw new HttpError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).', challenge);
    if (jwt.header.alg !== 'RS256' || !verifyJwtSignature(jwt, signing.publicKey)) {
      throw new HttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure.', challenge);
    }
    const c = jwt.claims;
    if (c.aud !== GRAPH_RESOURCE && c.aud !== GRAPH_APP_ID) throw new HttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', challenge);
    if (typeof c.exp !== 'number' || c.exp * 1000 <= now()) throw new HttpError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', challenge);
    if (c.tid !== tenantId || typeof c.appid !== 'string') throw new HttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure.', challenge);
    return { appid: c.appid, tid: c.tid, roles: Array.isArray(c.roles) ? (c.roles as string[]) : [], exp: c.exp };
  }

  function requireRole(token: TokenClaims, accepted: string[]): void {
    if (accepted.some((r) => token.roles.includes(r))) return;
    if (accepted === USER_READ_ROLES) throw new HttpError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    throw new HttpError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${accepted.join(', ')}'. Roles on the request '${token.roles.join(', ')}'.`);
  }

  function userPayload(u: EmulatorUser): Record<string, unknown> {
    return { id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName, mail: u.mail, businessPhones: [], givenName: null, surname: null, jobTitle: null, officeLocation: null, preferredLanguage: null, mobilePhone: null };
  }

  function findUserByIdOrUpn(key: string): EmulatorUser | undefined {
    const k = key.toLowerCase();
    return users.get(k) ?? [...users.values()].find((u) => u.userPrincipalName.toLowerCase() === k);
  }

  /** onlineMeetings need the object id; a UPN or mail in the path is a 404. */
  function findOrganizer(key: string): EmulatorUser {
    const user = GUID.test(key) ? users.get(key.toLowerCase()) : undefined;
    if (!user) throw new HttpError(404, 'NotFound', `The requested user '${key}' is invalid or not found. onlineMeetings requires the user's object id.`);
    return user;
  }

  function odataValue(literal: string): string {
    return literal.replace(/''/g, "'");
  }

  function filterUsers(filter: string): EmulatorUser[] {
    let m = /^\s*(mail|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
    if (m) {
      const field = (m[1] ?? '').toLowerCase() === 'mail' ? 'mail' : 'userPrincipalName';
      const value = odataValue(m[2] ?? '').toLowerCase();
      return [...users.values()].filter((u) => (u[field] ?? '').toLowerCase() === value);
    }
    m = /^\s*proxyAddresses\/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$/i.exec(filter);
    if (m) {
      const value = odataValue(m[2] ?? '').toLowerCase();
      return [...users.values()].filter((u) => u.proxyAddresses.some((p) => p.toLowerCase() === value));
    }
    throw new HttpError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  }

  function parseInstant(value: unknown, name: string): number {
    if (typeof value !== 'string' || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
      throw new HttpError(400, 'BadRequest', `Invalid value '${String(value)}' for property '${name}': expected an ISO 8601 date-time with a time zone (UTC 'Z').`);
    }
    return Date.parse(value);
  }

  function meetingPayload(m: MeetingRecord, organizer: EmulatorUser): Record<string, unknown> {
    return {
      '@odata.context': `${url}/v1.0/$metadata#users('${organizer.id}')/onlineMeetings/$entity`,
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
        organizer: { upn: organizer.userPrincipalName, role: 'presenter', identity: { user: { id: organizer.id, displayName: null, tenantId, identityProvider: 'AAD' } } },
        attendees: m.attendees,
      },
    };
  }

  function newMeeting(organizer: EmulatorUser, body: Record<string, unknown>, externalId: string | null, createdBy: 'createOrGet' | 'post'): MeetingRecord {
    const start = body.startDateTime === undefined ? now() : parseInstant(body.startDateTime, 'startDateTime');
    const end = body.endDateTime === undefined ? start + 3600_000 : parseInstant(body.endDateTime, 'endDateTime');
    if (end <= start) throw new HttpError(400, 'BadRequest', 'The meeting endDateTime must be later than its startDateTime.');
    if (body.subject !== undefined && typeof body.subject !== 'string') throw new HttpError(400, 'BadRequest', "Invalid value for property 'subject'.");
    const thread = `19:meeting_${randomBytes(30).toString('base64url').slice(0, 40)}@thread.v2`;
    const lowerEscapes = (text: string) => text.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    const context = lowerEscapes(encodeURIComponent(JSON.stringify({ Tid: tenantId, Oid: organizer.id })));
    const participants = body.participants as { attendees?: unknown[] } | undefined;
    return {
      // Real ids are base64 of "1*{organizerId}*0**{threadId}" (and may contain '/', '+', '=').
      id: Buffer.from(`1*${organizer.id}*0**${thread}`).toString('base64'),
      organizerId: organizer.id,
      externalId,
      subject: typeof body.subject === 'string' ? body.subject : '',
      start,
      end,
      created: now(),
      joinWebUrl: `https://teams.microsoft.com/l/meetup-join/${lowerEscapes(encodeURIComponent(thread))}/0?context=${context}`,
      joinMeetingId: String(randomInt(100_000, 999_999)) + String(randomInt(100_000, 999_999)),
      passcode: randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6),
      threadId: thread,
      lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false },
      allowedPresenters: 'everyone',
      attendees: Array.isArray(participants?.attendees) ? participants.attendees : [],
      createdBy,
      patchCount: 0,
      deleted: false,
    };
  }

  const CREATE_OR_GET_FIELDS = new Set(['subject', 'startDateTime', 'endDateTime', 'participants', 'externalId', 'chatInfo']);
  const PATCH_FIELDS = new Set(['subject', 'startDateTime', 'endDateTime', 'participants', 'lobbyBypassSettings', 'allowedPresenters', 'isEntryExitAnnounced', 'allowMeetingChat', 'allowTeamworkReactions', 'recordAutomatically', 'allowAttendeeToEnableCamera', 'allowAttendeeToEnableMic']);
  const LOBBY_SCOPES = new Set(['organizer', 'organization', 'organizationAndFederated', 'everyone', 'invited', 'organizationExcludingGuests']);
  const PRESENTERS = new Set(['everyone', 'organization', 'roleIsPresenter', 'organizer']);

  type Committed = { status: number; body?: unknown };

  /** Handles /v1.0/users/{id}/onlineMeetings[...]. Returns the response; `commit` marks a write. */
  async function handleMeetings(req: IncomingMessage, token: TokenClaims, organizerKey: string, rest: string[], query: URLSearchParams): Promise<Committed & { write: boolean }> {
    const method = req.method ?? 'GET';
    requireRole(token, method === 'GET' ? MEETING_READ_ROLES : MEETING_WRITE_ROLES);
    const organizer = findOrganizer(organizerKey);
    if (!policies.isAllowed(token.appid, organizer.id)) {
      // https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
      const verb = { GET: 'Get', POST: 'Create', PATCH: 'Update', DELETE: 'Delete' }[method] ?? 'Access';
      if (policyErrorStyle === 'legacy') throw new HttpError(403, 'Unauthorized', `App ${token.appid} is not authorized to ${verb} meeting on behalf of user ${organizer.id}`);
      throw new HttpError(403, 'Forbidden', 'No application access policy found for this app.');
    }
    const live = (id: string) => meetings.find((m) => !m.deleted && m.organizerId === organizer.id && m.id === id);
    const body = method === 'POST' || method === 'PATCH' ? parseJsonObject(await readBody(req)) : {};

    if (rest.length === 0) {
      if (method === 'GET') {
        // No list API: only $filter=JoinWebUrl eq '...'. https://learn.microsoft.com/graph/api/onlinemeeting-get
        const filter = query.get('$filter') ?? '';
        const m = /^\s*joinWebUrl\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
        if (!m) throw new HttpError(400, 'BadRequest', "Filter expression expected - /onlineMeetings?$filter=JoinWebUrl eq 'joinUrl'.");
        const joinUrl = odataValue(m[1] ?? '');
        const found = meetings.filter((x) => !x.deleted && x.organizerId === organizer.id && x.joinWebUrl === joinUrl);
        return { status: 200, write: false, body: { '@odata.context': `${url}/v1.0/$metadata#users('${organizer.id}')/onlineMeetings`, value: found.map((x) => meetingPayload(x, organizer)) } };
      }
      if (method === 'POST') {
        // Plain create has no idempotency key; Graph rejects externalId here (createOrGet only).
        if (body.externalId !== undefined) throw new HttpError(400, 'BadRequest', "The property 'externalId' is only supported on /onlineMeetings/createOrGet.");
        const m = newMeeting(organizer, body, null, 'post');
        meetings.push(m);
        return { status: 201, write: true, body: meetingPayload(m, organizer) };
      }
      throw new HttpError(405, 'Request_BadRequest', 'Method not allowed.');
    }

    if (rest.length === 1 && rest[0] === 'createOrGet') {
      if (method !== 'POST') throw new HttpError(405, 'Request_BadRequest', 'Method not allowed.');
      // https://learn.microsoft.com/graph/api/onlinemeeting-createorget
      const unknown = Object.keys(body).filter((k) => !CREATE_OR_GET_FIELDS.has(k));
      if (unknown.length) throw new HttpError(400, 'BadRequest', `createOrGet does not accept: ${unknown.join(', ')}. Use PATCH after creation.`);
      if (typeof body.externalId !== 'string' || !body.externalId) throw new HttpError(400, 'BadRequest', 'externalId is required for createOrGet.');
      const existing = meetings.find((x) => !x.deleted && x.organizerId === organizer.id && x.externalId === body.externalId);
      // Existing meeting: returned unchanged (createOrGet never updates).
      if (existing) return { status: 200, write: false, body: meetingPayload(existing, organizer) };
      const m = newMeeting(organizer, body, body.externalId, 'createOrGet');
      meetings.push(m);
      return { status: 201, write: true, body: meetingPayload(m, organizer) };
    }

    if (rest.length === 1) {
      const id = rest[0] ?? '';
      const m = live(id);
      if (!m) throw new HttpError(404, 'NotFound', `The online meeting '${id}' was not found.`);
      if (method === 'GET') return { status: 200, write: false, body: meetingPayload(m, organizer) };
      if (method === 'DELETE') {
        m.deleted = true;
        return { status: 204, write: true };
      }
      if (method === 'PATCH') {
        // https://learn.microsoft.com/graph/api/onlinemeeting-update — start and end go together;
        // joinMeetingIdSettings cannot change after creation.
        if (body.joinMeetingIdSettings !== undefined) throw new HttpError(400, 'BadRequest', 'joinMeetingIdSettings cannot be updated after the meeting is created.');
        const unknown = Object.keys(body).filter((k) => !PATCH_FIELDS.has(k));
        if (unknown.length) throw new HttpError(400, 'BadRequest', `Property not supported for update: ${unknown.join(', ')}.`);
        const hasStart = body.startDateTime !== undefined;
        const hasEnd = body.endDateTime !== undefined;
        if (hasStart !== hasEnd) throw new HttpError(400, 'BadRequest', 'startDateTime and endDateTime must be updated together.');
        let start = m.start;
        let end = m.end;
        if (hasStart && hasEnd) {
          start = parseInstant(body.startDateTime, 'startDateTime');
          end = parseInstant(body.endDateTime, 'endDateTime');
          if (end <= start) throw new HttpError(400, 'BadRequest', 'The meeting endDateTime must be later than its startDateTime.');
        }
        let lobby = m.lobbyBypassSettings;
        if (body.lobbyBypassSettings !== undefined) {
          const raw: unknown = body.lobbyBypassSettings;
          if (!raw || typeof raw !== 'object') throw new HttpError(400, 'BadRequest', 'Invalid lobbyBypassSettings.');
          const l: { scope?: unknown; isDialInBypassEnabled?: unknown } = raw;
          if (l.scope !== undefined && !LOBBY_SCOPES.has(str(l.scope))) throw new HttpError(400, 'BadRequest', 'Invalid lobbyBypassSettings.');
          lobby = { scope: typeof l.scope === 'string' ? l.scope : lobby.scope, isDialInBypassEnabled: typeof l.isDialInBypassEnabled === 'boolean' ? l.isDialInBypassEnabled : lobby.isDialInBypassEnabled };
        }
        let presenters = m.allowedPresenters;
        if (body.allowedPresenters !== undefined) {
          if (!PRESENTERS.has(str(body.allowedPresenters))) throw new HttpError(400, 'BadRequest', "Invalid value for 'allowedPresenters'.");
          presenters = str(body.allowedPresenters);
        }
        if (body.subject !== undefined && typeof body.subject !== 'string') throw new HttpError(400, 'BadRequest', "Invalid value for property 'subject'.");
        m.start = start;
        m.end = end;
        m.lobbyBypassSettings = lobby;
        m.allowedPresenters = presenters;
        if (typeof body.subject === 'string') m.subject = body.subject;
        m.patchCount++;
        return { status: 200, write: true, body: meetingPayload(m, organizer) };
      }
      throw new HttpError(405, 'Request_BadRequest', 'Method not allowed.');
    }
    throw new HttpError(400, 'BadRequest', 'Unsupported segment.');
  }

  function routeTemplate(method: string, segments: string[]): string {
    // segments after /v1.0
    if (segments[0] !== 'users') return `${method} /v1.0/${segments.join('/')}`;
    if (segments.length === 1) return `${method} /v1.0/users?$filter`;
    if (segments.length === 2) return `${method} /v1.0/users/{id}`;
    if (segments[2] === 'onlineMeetings') {
      if (segments.length === 3) return `${method} /v1.0/users/{id}/onlineMeetings`;
      if (segments.length === 4 && segments[3] === 'createOrGet') return `${method} /v1.0/users/{id}/onlineMeetings/createOrGet`;
      return `${method} /v1.0/users/{id}/onlineMeetings/{meetingId}`;
    }
    return `${method} /v1.0/users/{id}/${segments.slice(2).join('/')}`;
  }

  async function handleGraph(req: IncomingMessage, res: ServerResponse, segments: string[], query: URLSearchParams, requestId: string, clientRequestId: string): Promise<number | 'reset'> {
    const latency = faults.latencyMs();
    if (latency > 0) await sleep(latency);
    const before = faults.before();
    if (before.kind === 'reset') {
      req.socket.destroy();
      return 'reset';
    }
    const headers = { 'request-id': requestId, 'client-request-id': clientRequestId };
    try {
      if (before.kind === 'error') {
        const retryAfter = faults.retryAfterSeconds();
        const codes = { 500: 'UnknownError', 502: 'BadGateway', 503: 'ServiceNotAvailable', 504: 'GatewayTimeout' } as const;
        throw new HttpError(before.status, codes[before.status], 'Injected fault.', retryAfter !== undefined && before.status >= 503 ? { 'retry-after': String(retryAfter) } : {});
      }
      const token = authenticateGraph(req);
      const organizerKey = segments[0] === 'users' && segments[2] === 'onlineMeetings' ? (segments[1] ?? null) : null;
      const retryAfter = throttle.check(token.appid, organizerKey);
      if (retryAfter !== null) throw new HttpError(429, 'TooManyRequests', 'Too many requests. Please retry after the time in the Retry-After header.', { 'retry-after': String(retryAfter) });

      let result: Committed & { write: boolean };
      if (segments[0] === 'users' && segments.length === 1 && req.method === 'GET') {
        requireRole(token, USER_READ_ROLES);
        const filter = query.get('$filter');
        if (!filter) {
          result = { status: 200, write: false, body: { value: [...users.values()].map(userPayload) } };
        } else {
          result = { status: 200, write: false, body: { '@odata.context': `${url}/v1.0/$metadata#users`, value: filterUsers(filter).map(userPayload) } };
        }
      } else if (segments[0] === 'users' && segments.length === 2 && req.method === 'GET') {
        requireRole(token, USER_READ_ROLES);
        const user = findUserByIdOrUpn(segments[1] ?? '');
        if (!user) throw new HttpError(404, 'Request_ResourceNotFound', `Resource '${segments[1] ?? ''}' does not exist or one of its queried reference-property objects are not present.`);
        result = { status: 200, write: false, body: { '@odata.context': `${url}/v1.0/$metadata#users/$entity`, ...userPayload(user) } };
      } else if (segments[0] === 'users' && segments[2] === 'onlineMeetings' && segments.length >= 3) {
        result = await handleMeetings(req, token, segments[1] ?? '', segments.slice(3), query);
      } else {
        throw new HttpError(400, 'BadRequest', `Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`);
      }

      if (result.write) {
        const lost = faults.afterCommit();
        if (lost === 'reset') {
          req.socket.destroy();
          return 'reset';
        }
        if (lost === '504') throw new HttpError(504, 'GatewayTimeout', 'The gateway did not receive a response in time.');
      }
      sendJson(res, result.status, result.body, headers);
      return result.status;
    } catch (e) {
      if (e instanceof HttpError) {
        graphError(res, requestId, clientRequestId, new HttpError(e.status, e.code, e.message, { ...headers, ...e.headers }));
        return e.status;
      }
      throw e;
    }
  }

  // ---- /_emulator control API ---------------------------------------------------------------

  /** Optional per-change propagation override in a control request body. */
  function delayOption(body: Record<string, unknown>): { delayMs?: number } {
    return typeof body.delayMs === 'number' ? { delayMs: body.delayMs } : {};
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<number> {
    const method = req.method ?? 'GET';
    const path = segments.join('/');
    const body = method === 'GET' || method === 'DELETE' ? {} : parseJsonObject(await readBody(req));
    const ok = (status: number, value: unknown) => {
      sendJson(res, status, value);
      return status;
    };
    try {
      if (path === '' && method === 'GET') return ok(200, { url, graphBaseUrl: url, authorityHost: url, tenantId, clientId: defaultApp.clientId, clientSecret: defaultSecret, caCertPem: tls.cert, now: new Date(now()).toISOString() });
      if (path === 'meetings' && method === 'GET') return ok(200, { value: control.meetings(), duplicates: duplicates() });
      if (path === 'requests' && method === 'GET') return ok(200, control.requestCounts());
      if (path === 'duplicates' && method === 'GET') return ok(200, { duplicates: duplicates() });
      if (path === 'reset' && method === 'POST') {
        control.reset({ everything: body.everything === true });
        return ok(200, { reset: true });
      }
      if (path === 'users' && method === 'GET') return ok(200, { value: control.users() });
      if (path === 'users' && method === 'POST') return ok(201, { value: seedUsers(Array.isArray(body.users) ? (body.users as EmulatorUserSeed[]) : []) });
      if (path === 'apps' && method === 'GET') return ok(200, { value: control.apps() });
      if (path === 'apps' && method === 'POST') return ok(201, registerApp(body));
      if (path === 'policies' && method === 'GET') return ok(200, control.policies());
      if (path === 'policies' && method === 'POST') {
        return ok(201, control.newPolicy(str(body.name) || str(body.identity), Array.isArray(body.appIds) ? body.appIds.map(String) : [], str(body.description), delayOption(body)));
      }
      if (path === 'policies/grant' && method === 'POST') {
        const target = body.global === true ? 'global' : { userId: str(body.userId) || str(body.identity) };
        const name = body.policyName === null || body.policyName === undefined ? null : str(body.policyName);
        return ok(200, control.grantPolicy(name, target, delayOption(body)));
      }
      if (segments[0] === 'policies' && segments.length === 2 && method === 'PATCH') {
        const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
        return ok(200, control.setPolicy(decodeURIComponent(segments[1] ?? ''), { add: list(body.add), remove: list(body.remove), appIds: list(body.appIds) }, delayOption(body)));
      }
      if (segments[0] === 'policies' && segments.length === 2 && method === 'DELETE') {
        control.removePolicy(decodeURIComponent(segments[1] ?? ''));
        return ok(204, undefined);
      }
      if (path === 'settings' && method === 'PUT') {
        if (typeof body.propagationDelayMs === 'number') control.setPropagationDelay(body.propagationDelayMs);
        if (body.policyErrorStyle === 'current' || body.policyErrorStyle === 'legacy') control.setPolicyErrorStyle(body.policyErrorStyle);
        return ok(200, { propagationDelayMs: policies.delayMs, policyErrorStyle });
      }
      if (path === 'throttle' && method === 'PUT') {
        control.setThrottle(body);
        return ok(200, throttle.current());
      }
      if (path === 'faults' && method === 'PUT') {
        control.setFaults(body);
        return ok(200, faults.current());
      }
      if (path === 'clock' && method === 'POST') {
        if (typeof body.advanceMs === 'number') control.advanceTime(body.advanceMs);
        return ok(200, { now: new Date(now()).toISOString() });
      }
      return ok(404, { error: { code: 'NotFound', message: `no emulator control route ${method} /_emulator/${path}` } });
    } catch (e) {
      if (e instanceof PolicyError) return ok(400, { error: { code: 'PolicyError', message: e.message } });
      throw e;
    }
  }

  // ---- server -------------------------------------------------------------------------------

  const server: Server = createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    const requestId = guid();
    const clientRequestId = (req.headers['client-request-id'] as string | undefined) ?? guid();
    res.setHeader('request-id', requestId);
    const parsed = new URL(req.url ?? '/', url);
    const rawSegments = parsed.pathname.split('/').filter(Boolean);
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      segments = rawSegments;
    }
    const method = req.method ?? 'GET';
    void (async () => {
      let route = `${method} ${parsed.pathname}`;
      let graph = false;
      let status: number | 'reset' = 500;
      try {
        if (segments[0] === 'v1.0') {
          graph = true;
          route = routeTemplate(method, segments.slice(1));
          status = await handleGraph(req, res, segments.slice(1), parsed.searchParams, requestId, clientRequestId);
        } else if (segments[0] === '_emulator') {
          route = `${method} /_emulator/${segments.slice(1).join('/')}`;
          status = await handleControl(req, res, segments.slice(1));
        } else if (segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token' && method === 'POST') {
          route = 'POST /{tenant}/oauth2/v2.0/token';
          if (faults.current().applyToTokenEndpoint) {
            const before = faults.before();
            if (before.kind === 'reset') {
              req.socket.destroy();
              status = 'reset';
              return;
            }
            if (before.kind === 'error') {
              sendJson(res, before.status, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.' });
              status = before.status;
              return;
            }
          }
          status = await handleToken(req, res, segments[0] ?? '', requestId);
        } else if (method === 'GET' && segments.length === 4 && segments[1] === 'v2.0' && segments[2] === '.well-known' && segments[3] === 'openid-configuration') {
          route = 'GET /{tenant}/v2.0/.well-known/openid-configuration';
          sendJson(res, 200, openIdConfiguration(segments[0] ?? ''));
          status = 200;
        } else if (method === 'GET' && segments.length === 4 && segments[1] === 'discovery' && segments[3] === 'keys') {
          route = 'GET /{tenant}/discovery/v2.0/keys';
          sendJson(res, 200, jwks());
          status = 200;
        } else if (method === 'GET' && segments[0] === 'common' && segments[1] === 'discovery' && segments[2] === 'instance') {
          // Instance discovery (only asked when the authority is not in knownAuthorities).
          route = 'GET /common/discovery/instance';
          const host = new URL(url).host;
          sendJson(res, 200, { tenant_discovery_endpoint: `${url}/${tenantId}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] });
          status = 200;
        } else {
          sendJson(res, 404, { error: { code: 'NotFound', message: `no emulator route ${method} ${parsed.pathname}` } });
          status = 404;
        }
      } catch (e) {
        if (!res.headersSent) {
          const message = e instanceof HttpError ? e.message : 'Internal emulator error.';
          const code = e instanceof HttpError ? e.code : 'UnknownError';
          const st = e instanceof HttpError ? e.status : 500;
          sendJson(res, st, { error: { code, message, innerError: { date: innerDate(now()), 'request-id': requestId, 'client-request-id': clientRequestId } } });
          status = st;
        }
        // A client that went away mid-request (killed, timed out) is not an emulator fault: no noise.
        const clientAborted = req.destroyed && e instanceof Error && (e.message === 'aborted' || (e as NodeJS.ErrnoException).code === 'ECONNRESET');
        if (!(e instanceof HttpError) && !clientAborted) console.error('graph emulator: internal error', e);
      } finally {
        record(route, status, graph);
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
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    graphBaseUrl: url,
    authorityHost: url,
    tenantId,
    clientId: defaultApp.clientId,
    clientSecret: defaultSecret,
    caCertPem: tls.cert,
    settings: (overrides = {}) => ({
      tenantId,
      clientId: defaultApp.clientId,
      credential: { kind: 'secret', secret: defaultSecret },
      authorityHost: url,
      graphBaseUrl: url,
      caCertPem: tls.cert,
      ...overrides,
    }),
    control,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
