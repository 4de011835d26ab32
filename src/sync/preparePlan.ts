// Step 2 of a sync, and the whole of a dry run: the feed's stored rows, policy holds that a recorded
// grant has released, and the complete plan input. One function, so a dry run shows what a sync does.
import type { DesiredResult } from '../core/desired.js';
import { planSync, type SyncPlan } from '../core/plan.js';
import { decidePolicyGate, effectivePolicySettings } from '../core/policy.js';
import type { MeetingRecord } from '../core/state.js';
import { isHeldByPolicy } from '../core/transitions.js';
import { toUtcIso } from '../core/identity.js';
import type { AppConfig } from '../config.js';
import type { StateStore } from '../storage/index.js';
import type { FeedRecord } from '../storage/types.js';
import type { FeedWindow } from './loadFeed.js';
import { creationGuardInput } from './creationGuardInput.js';

export interface PrepareDeps {
  store: Pick<StateStore, 'meetings' | 'policies' | 'organizers'>;
  config: Pick<AppConfig, 'sync' | 'policy'>;
}

export interface PreparedPlan {
  plan: SyncPlan;
  /** The rows the plan was made from (as stored, with their ETags). */
  records: MeetingRecord[];
}

/** `feed` is null for a dry run of a feed not registered yet. */
export async function preparePlan(
  deps: PrepareDeps,
  feedId: string,
  feed: FeedRecord | null,
  desired: DesiredResult,
  window: FeedWindow,
): Promise<PreparedPlan> {
  const records = await deps.store.meetings.listByFeed(feedId);
  const creation = await creationGuardInput(deps, feed, desired.sessions, records, window.now);
  const plan = planSync({
    desired: desired.sessions,
    records: await releasePolicyHolds(deps, records, window.now),
    now: window.now,
    windowEnd: toUtcIso(window.to),
    skippedKeys: desired.skipped.map((s) => s.key),
    guardHeldBefore: feed?.guard?.held === true,
    settings: {
      maxCancelShare: deps.config.sync.maxCancelShare,
      guardMinCancels: deps.config.sync.guardMinCancels,
      cancellationsConfirmed: feed !== null && feed.cancellationsConfirmedAt !== null,
    },
    creation,
  });
  return { plan, records };
}

/**
 * Rows blocked by the policy gate wait for their nextAttemptAt (the probe interval, hours for a missing
 * policy). A grant recorded since then (or any other change that makes the gate allow the organizer now)
 * releases them at once, as the policy.missing message promises: the planner sees them as due, and the
 * gate still sends one probe first. Only the plan's view changes; the stored rows keep their ETags.
 */
async function releasePolicyHolds(
  deps: PrepareDeps,
  records: MeetingRecord[],
  now: string,
): Promise<MeetingRecord[]> {
  if (!records.some((r) => isHeldByPolicy(r, now))) return records;
  const policies = new Map((await deps.store.policies.list()).map((p) => [p.objectId, p]));
  const settings = effectivePolicySettings(deps.config.policy, policies);
  const organizerIds = new Map<string, string | null>();
  const released: MeetingRecord[] = [];
  for (const record of records) {
    if (!isHeldByPolicy(record, now)) {
      released.push(record);
      continue;
    }
    let objectId = record.organizerId;
    if (!objectId) {
      if (!organizerIds.has(record.organizerEmail))
        organizerIds.set(
          record.organizerEmail,
          (await deps.store.organizers.get(record.organizerEmail))?.objectId ?? null,
        );
      objectId = organizerIds.get(record.organizerEmail) ?? null;
    }
    const allowed =
      objectId !== null && decidePolicyGate(policies.get(objectId) ?? null, now, settings).allow;
    released.push(allowed ? { ...record, nextAttemptAt: now } : record);
  }
  return released;
}
