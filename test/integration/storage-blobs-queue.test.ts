// What only the Azure Blob/Queue side does (the shared behaviour is the StateStore contract,
// test/integration/storage-azurite.contract.test.ts): the message encoding the Functions host reads,
// poison messages written by the host, and building the store from a connection string.
import { QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  SYNC_QUEUE_NAME,
  createStateStore,
  encodeSyncMessage,
  storageNames,
} from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';

const azurite = useAzurite();

describe('syncQueue', () => {
  it('enqueues base64 JSON that a consumer decodes to the message', async () => {
    const store = await azurite.store('qtest');
    expect(store.syncQueue.name).toBe(`qtest-${SYNC_QUEUE_NAME}`);
    const message = { feedId: 'cs-101', reason: 'timer', requestedAt: '2026-02-01T10:00:00.000Z' };
    await store.syncQueue.enqueue(message);

    const consumer = new QueueClient(azurite.connectionString, store.syncQueue.name);
    const { receivedMessageItems } = await consumer.receiveMessages({ numberOfMessages: 5 });
    expect(receivedMessageItems).toHaveLength(1);
    const text = receivedMessageItems[0]!.messageText;
    expect(text).toBe(encodeSyncMessage(message));
    expect(JSON.parse(Buffer.from(text, 'base64').toString('utf8'))).toEqual(message);
    await expect(store.syncQueue.enqueue({ ...message, feedId: 'a/b' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('peekPoison counts poison messages and names their feeds without removing them', async () => {
    const store = await azurite.store();
    expect(await store.syncQueue.peekPoison(10)).toEqual({ count: 0, feedIds: [] });
    // What the Functions host does after maxDequeueCount failures: the same text, in `<queue>-poison`.
    const poison = new QueueClient(azurite.connectionString, store.syncQueue.poisonName);
    for (const feedId of ['cs-101', 'ma-200', 'ph-300']) {
      await poison.sendMessage(
        encodeSyncMessage({ feedId, reason: 'timer', requestedAt: '2026-02-01T10:00:00.000Z' }),
      );
    }
    await poison.sendMessage('not json at all');
    expect(await store.syncQueue.peekPoison(2)).toEqual({ count: 4, feedIds: ['cs-101', 'ma-200'] });
    expect(await store.syncQueue.peekPoison(10)).toEqual({
      count: 4,
      feedIds: ['cs-101', 'ma-200', 'ph-300', '(unreadable)'],
    });
  });

  it('peekPoison reports zero when the poison queue was never created', async () => {
    const store = createStateStore({ connectionString: azurite.connectionString, namePrefix: 'noensure' });
    expect(await store.syncQueue.peekPoison(5)).toEqual({ count: 0, feedIds: [] });
  });
});

describe('state store setup', () => {
  it('ensure() is idempotent across stores and calls, and names follow the prefix', async () => {
    const first = await azurite.store('same');
    const second = createStateStore({ connectionString: azurite.connectionString, namePrefix: 'same' });
    await Promise.all([second.ensure(), second.ensure(), first.ensure()]);
    expect(second.names).toEqual(storageNames('same'));
    expect(storageNames()).toMatchObject({
      queue: 'sync-feeds',
      poisonQueue: 'sync-feeds-poison',
      container: 'feed-bodies',
      tables: { feeds: 'feeds' },
    });
  });

  it('refuses bad prefixes, and a malformed connection string fails without echoing it', () => {
    expect(() =>
      createStateStore({ connectionString: azurite.connectionString, namePrefix: 'Bad-Prefix' }),
    ).toThrow(InvalidInputError);
    const secret = 'AccountKey=c2VjcmV0c2VjcmV0';
    let message = '';
    try {
      createStateStore({ connectionString: `garbage;${secret}` });
    } catch (error) {
      message = String(error) + JSON.stringify(error);
    }
    expect(message).toMatch(/malformed/);
    expect(message).not.toContain('c2VjcmV0c2VjcmV0');
  });

  it('storage errors do not carry the account key in their message', async () => {
    const store = await azurite.store();
    const error = (await store.feeds.delete('nothing-here').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toContain('Eby8vdM02');
    expect(error.message).not.toContain(azurite.connectionString);
  });
});
