// Move: a session whose key changed with its series (plan.ts, core/moves.ts) keeps its meeting. Every
// move's row is re-keyed before the lanes start, one transaction each (storage only, no Graph call), so
// whatever the lanes then do to the session (PATCH it, hold it for its lecturer's policy) they do to
// the row at its new key. The PATCH is an ordinary update (update.ts). A run that stops between the
// re-key and the PATCH leaves a row whose stored hash is the old one: the next plan PATCHes it.
import type { PlannedOperation } from '../../core/plan.js';
import { movedRows } from '../../core/transitions.js';
import { ConcurrencyError, isStorageFailure, NotFoundError } from '../../storage/errors.js';
import type { ApplyRun } from './run.js';

/** Re-keys run this many at a time (each is one small transaction). */
const REKEY_CONCURRENCY = 8;

/**
 * Re-keys the rows of the plan's moves and returns the operations left to apply: a move whose row
 * another run changed meanwhile (or whose storage write failed) is that run's, or the next plan's.
 */
export async function rekeyMoves(
  run: ApplyRun,
  operations: readonly PlannedOperation[],
): Promise<PlannedOperation[]> {
  const moves = operations.filter((op) => op.kind === 'move');
  if (moves.length === 0) return [...operations];
  const failed = new Set<PlannedOperation>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < moves.length) {
      const op = moves[next++] as Extract<PlannedOperation, { kind: 'move' }>;
      // A stopped run writes nothing more; out of time, the rest is re-planned (and re-keyed) next run.
      if (run.stopped || run.outOfTime()) {
        if (!run.stopped) run.stoppedEarly = true;
        failed.add(op);
        continue;
      }
      const { vacated, moved } = movedRows(op);
      try {
        await run.saveMove(vacated, moved);
      } catch (error) {
        failed.add(op);
        if (error instanceof ConcurrencyError || error instanceof NotFoundError) {
          run.counters.raced++;
          run.log.warning('meeting.write.conflict', { feedId: run.feedId, key: op.record.key });
        } else if (isStorageFailure(error)) {
          run.counters.storageFailed++;
          run.noteStorageFailure(error, 'move');
        } else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REKEY_CONCURRENCY, moves.length) }, worker));
  // A row that waits for its retry time is only re-keyed: its PATCH is an update once it is due.
  return operations.filter((op) => !failed.has(op) && (op.kind !== 'move' || op.due));
}
