// Queue: collects one feed's attendance per message; the host retries failures, then poisons them.
// Registration imports no SDK; the handler (and the SDKs behind it) loads on the first message.
import { app, type InvocationContext } from '@azure/functions';
import { ATTENDANCE_QUEUE_NAME } from '../src/storage/names.js';

export async function attendanceFeedQueue(message: unknown, context: InvocationContext): Promise<void> {
  const { collectAttendanceFromMessage } = await import('../src/handlers/attendance.js');
  await collectAttendanceFromMessage(message, context);
}

app.storageQueue('attendanceFeedQueue', {
  queueName: ATTENDANCE_QUEUE_NAME,
  connection: 'AzureWebJobsStorage',
  handler: attendanceFeedQueue,
});
