import { QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  SYNC_QUEUE_NAME,
  createStateStore,
  decodeSyncMessage,
  encodeSyncMessage,
  storageNames,
} from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';

const azurite = useAzurite();

const ICS_A =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//uni//tt//EN\r\nX-WR-CALNAME:Vorlesung Übung – Café\r\nEND:VCALENDAR\r\n';
const ICS_B = ICS_A.replace('Café', 'Mensa');

describe('feedBodies', () => {
  it('stores every accepted body as its own version and reads each back exactly', async () => {
    const store = await azurite.store();
    const { version: v1 } = await store.feedBodies.put('cs-101', ICS_A);
    const { version: v2 } = await store.feedBodies.put('cs-101', ICS_B);
    expect(v1).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{16}$/);
    expect(v2).not.toBe(v1);
    expect(await store.feedBodies.get('cs-101', v1)).toBe(ICS_A);
    expect(await store.feedBodies.get('cs-101', v2)).toBe(ICS_B);
    expect(await store.feedBodies.list('cs-101')).toEqual([v1, v2].sort());
    expect(await store.feedBodies.get('cs-101', '20000101T000000000Z-0000000000000000')).toBeNull();
    expect(await store.feedBodies.get('other', v1)).toBeNull();
    await expect(store.feedBodies.get('cs-101', '../x')).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('deleteAll removes the feed’s versions and no other feed’s', async () => {
    const store = await azurite.store();
    await store.feedBodies.put('cs-101', ICS_A);
    await store.feedBodies.put('cs-101', ICS_B);
    const { version: kept } = await store.feedBodies.put('cs-1010', ICS_A); // shares a name prefix
    expect(await store.feedBodies.deleteAll('cs-101')).toBe(2);
    expect(await store.feedBodies.list('cs-101')).toEqual([]);
    expect(await store.feedBodies.get('cs-1010', kept)).toBe(ICS_A);
    expect(await store.feedBodies.deleteAll('cs-101')).toBe(0);
  });
});

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

  it('receive hands out messages the way the queue trigger gets them: complete deletes, poison moves', async () => {
    const store = await azurite.store();
    await store.syncQueue.enqueue({ feedId: 'done', reason: 'test', requestedAt: '2027-01-04T08:00:00Z' });
    await store.syncQueue.enqueue({ feedId: 'broken', reason: 'test', requestedAt: '2027-01-04T08:00:00Z' });
    const received = await store.syncQueue.receive(8, 30);
    expect(received.map((m) => decodeSyncMessage(m.text)?.feedId).sort()).toEqual(['broken', 'done']);
    expect(received.every((m) => m.dequeueCount === 1)).toBe(true);
    for (const message of received) await (decodeSyncMessage(message.text)?.feedId === 'done' ? message.complete() : message.poison());
    expect(await store.syncQueue.receive(8, 30)).toEqual([]);
    expect(await store.syncQueue.peekPoison(5)).toEqual({ count: 1, feedIds: ['broken'] });
  });

  it('receive: retryLater makes a message visible again, delivered once more', async () => {
    const store = await azurite.store();
    await store.syncQueue.enqueue({ feedId: 'flaky', reason: 'test', requestedAt: '2027-01-04T08:00:00Z' });
    const [first] = await store.syncQueue.receive(1, 30);
    await first?.retryLater(0);
    const [again] = await store.syncQueue.receive(1, 30);
    expect(again?.dequeueCount).toBe(2);
    expect(decodeSyncMessage(again?.text ?? '')?.feedId).toBe('flaky');
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
