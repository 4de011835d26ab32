// Applying a plan: small units (create, update, cancel, replace) scheduled by organizer lanes.
export { ApplyRun, type ApplyCounters, type ApplyDeps } from './run.js';
export { applyOperations } from './lanes.js';

import type { MeetingRecord } from '../../core/state.js';
import type { ApplyRun } from './run.js';

/** Rows whose session only moved room (a plan outcome): saved in batches, no Graph call. */
export function saveRoomChanges(run: ApplyRun, rows: MeetingRecord[]): Promise<void> {
  return run.saveMany(rows);
}
