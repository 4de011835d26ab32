// The directory: seeded users and the /v1.0/users routes the daemon uses to resolve lecturers.
import { randomUUID } from 'node:crypto';
import { requireRole, USER_READ_ROLES, type TokenClaims } from './graphAuth.js';
import { odataString, type GraphResult } from './http.js';
import { HttpError } from './httpErrors.js';
import type { EmulatorState } from './state.js';
import type { EmulatorUser, EmulatorUserSeed } from './types.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function seedUsers(users: Map<string, EmulatorUser>, seeds: EmulatorUserSeed[]): EmulatorUser[] {
  return seeds.map((s) => {
    const user: EmulatorUser = {
      id: (s.id ?? randomUUID()).toLowerCase(),
      displayName: s.displayName,
      userPrincipalName: s.userPrincipalName,
      mail: s.mail ?? null,
      proxyAddresses: s.proxyAddresses ?? (s.mail ? [`SMTP:${s.mail}`] : []),
    };
    users.set(user.id, user);
    return { ...user };
  });
}

/** onlineMeetings need the object id; a UPN or mail in the path is a 404. */
export function findOrganizer(state: EmulatorState, key: string): EmulatorUser {
  const user = GUID.test(key) ? state.users.get(key.toLowerCase()) : undefined;
  if (!user)
    throw new HttpError(
      404,
      'NotFound',
      `The requested user '${key}' is invalid or not found. onlineMeetings requires the user's object id.`,
    );
  return user;
}

function userPayload(u: EmulatorUser): Record<string, unknown> {
  return {
    id: u.id,
    displayName: u.displayName,
    userPrincipalName: u.userPrincipalName,
    mail: u.mail,
    businessPhones: [],
    givenName: null,
    surname: null,
    jobTitle: null,
    officeLocation: null,
    preferredLanguage: null,
    mobilePhone: null,
  };
}

function findUserByIdOrUpn(state: EmulatorState, key: string): EmulatorUser | undefined {
  const k = key.toLowerCase();
  return state.users.get(k) ?? [...state.users.values()].find((u) => u.userPrincipalName.toLowerCase() === k);
}

/** Only the filter shapes the daemon sends; anything else is Graph's "Unsupported Query". */
function filterUsers(state: EmulatorState, filter: string): EmulatorUser[] {
  const users = [...state.users.values()];
  let m = /^\s*(mail|userPrincipalName)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  if (m) {
    const field = (m[1] ?? '').toLowerCase() === 'mail' ? 'mail' : 'userPrincipalName';
    const value = odataString(m[2] ?? '').toLowerCase();
    return users.filter((u) => (u[field] ?? '').toLowerCase() === value);
  }
  m = /^\s*proxyAddresses\/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$/i.exec(filter);
  if (m) {
    const value = odataString(m[2] ?? '').toLowerCase();
    return users.filter((u) => u.proxyAddresses.some((p) => p.toLowerCase() === value));
  }
  throw new HttpError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
}

/** GET /v1.0/users[?$filter] and GET /v1.0/users/{id or UPN}; null when the route is not a users route. */
export function handleUsers(
  state: EmulatorState,
  method: string,
  token: TokenClaims,
  segments: string[],
  query: URLSearchParams,
): GraphResult | null {
  if (segments[0] !== 'users' || method !== 'GET' || segments.length > 2) return null;
  requireRole(token, USER_READ_ROLES);
  if (segments.length === 1) {
    const filter = query.get('$filter');
    if (!filter)
      return { status: 200, write: false, body: { value: [...state.users.values()].map(userPayload) } };
    return {
      status: 200,
      write: false,
      body: {
        '@odata.context': `${state.url}/v1.0/$metadata#users`,
        value: filterUsers(state, filter).map(userPayload),
      },
    };
  }
  const user = findUserByIdOrUpn(state, segments[1] ?? '');
  if (!user)
    throw new HttpError(
      404,
      'Request_ResourceNotFound',
      `Resource '${segments[1] ?? ''}' does not exist or one of its queried reference-property objects are not present.`,
    );
  return {
    status: 200,
    write: false,
    body: { '@odata.context': `${state.url}/v1.0/$metadata#users/$entity`, ...userPayload(user) },
  };
}
