// Minimal JWT (JWS compact) signing and verification with node:crypto, enough for the emulator's
// access tokens (RS256) and for verifying client assertions (RS256 or PS256, as msal-node signs
// them: PS256 with an `x5t#S256` header when a SHA-256 thumbprint is configured).
import {
  X509Certificate,
  createHash,
  createPublicKey,
  sign,
  verify,
  constants,
  type KeyObject,
} from 'node:crypto';

export type JwtHeader = { alg: string; typ?: string; kid?: string; x5t?: string; 'x5t#S256'?: string };
export type JwtClaims = Record<string, unknown>;

function b64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

export function signJwt(
  claims: JwtClaims,
  privateKey: KeyObject,
  header: Omit<JwtHeader, 'alg'> = {},
): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }));
  const body = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), privateKey);
  return `${head}.${body}.${b64url(signature)}`;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: Buffer;
  signature: Buffer;
}

/** Parses a compact JWS; null when it is not well formed. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [head, body, sig] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as JwtHeader;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as JwtClaims;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null)
      return null;
    return {
      header,
      claims,
      signingInput: Buffer.from(`${head}.${body}`),
      signature: Buffer.from(sig, 'base64url'),
    };
  } catch {
    return null;
  }
}

/** Verifies an RS256 / PS256 signature with a public key. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  switch (jwt.header.alg) {
    case 'RS256':
      return verify('sha256', jwt.signingInput, publicKey, jwt.signature);
    case 'PS256':
      return verify(
        'sha256',
        jwt.signingInput,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        jwt.signature,
      );
    default:
      return false;
  }
}

export interface RegisteredCertificate {
  publicKey: KeyObject;
  /** base64url SHA-256 / SHA-1 of the DER certificate (as in `x5t#S256` / `x5t` headers). */
  x5tS256: string;
  x5t: string;
  /** Hex SHA-256 thumbprint (what the app is configured with). */
  thumbprintSha256: string;
}

export function registerCertificate(certPem: string): RegisteredCertificate {
  const cert = new X509Certificate(certPem);
  const sha256 = createHash('sha256').update(cert.raw).digest();
  const sha1 = createHash('sha1').update(cert.raw).digest();
  return {
    publicKey: createPublicKey(certPem),
    x5tS256: sha256.toString('base64url'),
    x5t: sha1.toString('base64url'),
    thumbprintSha256: sha256.toString('hex').toUpperCase(),
  };
}
