// Tokens of organizer calendars (`/api/calendars/organizers/{email}.ics?token=...`).
//
// An organizer's sessions span feeds, so no single feed token fits. The token is
// HMAC-SHA256(deployment key, "organizer-calendar:" + normalised e-mail), base64url: nothing per
// organizer is stored, a token reveals nothing about the key or other organizers, and it is checked in
// constant time. The deployment key (256 random bits) is the `organizer-calendar-hmac` row of the
// storage layer's deployment keys (`services.store.deploymentKeys`), created on first use by whichever
// instance gets there first (insert-if-absent, so all instances agree). Rotating the key (admin route)
// invalidates every organizer link at once; feed links are unaffected.
import { createHmac, randomBytes } from 'node:crypto';

import type { AppServices } from '../compose.js';
import { normalizeEmail } from '../core/identity.js';
import { constantTimeEqual } from '../core/constantTime.js';
import type { DeploymentKeyRepository } from '../storage/index.js';

export interface OrganizerKeyStore {
  /** The current key (created when missing). */
  current(): Promise<Buffer>;
  /** Replaces the key: every organizer calendar link issued so far stops working. */
  rotate(): Promise<void>;
}

/** The name of the organizer-calendar key among the deployment keys. */
export const ORGANIZER_KEY_NAME = 'organizer-calendar-hmac';
/** Another instance's rotation takes effect here within this time. */
const CACHE_MS = 5 * 60_000;

const KEY_BYTES = 32;
const newKey = (): string => randomBytes(KEY_BYTES).toString('base64');

function decodeKey(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  // A hand-edited or truncated row must not quietly become a weak HMAC key (the value is not quoted).
  if (key.length < KEY_BYTES)
    throw new Error(`the ${ORGANIZER_KEY_NAME} deployment key is shorter than ${KEY_BYTES} bytes: rotate it`);
  return key;
}

export function createOrganizerKeyStore(
  keys: DeploymentKeyRepository,
  now: () => number = Date.now,
): OrganizerKeyStore {
  let cached: { key: Buffer; at: number } | null = null;
  return {
    async current() {
      if (cached && now() - cached.at < CACHE_MS) return cached.key;
      const stored = await keys.getOrCreate(ORGANIZER_KEY_NAME, newKey);
      const key = decodeKey(stored.value);
      cached = { key, at: now() };
      return key;
    },
    async rotate() {
      const stored = await keys.rotate(ORGANIZER_KEY_NAME, newKey());
      cached = { key: decodeKey(stored.value), at: now() };
    },
  };
}

const stores = new WeakMap<object, OrganizerKeyStore>();

/** The key store of these services' storage (one per store, so the cache is shared by its callers). */
export function organizerKeyStoreFor(services: Pick<AppServices, 'store'>): Promise<OrganizerKeyStore> {
  let store = stores.get(services.store);
  if (!store) {
    store = createOrganizerKeyStore(services.store.deploymentKeys);
    stores.set(services.store, store);
  }
  return Promise.resolve(store);
}

export function organizerToken(key: Buffer, email: string): string {
  return createHmac('sha256', key)
    .update(`organizer-calendar:${normalizeEmail(email)}`, 'utf8')
    .digest('base64url');
}

export function isValidOrganizerToken(key: Buffer, email: string, token: string): boolean {
  return constantTimeEqual(token, organizerToken(key, email));
}
