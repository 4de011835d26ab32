// The sync queue and its poison queue in memory, behaving like Azure Queue Storage as the SyncQueue
// wrapper (syncQueue.ts) uses it: visibility timeouts on an injectable clock, dequeue counts, pop
// receipts that a later receive or update invalidates, and visible messages in visibility-time order.

import { StorageError } from './errors.js';
import {
  encodeSyncMessage,
  poisonFeedIds,
  receiveCount,
  requirePeekLimit,
  type ReceivedSyncMessage,
  type SyncQueue,
} from './syncQueue.js';
import { answer } from './memoryTable.js';
import { requireFeedId } from './table.js';

/** The longest visibility timeout the service accepts (7 days). */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;

interface Message {
  id: string;
  text: string;
  dequeueCount: number;
  visibleAt: number;
  /** Ties in visibleAt go in the order the messages were (re)scheduled, as the service does. */
  order: number;
  popReceipt: string | null;
}

interface Lease {
  id: string;
  text: string;
  dequeueCount: number;
  popReceipt: string;
}

/** The service's 400/404 answers: the wrapper lets them through as they are, so here a StorageError. */
function refused(what: string, status: number, code: string): StorageError {
  return new StorageError('unavailable', `${what} failed (status ${status}, ${code})`);
}

function visibility(what: string, seconds: number, min: number): void {
  if (!Number.isInteger(seconds) || seconds < min || seconds > MAX_VISIBILITY_SECONDS)
    throw refused(what, 400, 'OutOfRangeQueryParameterValue');
}

export class MemoryQueue {
  private readonly messages = new Map<string, Message>();
  private sequence = 0;

  constructor(
    readonly name: string,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.messages.size;
  }

  send(text: string, delaySeconds = 0): void {
    const id = `${this.name}-${++this.sequence}`;
    this.messages.set(id, {
      id,
      text,
      dequeueCount: 0,
      visibleAt: this.now() + Math.ceil(delaySeconds) * 1000,
      order: this.sequence,
      popReceipt: null,
    });
  }

  private visible(): Message[] {
    const now = this.now();
    return [...this.messages.values()]
      .filter((message) => message.visibleAt <= now)
      .sort((a, b) => a.visibleAt - b.visibleAt || a.order - b.order);
  }

  receive(count: number, visibilitySeconds: number): Lease[] {
    visibility(`receive from ${this.name}`, visibilitySeconds, 1);
    return this.visible()
      .slice(0, count)
      .map((message) => {
        message.dequeueCount += 1;
        this.schedule(message, visibilitySeconds);
        return {
          id: message.id,
          text: message.text,
          dequeueCount: message.dequeueCount,
          popReceipt: message.popReceipt ?? '',
        };
      });
  }

  peek(count: number): string[] {
    return this.visible()
      .slice(0, count)
      .map((message) => message.text);
  }

  delete(id: string, popReceipt: string): void {
    this.leased(`delete ${this.name}/${id}`, id, popReceipt);
    this.messages.delete(id);
  }

  /** Makes the message visible again after `seconds`; returns the new pop receipt. */
  update(id: string, popReceipt: string, seconds: number): string {
    const what = `update ${this.name}/${id}`;
    const message = this.leased(what, id, popReceipt);
    visibility(what, seconds, 0);
    this.schedule(message, seconds);
    return message.popReceipt ?? '';
  }

  private schedule(message: Message, seconds: number): void {
    message.visibleAt = this.now() + seconds * 1000;
    message.order = ++this.sequence;
    message.popReceipt = `receipt-${this.sequence}`;
  }

  /** The message, if `popReceipt` is still its own (a receipt stays valid until the next receive or update). */
  private leased(what: string, id: string, popReceipt: string): Message {
    const message = this.messages.get(id);
    if (!message) throw refused(what, 404, 'MessageNotFound');
    if (message.popReceipt !== popReceipt) throw refused(what, 400, 'PopReceiptMismatch');
    return message;
  }
}

/** The SyncQueue wrapper on memory queues: the same calls syncQueue.ts makes on the SDK's. */
export function createMemorySyncQueue(queue: MemoryQueue, poison: MemoryQueue): SyncQueue {
  return {
    name: queue.name,
    poisonName: poison.name,
    enqueue: (message, options = {}) =>
      answer(() => {
        requireFeedId(message.feedId);
        queue.send(encodeSyncMessage(message), options.delaySeconds ?? 0);
      }),
    receive: (max, visibilitySeconds) =>
      answer(() =>
        queue.receive(receiveCount(max), visibilitySeconds).map((lease): ReceivedSyncMessage => {
          let popReceipt = lease.popReceipt;
          return {
            text: lease.text,
            dequeueCount: lease.dequeueCount,
            id: lease.id,
            complete: () => answer(() => queue.delete(lease.id, popReceipt)),
            retryLater: (seconds) =>
              answer(() => {
                popReceipt = queue.update(lease.id, popReceipt, seconds);
              }),
            poison: () =>
              answer(() => {
                poison.send(lease.text);
                queue.delete(lease.id, popReceipt);
              }),
          };
        }),
      ),
    peekPoison: (limit) =>
      answer(() => {
        requirePeekLimit(limit);
        const count = poison.size;
        if (count === 0 || limit === 0) return { count, feedIds: [] };
        return { count, feedIds: poisonFeedIds(poison.peek(Math.min(limit, 32))) };
      }),
  };
}
