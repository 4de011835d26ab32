// One real Azurite per test file: started in beforeAll (a failure to start fails the file loudly),
// stopped in afterAll. Each store() gets fresh, uniquely prefixed tables, container and queues, so
// tests in a file never see each other's rows.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import { createStateStore, type StateStore } from '../../src/storage/index.js';

export interface AzuriteFixture {
  /** The running emulator (throws if read before beforeAll has run). */
  readonly instance: AzuriteInstance;
  readonly connectionString: string;
  /** A state store with its own namePrefix, already ensure()d. */
  store(prefix?: string): Promise<StateStore>;
}

export function useAzurite(): AzuriteFixture {
  let instance: AzuriteInstance | undefined;
  beforeAll(async () => {
    instance = await startAzurite();
  });
  afterAll(async () => {
    await instance?.stop();
  });
  const running = (): AzuriteInstance => {
    if (!instance)
      throw new Error(
        'Azurite is not running: call useAzurite() at the top of the file and use it inside tests',
      );
    return instance;
  };
  return {
    get instance() {
      return running();
    },
    get connectionString() {
      return running().connectionString;
    },
    async store(prefix) {
      const namePrefix = prefix ?? `t${randomBytes(5).toString('hex')}`;
      const store = createStateStore({ connectionString: running().connectionString, namePrefix });
      await store.ensure();
      return store;
    },
  };
}
