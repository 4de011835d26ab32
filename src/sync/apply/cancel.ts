// Cancel: the one way a meeting is removed, by a sync, by lock mode or by a feed's removal. The row is
// marked 'cancelling' first (a crash finishes the cancel next run); a row whose meeting id was never
// stored is resolved with createOrGet first, so a meeting whose create answer was lost is not orphaned.
import type { MeetingRecord } from '../../core/state.js';
import { classifyGraphError } from '../../graph/errors.js';
import { cancelledRow, cancellingRow, lockedSubject, mayHaveMeeting } from '../../core/transitions.js';
import type { ApplyRun } from './run.js';

export async function cancelMeeting(run: ApplyRun, record: MeetingRecord): Promise<void> {
  // Nothing can exist in Graph (no id, and no create that may have committed): asking createOrGet would
  // make a meeting only to delete it.
  if (!mayHaveMeeting(record)) return cancelWithoutMeeting(run, record);
  const marked = record.state === 'cancelling' ? record : await run.save(cancellingRow(record));
  await removeMeeting(run, marked);
  await run.save(cancelledRow(marked));
  run.counters.cancelled++;
  run.log.debug('meeting.cancelled', {
    feedId: run.feedId,
    key: record.key,
    start: record.start,
    mode: run.deps.config.sync.cancelMode,
  });
}

/** A cancel of a row that never got an organizer: nothing exists in Graph. */
export async function cancelWithoutMeeting(run: ApplyRun, record: MeetingRecord): Promise<void> {
  await run.save(cancelledRow(record)).catch((e: unknown) => run.noteWriteFailure(e));
  run.counters.cancelled++;
}

/** Locks and renames the row's meeting, then (CANCEL_MODE=delete) deletes it, if it may have one. */
export async function removeMeeting(run: ApplyRun, record: MeetingRecord): Promise<void> {
  const organizerId = record.organizerId;
  if (!organizerId || !mayHaveMeeting(record)) return;
  const meetings = run.deps.graph.meetings;
  let meetingId = record.meetingId;
  if (!meetingId) {
    // The create may have committed before a crash: createOrGet finds it (or makes it) so it can be removed.
    const found = await meetings.createOrGet(organizerId, {
      externalId: record.externalId,
      subject: record.subject,
      startDateTime: record.start,
      endDateTime: record.end,
    });
    meetingId = found.id;
  }
  // Lock first in both modes: a deleted meeting's link keeps opening the meeting (and GET can return it
  // again after someone joins), so before DELETE the lobby admits only the organizer and the subject
  // says it is cancelled. A meeting already gone (404) needs neither.
  try {
    await meetings.update(organizerId, meetingId, {
      subject: lockedSubject(record.subject),
      startDateTime: record.start,
      endDateTime: record.end,
      lockLobby: true,
    });
  } catch (error) {
    const failure = classifyGraphError(error);
    if (failure.kind === 'notFound') return;
    // Graph refused the lock itself (400): in delete mode the DELETE still goes ahead (better than a
    // meeting that stays on), and ops hear that its link may still open it.
    if (failure.kind !== 'invalidRequest' || run.deps.config.sync.cancelMode !== 'delete') throw error;
    run.log.warning('meeting.lock.failed', {
      feedId: run.feedId,
      key: record.key,
      organizerId,
      status: failure.status,
      code: failure.graphCode,
      requestId: failure.requestId,
      message: failure.message,
    });
  }
  if (run.deps.config.sync.cancelMode === 'delete') await meetings.delete(organizerId, meetingId);
}
