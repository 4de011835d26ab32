// Timer (SYNC_SCHEDULE): fans out one queue message per enabled feed.
// Registration imports no SDK; the fan-out handler (and the SDKs behind it) loads on the first tick.
import { app, output, type InvocationContext, type Timer } from '@azure/functions';
import { SYNC_QUEUE_NAME } from '../src/storage/names.js';

export const syncQueueOutput = output.storageQueue({
  queueName: SYNC_QUEUE_NAME,
  connection: 'AzureWebJobsStorage',
});

let handlers: Promise<typeof import('../src/handlers/sync.js')> | undefined;
const loadHandlers = (): Promise<typeof import('../src/handlers/sync.js')> =>
  (handlers ??= import('../src/handlers/sync.js').catch((error: unknown) => {
    handlers = undefined;
    throw error;
  }));

export async function syncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.extraOutputs.set(syncQueueOutput, await (await loadHandlers()).fanOutSync(context));
}

app.timer('syncTimer', { schedule: '%SYNC_SCHEDULE%', extraOutputs: [syncQueueOutput], handler: syncTimer });
