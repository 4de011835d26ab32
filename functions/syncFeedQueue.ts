// Queue: syncs one feed per message; the host retries failures and moves repeated ones to the poison queue.
import { app, type InvocationContext } from '@azure/functions';
import { syncFeedFromMessage } from '../src/handlers/sync.js';
import { SYNC_QUEUE_NAME } from '../src/storage/index.js';

export async function syncFeedQueue(message: unknown, context: InvocationContext): Promise<void> {
  await syncFeedFromMessage(message, context);
}

app.storageQueue('syncFeedQueue', { queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage', handler: syncFeedQueue });
