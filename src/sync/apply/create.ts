// Create: the row (with its createOrGet key) is stored before Graph is called, so a crash after that
// point is repeated with the same key and Graph returns the same meeting.
import type { DesiredSession } from '../../core/desired.js';
import type { MeetingRecord } from '../../core/state.js';
import { createdRow, creatingRow } from '../../core/transitions.js';
import type { OnlineMeeting } from '../../graph/types.js';
import type { ApplyRun } from './run.js';

export interface Organizer {
  objectId: string;
  email: string;
}

export async function createMeeting(
  run: ApplyRun,
  organizer: Organizer,
  desired: DesiredSession,
  base: MeetingRecord,
  externalId: string,
  generation: number,
): Promise<void> {
  const meetings = run.deps.graph.meetings;
  const record = await run.save(creatingRow(base, desired, organizer, externalId, generation));
  const found = await meetings.createOrGet(organizer.objectId, {
    externalId,
    subject: desired.subject,
    startDateTime: desired.start,
    endDateTime: desired.end,
  });
  let meeting: OnlineMeeting = found;
  if (found.created) run.organizers.noteCreated(organizer.objectId);
  // createOrGet ignores lobby and presenter options (a new meeting has the tenant's defaults, students
  // could present) and never changes an existing meeting (one from an interrupted earlier try may be
  // out of date): PATCH whatever is missing.
  if (
    !meetings.carriesOptions(meeting) ||
    meeting.subject !== desired.subject ||
    !sameInstant(meeting.startDateTime, desired.start) ||
    !sameInstant(meeting.endDateTime, desired.end)
  ) {
    meeting = await meetings.update(organizer.objectId, meeting.id, {
      subject: desired.subject,
      startDateTime: desired.start,
      endDateTime: desired.end,
    });
  }
  const created = await run.save(createdRow(record, meeting));
  run.counters.created++;
  run.log.debug('meeting.created', {
    feedId: run.feedId,
    key: created.key,
    organizerId: organizer.objectId,
    start: created.start,
    generation,
  });
}

function sameInstant(a: string, b: string): boolean {
  return Date.parse(a) === Date.parse(b);
}
