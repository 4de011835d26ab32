// Entra ID's v2 token endpoint as a daemon app sees it (client credentials with a secret, a
// certificate assertion or a managed-identity federated assertion) and the metadata documents MSAL
// reads before asking for a token. App registrations themselves are in apps.ts; the tenant check
// and the metadata documents in entraTenant.ts.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readBody, sendJson, str } from './http.js';
import { EntraError, entraError, entraTransientErrorBody } from './httpErrors.js';
import { tenantProblem } from './entraTenant.js';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt.js';
import type { AppRecord, EmulatorState } from './state.js';
import type { EmulatorCloud } from './types.js';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Each cloud's Graph resource: the token scope is `<resource>/.default` and the token's `aud`. */
// https://learn.microsoft.com/graph/deployments
export const GRAPH_RESOURCES: Readonly<Record<EmulatorCloud, string>> = {
  global: GRAPH_RESOURCE,
  usgov: 'https://graph.microsoft.us',
  usgovdod: 'https://dod-graph.microsoft.us',
};
const MI_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A managed-identity token the app accepts as its federated credential, signed with the emulator's key. */
export function mintManagedIdentityAssertion(state: EmulatorState, clientId?: string): string {
  const app = state.apps.get((clientId ?? state.defaultApp.clientId).toLowerCase());
  if (!app) throw new Error(`unknown app ${clientId}`);
  const t = Math.floor(Date.now() / 1000);
  const claims = {
    aud: MI_AUDIENCE,
    iss: `${state.url}/${state.tenantId}/v2.0`,
    sub: app.federatedSubject,
    iat: t,
    nbf: t,
    exp: t + 3600,
  };
  return signJwt(claims, state.signing.privateKey, { kid: state.signing.kid });
}

// ---- token endpoint -------------------------------------------------------------------------

type Refuse = (status: number, error: string, aadsts: number, description: string) => EntraError;

