// What the creation guard would hold in the sync after an upload, told in the upload's answer: the
// admin who uploads a timetable with FREQ=MINUTELY instead of WEEKLY hears at once "this version
// would create 147,979 meetings; 147,900 from event 'X' (UID …, line N)", not from a log later.
// The plan is the sync's own (preparePlan over the stored rows), as if the upload were stored: an earlier
// hold and its confirmation are for the old version, which the upload replaces.
import type { AppServices } from '../compose.js';
import {
  creationGuardWarning,
  type CreationGuard,
  type CreationGuardOrganizer,
  type CreationGuardReason,
} from '../core/creationGuard.js';
import type { DesiredResult } from '../core/desired.js';
import { forDisplay } from '../core/limits.js';
import { vEventLines } from '../ical/eventLines.js';
import type { FeedRecord } from '../storage/index.js';
import type { FeedWindow } from '../sync/loadFeed.js';
import { preparePlan } from '../sync/preparePlan.js';

/** Events and lecturers listed in an answer at most. */
const LISTED = 10;

export interface CreationGuardPreview {
  /** The next sync holds these creates until `feeds confirm ID --creations`. */
  held: boolean;
  reasons: CreationGuardReason[];
  wouldCreate: number;
  heldCreates: number;
  futureMeetings: number;
  /** The events with the most held sessions, with the line of their BEGIN:VEVENT when found. */
  events: Array<{
    uid: string;
    summary: string;
    line: number | null;
    organizerEmail: string;
    sessions: number;
    reason: CreationGuardReason;
  }>;
  organizers: CreationGuardOrganizer[];
  /** One sentence for the admin: counts, the events by name, UID and line, how to confirm. */
  warning: string;
}

/**
 * The creation guard's verdict on `text` as the feed's next version, from its sessions as the upload
 * check expanded them; null when it holds nothing.
 */
export async function previewCreationGuard(
  deps: Pick<AppServices, 'store' | 'config' | 'now'>,
  feedId: string,
  existing: FeedRecord | null,
  text: string,
  expansion: { desired: DesiredResult; window: FeedWindow },
): Promise<CreationGuardPreview | null> {
  const asStored = existing && { ...existing, creationGuard: null, creationsConfirmedAt: null };
  const { plan } = await preparePlan(deps, feedId, asStored, expansion.desired, expansion.window);
  return toPreview(feedId, plan.creationGuard, text);
}

export function toPreview(feedId: string, guard: CreationGuard, text: string): CreationGuardPreview | null {
  if (guard.heldCreates === 0) return null;
  const events = guard.events.slice(0, LISTED);
  const lines = vEventLines(text, new Set(events.map((e) => e.uid)));
  return {
    held: guard.held,
    reasons: guard.reasons,
    wouldCreate: guard.wouldCreate,
    heldCreates: guard.heldCreates,
    futureMeetings: guard.futureMeetings,
    events: events.map(({ uid, summary, organizerEmail, sessions, reason }) => ({
      uid: forDisplay(uid),
      summary: forDisplay(summary),
      line: lines.get(uid) ?? null,
      organizerEmail,
      sessions,
      reason,
    })),
    organizers: guard.organizers.slice(0, LISTED),
    warning: creationGuardWarning(feedId, guard, lines) ?? '',
  };
}
