// Deployment keys (src/storage/deploymentKeys.ts) on real Azurite where it differs from the in-memory store
// (the shared behaviour is the StateStore contract), and the organizer-calendar key store built on them
// (src/calendar/organizerTokens.ts).
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import {
  createOrganizerKeyStore,
  organizerKeyStoreFor,
  organizerToken,
  ORGANIZER_KEY_NAME,
} from '../../src/calendar/organizerTokens.js';
import { createStateStore, StorageError, storageNames } from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';

const azurite = useAzurite();

describe('deployment keys', () => {
  it('has its own prefixed table, created by ensure()', async () => {
    expect(storageNames().tables.deploymentKeys).toBe('deploymentkeys');
    const store = await azurite.store('keysnames');
    expect(store.names.tables.deploymentKeys).toBe('keysnamesdeploymentkeys');
    // ensure() made the table: a read of a missing row is null, not "table not found".
    await expect(store.deploymentKeys.get('absent')).resolves.toBeNull();
  });

  it('instances racing on first use all end up with the one key that was inserted', async () => {
    const prefix = 'keysrace';
    await azurite.store(prefix);
    const stores = Array.from({ length: 8 }, () =>
      createStateStore({ connectionString: azurite.connectionString, namePrefix: prefix }),
    );
    const results = await Promise.all(
      stores.map((store, index) => store.deploymentKeys.getOrCreate('shared', () => `candidate-${index}`)),
    );
    const values = new Set(results.map((r) => r.value));
    expect(values.size).toBe(1);
    expect((await stores[0]!.deploymentKeys.get('shared'))?.value).toBe([...values][0]);
  });

  it('a row of the wrong shape is corruptRow, and the message names the row, not the value', async () => {
    const store = await azurite.store();
    const table = TableClient.fromConnectionString(
      azurite.connectionString,
      store.names.tables.deploymentKeys,
      {
        allowInsecureConnection: true,
      },
    );
    await table.createEntity({ partitionKey: 'key', rowKey: 'broken', value: 'hunter2-secret' }); // no createdAt
    const error = await store.deploymentKeys.get('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('corruptRow');
    expect((error as Error).message).toContain('deploymentkeys/key/broken');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('organizer key store on deployment keys', () => {
  it('creates a 256-bit key on first use, caches it, and two instances agree', async () => {
    const store = await azurite.store();
    const a = createOrganizerKeyStore(store.deploymentKeys);
    const b = createOrganizerKeyStore(store.deploymentKeys);
    const [keyA, keyB] = await Promise.all([a.current(), b.current()]);
    expect(keyA.length).toBe(32);
    expect(keyB.equals(keyA)).toBe(true);
    const stored = await store.deploymentKeys.get(ORGANIZER_KEY_NAME);
    expect(Buffer.from(stored?.value ?? '', 'base64').equals(keyA)).toBe(true);
    expect(organizerToken(keyA, 'Ada@Uni.example')).toBe(organizerToken(keyB, 'ada@uni.example'));
  });

  it('rotate takes effect at once here and on other instances when their 5-minute cache expires', async () => {
    const store = await azurite.store();
    let nowMs = 1_000_000;
    const here = createOrganizerKeyStore(store.deploymentKeys, () => nowMs);
    const there = createOrganizerKeyStore(store.deploymentKeys, () => nowMs);
    const before = await here.current();
    expect((await there.current()).equals(before)).toBe(true);
    await here.rotate();
    const after = await here.current();
    expect(after.equals(before)).toBe(false);
    expect((await there.current()).equals(before)).toBe(true); // cached
    nowMs += 5 * 60_000;
    expect((await there.current()).equals(after)).toBe(true);
  });

  it('organizerKeyStoreFor gives one store per state store', async () => {
    const store = await azurite.store();
    const first = await organizerKeyStoreFor({ store });
    expect(await organizerKeyStoreFor({ store })).toBe(first);
    const other = await azurite.store();
    expect(await organizerKeyStoreFor({ store: other })).not.toBe(first);
  });

  it('a stored key that is too short is refused rather than used', async () => {
    const store = await azurite.store();
    await store.deploymentKeys.rotate(ORGANIZER_KEY_NAME, Buffer.alloc(4).toString('base64'));
    await expect(createOrganizerKeyStore(store.deploymentKeys).current()).rejects.toThrow(
      /shorter than 32 bytes/,
    );
  });
});
