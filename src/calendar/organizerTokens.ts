// Tokens of organizer calendars (`/api/calendars/organizers/{email}.ics?token=...`).
//
// An organizer's sessions span feeds, so no single feed token fits. The token is
// HMAC-SHA256(deployment key, "organizer-calendar:" + normalised e-mail), base64url: nothing per
// organizer is stored, a token reveals nothing about the key or other organizers, and it is checked in
// constant time. The deployment key (256 random bits) lives in the `calendarkeys` table, created on
// first use by whichever instance gets there first (insert-if-absent, so all instances agree).
// Rotating the key (admin route) invalidates every organizer link at once; feed links are unaffected.
//
// The table client is built here rather than in compose.ts/src/storage only because those files
// belong to other work streams; it follows storage's own rules (see createStateStore).
import { createHmac, randomBytes } from 'node:crypto';

import { TableClient } from '@azure/data-tables';

import type { AppServices } from '../compose.js';
import { normalizeEmail } from '../core/identity.js';
import { constantTimeEqual } from '../http/auth.js';

export interface OrganizerKeyStore {
  /** The current key (created when missing). */
  current(): Promise<Buffer>;
  /** Replaces the key: every organizer calendar link issued so far stops working. */
  rotate(): Promise<void>;
}

const PARTITION = 'calendar';
const ROW = 'organizer-hmac';
/** Another instance's rotation takes effect here within this time. */
const CACHE_MS = 5 * 60_000;

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as { statusCode?: number }).statusCode : undefined;
}

export function createTableOrganizerKeyStore(client: TableClient, now: () => number = Date.now): OrganizerKeyStore {
  let cached: { key: Buffer; at: number } | null = null;
  let ensured: Promise<void> | null = null;
  const ensureTable = () => {
    ensured ??= client.createTable().catch((error: unknown) => {
      ensured = null;
      throw error;
    });
    return ensured;
  };
  const read = async (): Promise<Buffer | null> => {
    try {
      const entity = await client.getEntity<{ key: string }>(PARTITION, ROW);
      return Buffer.from(entity.key, 'base64');
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  };
  return {
    async current() {
      if (cached && now() - cached.at < CACHE_MS) return cached.key;
      await ensureTable();
      let key = await read();
      if (!key) {
        const fresh = randomBytes(32);
        try {
          await client.createEntity({ partitionKey: PARTITION, rowKey: ROW, key: fresh.toString('base64'), createdAt: new Date(now()).toISOString() });
          key = fresh;
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
          key = await read(); // another instance created it first: use theirs
        }
      }
      if (!key) throw new Error('organizer calendar key could not be read back');
      cached = { key, at: now() };
      return key;
    },
    async rotate() {
      await ensureTable();
      const fresh = randomBytes(32);
      await client.upsertEntity({ partitionKey: PARTITION, rowKey: ROW, key: fresh.toString('base64'), createdAt: new Date(now()).toISOString() }, 'Replace');
      cached = { key: fresh, at: now() };
    },
  };
}

/** `calendarkeys` with the store's name prefix (tests use prefixed tables). */
export function calendarKeyTableName(services: Pick<AppServices, 'store'>): string {
  const feeds = services.store.names.tables.feeds;
  return `${feeds.slice(0, feeds.length - 'feeds'.length)}calendarkeys`;
}

const stores = new WeakMap<object, Promise<OrganizerKeyStore>>();

/** The key store of these services' storage account (one per services object). */
export function organizerKeyStoreFor(services: Pick<AppServices, 'store' | 'config'>): Promise<OrganizerKeyStore> {
  let store = stores.get(services.store);
  if (!store) {
    store = (async () => {
      const storage = services.config.storage;
      if (!storage) throw new Error('AzureWebJobsStorage: required for organizer calendars');
      const table = calendarKeyTableName(services);
      if (storage.kind === 'connectionString') {
        const allowInsecureConnection = /(^|;)\s*(DefaultEndpointsProtocol=http|TableEndpoint=http:|UseDevelopmentStorage=true)/i.test(storage.connectionString);
        return createTableOrganizerKeyStore(TableClient.fromConnectionString(storage.connectionString, table, { allowInsecureConnection }));
      }
      const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
      const credential = storage.clientId ? new ManagedIdentityCredential({ clientId: storage.clientId }) : new DefaultAzureCredential();
      return createTableOrganizerKeyStore(new TableClient(`https://${storage.accountName}.table.core.windows.net`, table, credential));
    })();
    stores.set(services.store, store);
  }
  return store;
}

export function organizerToken(key: Buffer, email: string): string {
  return createHmac('sha256', key).update(`organizer-calendar:${normalizeEmail(email)}`, 'utf8').digest('base64url');
}

export function isValidOrganizerToken(key: Buffer, email: string, token: string): boolean {
  return constantTimeEqual(token, organizerToken(key, email));
}
