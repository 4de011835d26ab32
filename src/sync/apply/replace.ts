// Replace: the session's meeting must belong to someone else (organizer changed) or cannot be trusted
// (revived while its cancel was unconfirmed): remove the old meeting, then create a new one.
import type { DesiredSession } from '../../core/desired.js';
import { errorMessage } from '../../errors.js';
import type { MeetingRecord } from '../../core/state.js';
import { mayHaveMeeting, withoutMeeting } from '../../core/transitions.js';
import { removeMeeting } from './cancel.js';
import { createMeeting, type Organizer } from './create.js';
import type { ApplyRun } from './run.js';

/** Removing the previous organizer's meeting failed; `cause` is what Graph (or storage) said. */
export class PreviousOrganizerError extends Error {
  override name = 'PreviousOrganizerError';
  constructor(
    readonly organizerId: string,
    readonly organizerEmail: string,
    override readonly cause: unknown,
  ) {
    super(`the previous organizer's meeting could not be removed: ${errorMessage(cause)}`);
  }
}

export async function replaceMeeting(
  run: ApplyRun,
  organizer: Organizer,
  desired: DesiredSession,
  record: MeetingRecord,
  externalId: string,
  generation: number,
): Promise<void> {
  if (record.organizerId && mayHaveMeeting(record)) {
    try {
      await removeMeeting(run, record);
    } catch (error) {
      // The old meeting is the previous organizer's: its refusal must not be charged to the new one.
      throw new PreviousOrganizerError(record.organizerId, record.organizerEmail, error);
    }
  }
  await createMeeting(run, organizer, desired, withoutMeeting(record), externalId, generation);
  run.counters.cancelled++;
}
