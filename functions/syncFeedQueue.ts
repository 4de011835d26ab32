// Queue: syncs one feed per message; the host retries failures and moves repeated ones to the poison queue.
// Registration imports no SDK; the sync handler (and the SDKs behind it) loads on the first message.
import { app, type InvocationContext } from '@azure/functions';
import { SYNC_QUEUE_NAME } from '../src/storage/names.js';

let handlers: Promise<typeof import('../src/handlers/sync.js')> | undefined;
const loadHandlers = (): Promise<typeof import('../src/handlers/sync.js')> =>
  (handlers ??= import('../src/handlers/sync.js').catch((error: unknown) => {
    handlers = undefined;
    throw error;
  }));

export async function syncFeedQueue(message: unknown, context: InvocationContext): Promise<void> {
  await (await loadHandlers()).syncFeedFromMessage(message, context);
}

app.storageQueue('syncFeedQueue', {
  queueName: SYNC_QUEUE_NAME,
  connection: 'AzureWebJobsStorage',
  handler: syncFeedQueue,
});
