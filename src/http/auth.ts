// Who may call the admin routes.
//
// Two layers, both must pass:
// 1. The function key. In Azure the Functions host enforces it (`authLevel: 'function'`) before our code
//    runs. Where no host is in front (tests, the local `demo --serve`), the route options carry
//    `requireKey`, and the same check is made here: `x-functions-key` header or `code` query parameter,
//    compared in constant time. Missing or wrong → 401.
// 2. Entra ID via App Service Authentication ("Easy Auth"). When the platform put an
//    `x-ms-client-principal` header on the request, the principal must hold the app role
//    `config.adminRole` (TimetableSync.Admin): without it → 403; an unreadable header → 401.
//    The header only ever *narrows* access: a caller who forges it still needs the function key.
// https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities#access-user-claims-in-app-code
import { constantTimeEqual } from '../core/constantTime.js';

import type { HttpRequest } from '@azure/functions';

import { problems } from '../admin/problems.js';

export interface AdminAuthOptions {
  /** Entra app role required when a client principal is present. */
  adminRole: string;
  /** Function key checked in-process (tests, local serving). Unset in Azure: the host checks it. */
  requireKey?: string | undefined;
}

export interface AdminCaller {
  /** 'key' when only a key was presented; 'entra' when a principal with the role came along. */
  via: 'key' | 'host' | 'entra';
  /** Entra object id of the caller, when known (safe to log: an id, not an e-mail). */
  objectId: string | null;
}

const ROLE_CLAIM_TYPES = new Set(['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role']);
const OBJECT_ID_CLAIM_TYPES = new Set([
  'oid',
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
]);

interface ClientPrincipal {
  claims: Array<{ typ: string; val: string }>;
}

function parsePrincipal(header: string): ClientPrincipal | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const claims = (parsed as { claims?: unknown }).claims;
    if (!Array.isArray(claims)) return null;
    return {
      claims: claims.filter(
        (c): c is { typ: string; val: string } =>
          typeof c === 'object' &&
          c !== null &&
          typeof (c as { typ?: unknown }).typ === 'string' &&
          typeof (c as { val?: unknown }).val === 'string',
      ),
    };
  } catch {
    return null;
  }
}

/** Throws a 401/403 ProblemError unless the request may use the admin routes. */
export function authorizeAdmin(request: HttpRequest, options: AdminAuthOptions): AdminCaller {
  let via: AdminCaller['via'] = 'host';
  if (options.requireKey !== undefined) {
    const presented = request.headers.get('x-functions-key') ?? request.query.get('code');
    if (!presented)
      throw problems.unauthorized(
        'this route needs the function key (x-functions-key header or code query parameter)',
      );
    if (!constantTimeEqual(presented, options.requireKey))
      throw problems.unauthorized('the function key is not valid');
    via = 'key';
  }
  const header = request.headers.get('x-ms-client-principal');
  if (header === null) return { via, objectId: null };
  const principal = parsePrincipal(header);
  if (!principal)
    throw problems.unauthorized('the x-ms-client-principal header is not a readable client principal');
  const roles = principal.claims.filter((c) => ROLE_CLAIM_TYPES.has(c.typ)).map((c) => c.val);
  if (!roles.includes(options.adminRole)) {
    throw problems.forbidden(`the signed-in principal does not hold the app role '${options.adminRole}'`);
  }
  const objectId = principal.claims.find((c) => OBJECT_ID_CLAIM_TYPES.has(c.typ))?.val ?? null;
  return { via: 'entra', objectId };
}
