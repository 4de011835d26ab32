// Update: PATCH the meeting (same meeting, same join link). A meeting deleted in Teams is made again
// under a new key; a row whose meeting id was never stored is a create.
import type { DesiredSession } from '../../core/desired.js';
import { externalIdFor } from '../../core/identity.js';
import type { MeetingRecord } from '../../core/state.js';
import { updatedRow, withoutMeeting } from '../../core/transitions.js';
import { classifyGraphError } from '../../graph/errors.js';
import { createMeeting, type Organizer } from './create.js';
import type { ApplyRun } from './run.js';

export async function updateMeeting(
  run: ApplyRun,
  organizer: Organizer,
  desired: DesiredSession,
  record: MeetingRecord,
): Promise<void> {
  if (!record.meetingId) {
    await createMeeting(run, organizer, desired, record, record.externalId, record.generation);
    return;
  }
  try {
    await run.deps.graph.meetings.update(organizer.objectId, record.meetingId, {
      subject: desired.subject,
      startDateTime: desired.start,
      endDateTime: desired.end,
    });
  } catch (error) {
    if (classifyGraphError(error).kind !== 'notFound') throw error;
    // Someone deleted the meeting in Teams: the session still needs one, under a new key.
    run.log.warning('meeting.missing.recreated', {
      feedId: run.feedId,
      key: record.key,
      organizerId: organizer.objectId,
    });
    const generation = record.generation + 1;
    await createMeeting(
      run,
      organizer,
      desired,
      withoutMeeting(record),
      externalIdFor(record.key, generation),
      generation,
    );
    return;
  }
  await run.save(updatedRow(record, desired));
  run.counters.updated++;
  run.log.debug('meeting.updated', {
    feedId: run.feedId,
    key: record.key,
    organizerId: organizer.objectId,
    start: desired.start,
  });
}
