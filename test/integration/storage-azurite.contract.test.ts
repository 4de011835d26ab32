// The StateStore contract (test/support/state-store-contract.ts) on real Azurite: each case gets its
// own prefixed tables, container and queues; the emulator runs for the whole file.
import { useAzurite } from '../support/azurite.js';
import { describeStateStoreContract } from '../support/state-store-contract.js';

const azurite = useAzurite();

describeStateStoreContract('Azurite', async () => ({
  store: await azurite.store(),
  // Azurite runs in memory and stops after the file: nothing to remove per case.
  cleanup: () => Promise.resolve(),
}));
