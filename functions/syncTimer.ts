// Timer (SYNC_SCHEDULE): fans out one queue message per enabled feed.
import { app, output, type InvocationContext, type Timer } from '@azure/functions';
import { fanOutSync } from '../src/handlers/sync.js';
import { SYNC_QUEUE_NAME } from '../src/storage/index.js';

export const syncQueueOutput = output.storageQueue({ queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage' });

export async function syncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.extraOutputs.set(syncQueueOutput, await fanOutSync(context));
}

app.timer('syncTimer', { schedule: '%SYNC_SCHEDULE%', extraOutputs: [syncQueueOutput], handler: syncTimer });
