// How Graph checks the bearer token and the app's roles before any /v1.0 route runs.
import type { IncomingMessage } from 'node:http';
import { GRAPH_APP_ID, GRAPH_RESOURCES } from './entra.js';
import { HttpError } from './httpErrors.js';
import { decodeJwt, verifyJwtSignature } from './jwt.js';
import type { EmulatorState } from './state.js';

export const USER_READ_ROLES = [
  'User.Read.All',
  'User.ReadBasic.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
export const MEETING_WRITE_ROLES = ['OnlineMeetings.ReadWrite.All'];
export const MEETING_READ_ROLES = ['OnlineMeetings.Read.All', 'OnlineMeetings.ReadWrite.All'];

export interface TokenClaims {
  appid: string;
  tid: string;
  roles: string[];
  exp: number;
}

export function authenticateGraph(state: EmulatorState, req: IncomingMessage): TokenClaims {
  const header = req.headers.authorization ?? '';
  const challenge = {
    'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
  };
  const invalid = (message: string) => new HttpError(401, 'InvalidAuthenticationToken', message, challenge);
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw invalid('Access token is empty.');
  const jwt = decodeJwt(match[1]);
  if (!jwt) throw invalid('IDX14100: JWT is not well formed, there are no dots (.).');
  if (jwt.header.alg !== 'RS256' || !verifyJwtSignature(jwt, state.signing.publicKey))
    throw invalid('Access token validation failure.');
  const c = jwt.claims;
  if (c.aud !== GRAPH_RESOURCES[state.cloud] && c.aud !== GRAPH_APP_ID)
    throw invalid('Access token validation failure. Invalid audience.');
  if (typeof c.exp !== 'number' || c.exp * 1000 <= state.now())
    throw invalid('Lifetime validation failed, the token is expired.');
  if (c.tid !== state.tenantId || typeof c.appid !== 'string')
    throw invalid('Access token validation failure.');
  return {
    appid: c.appid,
    tid: c.tid,
    roles: Array.isArray(c.roles) ? (c.roles as string[]) : [],
    exp: c.exp,
  };
}

/** 403 unless the token holds one of `accepted`; the directory words its refusal differently from Teams. */
export function requireRole(token: TokenClaims, accepted: string[]): void {
  if (accepted.some((r) => token.roles.includes(r))) return;
  if (accepted === USER_READ_ROLES)
    throw new HttpError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  throw new HttpError(
    403,
    'Forbidden',
    `Missing role permissions on the request. API requires one of '${accepted.join(', ')}'. Roles on the request '${token.roles.join(', ')}'.`,
  );
}
