// The directory: seeded users and the /v1.0/users routes the daemon uses to resolve lecturers.
import { randomUUID } from 'node:crypto';
import { requireRole, USER_READ_ROLES, type TokenClaims } from './graphAuth.js';
import { odataString, type GraphResult } from './http.js';
import { HttpError } from './httpErrors.js';
import type { EmulatorState } from './state.js';
import type { EmulatorUser, EmulatorUserChange, EmulatorUserSeed } from './types.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function seedUsers(users: Map<string, EmulatorUser>, seeds: EmulatorUserSeed[]): EmulatorUser[] {
  return seeds.map((s) => {
    const user: EmulatorUser = {
      id: (s.id ?? randomUUID()).toLowerCase(),
      displayName: s.displayName,
      userPrincipalName: s.userPrincipalName,
      mail: s.mail ?? null,
      proxyAddresses: s.proxyAddresses ?? (s.mail ? [`SMTP:${s.mail}`] : []),
      userType: s.userType ?? 'Member',
      accountEnabled: s.accountEnabled ?? true,
      teamsLicensed: s.teamsLicensed ?? true,
    };
    users.set(user.id, user);
    return { ...user };
  });
}

/** Makes a seeded user a guest, disables it or takes its Teams licence (control API). */
export function changeUser(
  users: Map<string, EmulatorUser>,
  userId: string,
  change: EmulatorUserChange,
): EmulatorUser {
  const user = users.get(userId.toLowerCase());
  if (!user) throw new Error(`unknown user ${userId}`);
  Object.assign(user, {
    ...(change.userType !== undefined ? { userType: change.userType } : {}),
    ...(change.accountEnabled !== undefined ? { accountEnabled: change.accountEnabled } : {}),
    ...(change.teamsLicensed !== undefined ? { teamsLicensed: change.teamsLicensed } : {}),
  });
  return { ...user };
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

// Office 365 E3, which includes Teams: what a licensed user's assignedLicenses shows.
const TEAMS_SKU = '6fd2c87f-b296-42f0-b197-1e91e994b900';

/** Every user property the emulator knows, by canonical name (Graph's $select is case-insensitive). */
function allProperties(u: EmulatorUser): Record<string, unknown> {
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
    userType: u.userType,
    accountEnabled: u.accountEnabled,
    proxyAddresses: [...u.proxyAddresses],
    assignedLicenses: u.teamsLicensed ? [{ disabledPlans: [], skuId: TEAMS_SKU }] : [],
    otherMails: [],
    department: null,
    companyName: null,
    usageLocation: null,
    createdDateTime: null,
    onPremisesSyncEnabled: null,
    externalUserState: u.userType === 'Guest' ? 'Accepted' : null,
  };
}

/** Without $select Graph returns this default set; userType and accountEnabled only when selected. */
const DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const SAMPLE: EmulatorUser = {
  id: '',
  displayName: '',
  userPrincipalName: '',
  mail: null,
  proxyAddresses: [],
  userType: 'Member',
  accountEnabled: true,
  teamsLicensed: true,
};
/** Lower-cased name → canonical name, for every property $select may name. */
const KNOWN = new Map(Object.keys(allProperties(SAMPLE)).map((k) => [k.toLowerCase(), k]));

/** The properties `$select` names (canonical names, in its order); the default set without it. */
function selection(query: URLSearchParams): { names: string[]; selected: boolean } {
  const raw = query.get('$select');
  if (raw === null || !raw.trim()) return { names: DEFAULT_PROPERTIES, selected: false };
  const names = raw.split(',').map((name) => {
    const known = KNOWN.get(name.trim().toLowerCase());
    if (!known)
      throw new HttpError(
        400,
        'Request_BadRequest',
        `Could not find a property named '${name.trim()}' on type 'Microsoft.DirectoryServices.User'.`,
      );
    return known;
  });
  return { names: [...new Set(names)], selected: true };
}

function userPayload(u: EmulatorUser, names: string[]): Record<string, unknown> {
  const all = allProperties(u);
  return Object.fromEntries(names.map((n) => [n, all[n]]));
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
  const { names, selected } = selection(query);
  const payload = (u: EmulatorUser) => userPayload(u, names);
  const context = `${state.url}/v1.0/$metadata#users${selected ? `(${names.join(',')})` : ''}`;
  if (segments.length === 1) {
    const filter = query.get('$filter');
    if (!filter)
      return { status: 200, write: false, body: { value: [...state.users.values()].map(payload) } };
    return {
      status: 200,
      write: false,
      body: { '@odata.context': context, value: filterUsers(state, filter).map(payload) },
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
    body: { '@odata.context': `${context}/$entity`, ...payload(user) },
  };
}
