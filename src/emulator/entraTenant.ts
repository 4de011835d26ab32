// Which tenant a token or metadata URL names (the tenant id or its domain, as Entra accepts both),
// and the metadata documents MSAL reads before asking for a token.
// https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
import { randomUUID } from 'node:crypto';
import { entraError } from './httpErrors.js';
import type { EmulatorState } from './state.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The refusal for a tenant segment that is not this tenant's id or domain; null when it is. */
export function tenantProblem(
  state: EmulatorState,
  tenant: string,
): { error: string; aadsts: number; description: string } | null {
  const t = tenant.toLowerCase();
  if (t === state.tenantId.toLowerCase() || t === state.tenantDomain.toLowerCase()) return null;
  if (!GUID.test(tenant) && !DOMAIN.test(tenant))
    return {
      error: 'invalid_request',
      aadsts: 900023,
      description: `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
    };
  return {
    error: 'invalid_request',
    aadsts: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  };
}

// ---- metadata -------------------------------------------------------------------------------

/** A metadata answer: the document, or Entra's refusal of a tenant that is not this one. */
export interface MetadataAnswer {
  status: number;
  body: unknown;
}

function refuseTenant(state: EmulatorState, tenant: string): MetadataAnswer | null {
  const problem = tenantProblem(state, tenant);
  if (!problem) return null;
  // The metadata documents call it invalid_tenant where the token endpoint says invalid_request.
  const error = problem.aadsts === 90002 ? 'invalid_tenant' : problem.error;
  const refusal = entraError(400, error, problem.aadsts, problem.description, randomUUID(), state.now());
  return { status: refusal.status, body: refusal.body };
}

/** Asked by id or by domain, Entra answers with the tenant id in every endpoint. */
export function openIdConfiguration(state: EmulatorState, tenant: string): MetadataAnswer {
  const refused = refuseTenant(state, tenant);
  if (refused) return refused;
  const { url, tenantId } = state;
  const base = `${url}/${tenantId}`;
  const body = {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${url}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'roles'],
    tenant_region_scope: 'EU',
    cloud_instance_name: state.cloud === 'global' ? 'microsoftonline.com' : 'microsoftonline.us',
  };
  return { status: 200, body };
}

export function jwks(state: EmulatorState, tenant: string): MetadataAnswer {
  const refused = refuseTenant(state, tenant);
  if (refused) return refused;
  const jwk = state.signing.publicKey.export({ format: 'jwk' });
  return {
    status: 200,
    body: { keys: [{ kty: 'RSA', use: 'sig', kid: state.signing.kid, n: jwk.n, e: jwk.e }] },
  };
}

/** Instance discovery (MSAL asks only when the authority is not in knownAuthorities). */
export function instanceDiscovery(state: EmulatorState): unknown {
  const host = new URL(state.url).host;
  return {
    tenant_discovery_endpoint: `${state.url}/${state.tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
