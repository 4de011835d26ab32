// Timer (ATTENDANCE_SCHEDULE): fans out one queue message per feed whose attendance is collected.
// Registration imports no SDK; the handler (and the SDKs behind it) loads on the first tick.
import { app, output, type InvocationContext, type Timer } from '@azure/functions';
import { ATTENDANCE_QUEUE_NAME } from '../src/storage/names.js';

export const attendanceQueueOutput = output.storageQueue({
  queueName: ATTENDANCE_QUEUE_NAME,
  connection: 'AzureWebJobsStorage',
});

export async function attendanceTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const { fanOutAttendance } = await import('../src/handlers/attendance.js');
  context.extraOutputs.set(attendanceQueueOutput, await fanOutAttendance(context));
}

app.timer('attendanceTimer', {
  schedule: '%ATTENDANCE_SCHEDULE%',
  extraOutputs: [attendanceQueueOutput],
  handler: attendanceTimer,
});
