import type { QueueClient } from '@azure/storage-queue';
import { InvalidInputError, restErrorInfo, toStorageError } from './errors.js';
import { requireFeedId } from './table.js';
import type { SyncMessage } from './types.js';

// The queue names live in names.ts (no SDK imports, so trigger registrations can use them cheaply).
export { SYNC_QUEUE_NAME, POISON_SUFFIX } from './names.js';

export interface SyncQueue {
  readonly name: string;
  readonly poisonName: string;
  /** `delaySeconds`: invisible until then (a sync deferred behind another run of the feed). */
  enqueue(message: SyncMessage, options?: { delaySeconds?: number }): Promise<void>;
  /** Approximate number of poison messages, and the feed ids of up to `limit` (≤32) of them. */
  peekPoison(limit: number): Promise<{ count: number; feedIds: string[] }>;
  /**
   * Takes up to `max` (≤32) messages, invisible to others for `visibilitySeconds`: what the Functions
   * host does for the queue trigger. Only the local server (src/web/serve.ts) calls this.
   */
  receive(max: number, visibilitySeconds: number): Promise<ReceivedSyncMessage[]>;
}

export interface ReceivedSyncMessage {
  text: string;
  dequeueCount: number;
  id: string;
  /** Done: delete it. */
  complete(): Promise<void>;
  /** Failed: visible again after `seconds`. */
  retryLater(seconds: number): Promise<void>;
  /** Failed too often: move it to the poison queue. */
  poison(): Promise<void>;
}

/**
 * Base64 of the JSON: the Functions queue trigger decodes base64 by default (host.json
 * `extensions.queues.messageEncoding`), and hands the handler the parsed JSON object.
 */
export function encodeSyncMessage(message: SyncMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

/** Reads a message written by encodeSyncMessage (or plain JSON); null when it is neither. */
export function decodeSyncMessage(text: string): SyncMessage | null {
  for (const candidate of [Buffer.from(text, 'base64').toString('utf8'), text]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (
        typeof value === 'object' &&
        value !== null &&
        typeof (value as { feedId?: unknown }).feedId === 'string'
      ) {
        const { feedId, reason, requestedAt, force } = value as Record<string, unknown>;
        const text = (field: unknown): string => (typeof field === 'string' ? field : '');
        return {
          feedId: feedId as string,
          reason: text(reason),
          requestedAt: text(requestedAt),
          ...(force === true ? { force: true } : {}),
        };
      }
    } catch {
      // not this encoding; try the next
    }
  }
  return null;
}

/** How many messages one receive asks for: 1-32, what the service allows. */
export function receiveCount(max: number): number {
  return Math.min(Math.max(1, max), 32);
}

export function requirePeekLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0)
    throw new InvalidInputError('peekPoison limit must be a non-negative integer');
  return limit;
}

/** The feed ids peekPoison reports for the peeked message texts. */
export function poisonFeedIds(texts: readonly string[]): string[] {
  return texts.map((text) => decodeSyncMessage(text)?.feedId ?? '(unreadable)');
}

export function createSyncQueue(queue: QueueClient, poison: QueueClient): SyncQueue {
  return {
    name: queue.name,
    poisonName: poison.name,
    async enqueue(message, options = {}) {
      requireFeedId(message.feedId);
      try {
        await queue.sendMessage(
          encodeSyncMessage(message),
          options.delaySeconds ? { visibilityTimeout: Math.ceil(options.delaySeconds) } : {},
        );
      } catch (error) {
        throw toStorageError(error, `enqueue to ${queue.name}`);
      }
    },
    async receive(max, visibilitySeconds) {
      try {
        const received = await queue.receiveMessages({
          numberOfMessages: receiveCount(max),
          visibilityTimeout: visibilitySeconds,
        });
        return received.receivedMessageItems.map((item) => {
          let popReceipt = item.popReceipt;
          return {
            text: item.messageText,
            dequeueCount: item.dequeueCount,
            id: item.messageId,
            // Wrapped like every other storage call: callers (and the memory store) see StorageError only.
            complete: async () => {
              await queue.deleteMessage(item.messageId, popReceipt).catch((error: unknown) => {
                throw toStorageError(error, `complete message in ${queue.name}`);
              });
            },
            retryLater: async (seconds: number) => {
              try {
                popReceipt =
                  (await queue.updateMessage(item.messageId, popReceipt, undefined, seconds)).popReceipt ??
                  popReceipt;
              } catch (error) {
                throw toStorageError(error, `retry message in ${queue.name}`);
              }
            },
            poison: async () => {
              try {
                await poison.sendMessage(item.messageText);
                await queue.deleteMessage(item.messageId, popReceipt);
              } catch (error) {
                throw toStorageError(error, `move message to ${poison.name}`);
              }
            },
          };
        });
      } catch (error) {
        throw toStorageError(error, `receive from ${queue.name}`);
      }
    },
    async peekPoison(limit) {
      requirePeekLimit(limit);
      try {
        const properties = await poison.getProperties();
        const count = properties.approximateMessagesCount ?? 0;
        if (count === 0 || limit === 0) return { count, feedIds: [] };
        // Peek does not dequeue (the messages stay for an operator); the service returns at most 32.
        const peeked = await poison.peekMessages({ numberOfMessages: Math.min(limit, 32) });
        const feedIds = poisonFeedIds(peeked.peekedMessageItems.map((item) => item.messageText));
        return { count, feedIds };
      } catch (error) {
        // The host creates the poison queue on first use; no queue means no poison messages.
        if (restErrorInfo(error).statusCode === 404) return { count: 0, feedIds: [] };
        throw toStorageError(error, `peek ${poison.name}`);
      }
    },
  };
}
