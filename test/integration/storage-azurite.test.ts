import { TableServiceClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { startAzurite } from '../../src/dev/azurite.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startAzurite', () => {
  it('serves all three services on distinct free ports, and stop() is idempotent and leaves no process', async () => {
    const azurite = await startAzurite();
    try {
      expect(new Set([azurite.blobPort, azurite.queuePort, azurite.tablePort]).size).toBe(3);
      expect(azurite.connectionString).toContain(
        `TableEndpoint=http://127.0.0.1:${azurite.tablePort}/devstoreaccount1`,
      );
      expect(isAlive(azurite.pid)).toBe(true);
      const tables = TableServiceClient.fromConnectionString(azurite.connectionString, {
        allowInsecureConnection: true,
      });
      await tables.createTable('probe');
    } finally {
      await Promise.all([azurite.stop(), azurite.stop()]);
      await azurite.stop();
    }
    expect(isAlive(azurite.pid)).toBe(false);
  });

  it('two instances run side by side', async () => {
    const [a, b] = await Promise.all([startAzurite(), startAzurite()]);
    try {
      expect(a.tablePort).not.toBe(b.tablePort);
      expect(a.pid).not.toBe(b.pid);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(isAlive(a.pid) || isAlive(b.pid)).toBe(false);
  });

  it('fails loudly, with Azurite’s own output, when it cannot start', async () => {
    // A location that is a file, not a directory, makes Azurite exit during start-up.
    const error = await startAzurite({ location: '/dev/null/not-a-dir' }).then(
      (started) => {
        void started.stop();
        throw new Error('Azurite started unexpectedly');
      },
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/Azurite (exited|did not accept)/);
    expect(error.message).toContain('Azurite output');
  });
});
