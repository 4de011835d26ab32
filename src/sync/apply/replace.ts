// Replace: the session's meeting must belong to someone else (organizer changed) or cannot be trusted
// (revived while its cancel was unconfirmed): remove the old meeting, then create a new one.
import type { DesiredSession } from '../../core/desired.js';
import type { MeetingRecord } from '../../core/state.js';
import { mayHaveMeeting, withoutMeeting } from '../../core/transitions.js';
import { removeMeeting } from './cancel.js';
import { createMeeting, type Organizer } from './create.js';
import type { ApplyRun } from './run.js';

export async function replaceMeeting(
  run: ApplyRun,
  organizer: Organizer,
  desired: DesiredSession,
  record: MeetingRecord,
  externalId: string,
  generation: number,
): Promise<void> {
  if (record.organizerId && mayHaveMeeting(record)) await removeMeeting(run, record);
  await createMeeting(run, organizer, desired, withoutMeeting(record), externalId, generation);
  run.counters.cancelled++;
}