/** The Graph scope this cloud's Entra accepts; refuses another cloud's Graph and non-/.default scopes. */
function checkScope(state: EmulatorState, form: URLSearchParams, refuse: Refuse): void {
  const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
  const resource = GRAPH_RESOURCES[state.cloud];
  const defaults = scopes.filter((s) => s.toLowerCase().endsWith('/.default'));
  if (defaults.length === 0) {
    throw refuse(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  for (const scope of defaults) {
    const asked = scope.slice(0, -'/.default'.length).toLowerCase();
    if (asked === resource || asked === GRAPH_APP_ID) continue;
    // Another cloud's Graph (or any resource this tenant does not have) is not a principal here.
    // https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS500011)
    throw refuse(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${scope.slice(0, -'/.default'.length)} was not found in the tenant named ${state.tenantDomain}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }
}

function authenticateClient(
  state: EmulatorState,
  form: URLSearchParams,
  tokenEndpoint: string,
  refuse: Refuse,
): AppRecord {
  const { apps, tenantId } = state;
  const clientId = (form.get('client_id') ?? '').toLowerCase();
  const assertion = form.get('client_assertion');
  // With an assertion, client_id may be omitted: it is the assertion's `sub` (cert) or the app the
  // federated subject belongs to.
  let app = apps.get(clientId);
  if (!app && clientId) {
    throw refuse(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  if (assertion) {
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      throw refuse(
        400,
        'invalid_request',
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      );
    }
    const jwt = decodeJwt(assertion);
    if (!jwt) throw refuse(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    const nowSeconds = Date.now() / 1000;
    if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp < nowSeconds - 300) {
      throw refuse(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    if (jwt.claims.aud === MI_AUDIENCE) {
      // Managed identity as a federated identity credential: a token the emulator issued (see
      // mintManagedIdentityAssertion), verified with the emulator's own key.
      // https://learn.microsoft.com/entra/workload-id/workload-identity-federation
      const owner = app ?? [...apps.values()].find((a) => a.federatedSubject === jwt.claims.sub);
      if (
        !owner ||
        jwt.claims.sub !== owner.federatedSubject ||
        !verifyJwtSignature(jwt, state.signing.publicKey)
      ) {
        throw refuse(
          400,
          'invalid_client',
          70021,
          'No matching federated identity record found for presented assertion.',
        );
      }
      return owner;
    }
    // Certificate credential: the assertion names the certificate by thumbprint (x5t#S256 or x5t)
    // and we verify its signature with that registered certificate's public key.
    if (!app) app = apps.get(str(jwt.claims.sub).toLowerCase());
    if (!app)
      throw refuse(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${str(jwt.claims.sub)}' was not found in the directory '${tenantId}'.`,
      );
    if (jwt.claims.iss !== app.clientId || jwt.claims.sub !== app.clientId) {
      throw refuse(
        401,
        'invalid_client',
        700023,
        'Client assertion audience/issuer/subject claim does not match the client id.',
      );
    }
    if (typeof jwt.claims.aud !== 'string' || jwt.claims.aud.toLowerCase() !== tokenEndpoint.toLowerCase()) {
      throw refuse(
        401,
        'invalid_client',
        700023,
        `Invalid audience claim in client assertion: expected '${tokenEndpoint}'.`,
      );
    }
    const cert = app.certificates.find(
      (c) => c.x5tS256 === jwt.header['x5t#S256'] || c.x5t === jwt.header.x5t,
    );
    if (!cert)
      throw refuse(
        401,
        'invalid_client',
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`,
      );
    if (!verifyJwtSignature(jwt, cert.publicKey))
      throw refuse(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    return app;
  }
  if (!app)
    throw refuse(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  const secret = form.get('client_secret');
  if (!secret)
    throw refuse(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  if (!app.secret || secret !== app.secret) {
    throw refuse(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }
  return app;
}

async function issueToken(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  tenant: string,
  requestId: string,
): Promise<number> {
  const { tenantId, tokenLifetimeSeconds: lifetime } = state;
  const correlationId = (req.headers['client-request-id'] as string | undefined) ?? randomUUID();
  const refuse: Refuse = (status, error, aadsts, description) =>
    entraError(status, error, aadsts, description, correlationId, state.now());
  const tokenEndpoint = `${state.url}/${tenant}/oauth2/v2.0/token`;
  try {
    const problem = tenantProblem(state, tenant);
    if (problem) throw refuse(400, problem.error, problem.aadsts, problem.description);
    const form = new URLSearchParams(await readBody(req));
    state.lastTokenScope = form.get('scope');
    if (form.get('grant_type') !== 'client_credentials') {
      throw refuse(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`,
      );
    }
    const app = authenticateClient(state, form, tokenEndpoint, refuse);
    checkScope(state, form, refuse);
    const iat = Math.floor(state.now() / 1000);
    // v1-shaped app token, as Graph receives them for client credentials.
    const claims = {
      aud: GRAPH_RESOURCES[state.cloud],
      iss: `https://sts.windows.net/${tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + lifetime,
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
    const accessToken = signJwt(claims, state.signing.privateKey, { kid: state.signing.kid });
    const headers = {
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
      'x-ms-request-id': requestId,
      'client-request-id': correlationId,
    };
    sendJson(
      res,
      200,
      { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
      headers,
    );
    return 200;
  } catch (e) {
    if (e instanceof EntraError) {
      sendJson(res, e.status, e.body, { 'x-ms-request-id': requestId });
      return e.status;
    }
    throw e;
  }
}

/** POST /{tenant}/oauth2/v2.0/token, with the injected faults when they apply to the token endpoint. */
export async function handleToken(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  tenant: string,
  requestId: string,
): Promise<number | 'reset'> {
  if (state.faults.current().applyToTokenEndpoint) {
    const before = state.faults.before();
    if (before.kind === 'reset') {
      req.socket.destroy();
      return 'reset';
    }
    if (before.kind === 'error') {
      sendJson(res, before.status, entraTransientErrorBody);
      return before.status;
    }
  }
  return issueToken(state, req, res, tenant, requestId);
}
