// The creation guard's input for one plan (the planner stays pure): its settings, whether an admin
// confirmed, what the previous run held, and the remaining monthly budget of the only lecturers who
// can trip the lecturer rule (those with at least GUARD_MIN_CREATES possible new meetings: a normal
// run reads no organizer row at all).
import type { CreationGuardInput } from '../core/creationGuard.js';
import { organizersToCheck } from '../core/creationGuard.js';
import type { DesiredSession } from '../core/desired.js';
import { monthOf, usedInMonth } from '../core/organizer.js';
import type { MeetingRecord } from '../core/state.js';
import type { AppConfig } from '../config.js';
import type { StateStore } from '../storage/index.js';
import { InvalidInputError } from '../storage/errors.js';
import type { FeedRecord } from '../storage/types.js';

export async function creationGuardInput(
  deps: { store: Pick<StateStore, 'organizers'>; config: Pick<AppConfig, 'sync'> },
  feed: FeedRecord | null,
  desired: readonly DesiredSession[],
  records: readonly MeetingRecord[],
  now: string,
): Promise<CreationGuardInput> {
  const sync = deps.config.sync;
  const settings = {
    maxCreateGrowth: sync.maxCreateGrowth,
    guardMinCreates: sync.guardMinCreates,
    maxEventSessions: sync.maxEventSessions,
    organizerMonthlyLimit: sync.organizerMonthlyLimit,
  };
  const organizerBudgets = new Map<string, number>();
  const month = monthOf(now);
  for (const email of organizersToCheck(desired, records, now, settings.guardMinCreates)) {
    // Unknown to the directory cache (or no address a row can have): never created anything through
    // us, the whole limit is left.
    const objectId = (await organizerOrNull(deps.store, email))?.objectId ?? null;
    if (objectId === null) continue;
    const status = await deps.store.organizers.getStatus(objectId);
    organizerBudgets.set(email, Math.max(0, settings.organizerMonthlyLimit - usedInMonth(status, month)));
  }
  const before = feed?.creationGuard ?? null;
  return {
    settings,
    confirmed: (feed?.creationsConfirmedAt ?? null) !== null,
    organizerBudgets,
    heldBefore: before?.held ? before.scope : null,
  };
}

function organizerOrNull(store: Pick<StateStore, 'organizers'>, email: string) {
  return store.organizers.get(email).catch((error: unknown) => {
    if (error instanceof InvalidInputError) return null;
    throw error;
  });
}
