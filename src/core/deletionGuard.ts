// The deletion guard: a run that would cancel too many of a feed's future meetings at once holds its
// cancels for an admin's confirmation (planSync applies it to the plan's cancels).

/** 'awaitingConfirmation': tripped in an earlier run, not confirmed since, cancels still pending. */
export type GuardReason = 'feedEmptied' | 'shareExceeded' | 'awaitingConfirmation';

export interface DeletionGuard {
  /** Cancels were held back (in `held`, not in `operations`). */
  held: boolean;
  /** Why the guard tripped; set even when `cancellationsConfirmed` let the cancels through. */
  reason: GuardReason | null;
  /** The guard tripped but cancellationsConfirmed was given: the shell should clear the confirmation. */
  overridden: boolean;
  /** Cancels subject to the guard (held or not). */
  wouldCancel: number;
  /** Non-cancelled records with now < start < windowEnd. */
  futureMeetings: number;
}

export interface DeletionGuardInput {
  /** Share of the feed's future meetings one run may cancel without confirmation. */
  maxCancelShare: number;
  /** Fewer cancels than this never trip the share rule. */
  guardMinCancels: number;
  /** An admin confirmed the mass cancellation: the guard reports but does not hold. */
  cancellationsConfirmed: boolean;
  /** The guard held the feed in an earlier run. */
  guardHeldBefore: boolean;
  /** The feed still has a session between now and the end of the window. */
  hasFutureSession: boolean;
  /** Cancels subject to the guard. */
  wouldCancel: number;
  /** Non-cancelled records with now < start < windowEnd. */
  futureMeetings: number;
}

/**
 * vdirsyncer's "storage emptied" rule, plus a share limit: a feed that suddenly has no future sessions,
 * or would lose more than maxCancelShare of its future meetings at once, is more likely a broken export
 * than a real change. Cancels wait for an admin, and new meetings with them (creationGuard.ts, rule 5);
 * updates proceed.
 */
export function evaluateDeletionGuard(input: DeletionGuardInput): DeletionGuard {
  const { maxCancelShare, guardMinCancels, cancellationsConfirmed, wouldCancel, futureMeetings } = input;
  let reason: GuardReason | null = null;
  if (wouldCancel > 0) {
    if (futureMeetings > 0 && !input.hasFutureSession) reason = 'feedEmptied';
    else if (wouldCancel >= guardMinCancels && wouldCancel > maxCancelShare * futureMeetings)
      reason = 'shareExceeded';
    else if (input.guardHeldBefore) reason = 'awaitingConfirmation';
  }
  const held = reason !== null && !cancellationsConfirmed;
  return { held, reason, overridden: reason !== null && cancellationsConfirmed, wouldCancel, futureMeetings };
}
