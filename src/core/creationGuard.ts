// The creation guard, the mirror of the deletion guard (pure, part of the planner): a run that would
// create far more meetings than the feed had, one event that expands to an implausible number of
// sessions (FREQ=MINUTELY instead of WEEKLY), or one lecturer whose new meetings exceed what is left of
// their monthly Graph budget, is held until an admin confirms. Updates, cancels, replaces and the
// retries of rows an earlier run already admitted proceed.
//
// What is held, and why not always everything:
// - an event over `maxEventSessions`: only that event's sessions. The culprit is known; the rest of the
//   timetable is judged without it, so one typo does not stop a whole university's term from syncing;
// - a lecturer over their remaining budget: only that lecturer's sessions. The budget is per lecturer,
//   and a runaway would otherwise spend the month Graph allows them (2,000) on garbage, leaving their
//   real sessions without meetings until the month turns;
// - the growth rule (what is left after those two still more than `maxCreateGrowth` times the feed's
//   future meetings): every new meeting of the run. No single event or lecturer explains it (a feed
//   whose UIDs were all regenerated, a different timetable uploaded under this id), so nothing tells
//   the good creates from the bad ones.
//
// Only *new* meetings count: a create without a row, or reviving a cancelled one. A create retrying a
// row (crash, failure, a session waiting for the month's budget) was admitted by an earlier run; counting
// it again would hold a confirmed runaway's remainder every month. Held creates write no row, so they
// stay new, and a confirmation covers them until a complete run has given each a row.
//
// Sticky like the deletion guard: what a run held stays held (by event, lecturer, or all) until an
// admin confirms or none of those creates is left, because the reasons can fade by themselves (a new
// month refills the budget; sessions created meanwhile raise the growth rule's base).

import type { DesiredSession } from './desired.js';
import { forDisplay } from './limits.js';
import { DEFAULT_MONTHLY_MEETING_LIMIT } from './organizer.js';
import type { MeetingRecord } from './state.js';

export interface CreationGuardSettings {
  /** New meetings one run may add, as a multiple of the feed's future meetings (1 = it may double). */
  maxCreateGrowth: number;
  /** Fewer new meetings than this never trip the growth rule or the lecturer rule. */
  guardMinCreates: number;
  /** New meetings one event (UID) may add in one run. */
  maxEventSessions: number;
  /** ORGANIZER_MONTHLY_LIMIT: the budget of a lecturer missing from `organizerBudgets`. */
  organizerMonthlyLimit: number;
}

export const DEFAULT_CREATION_GUARD_SETTINGS: CreationGuardSettings = {
  maxCreateGrowth: 1,
  guardMinCreates: 500,
  maxEventSessions: 1_000,
  organizerMonthlyLimit: DEFAULT_MONTHLY_MEETING_LIMIT,
};

/** What a run held, kept in the feed row so that the next run holds the same until confirmed. */
export interface CreationHoldScope {
  /** Every new meeting (the growth rule tripped). */
  all: boolean;
  uids: readonly string[];
  /** Normalised e-mails. */
  organizers: readonly string[];
}

export interface CreationGuardInput {
  settings: CreationGuardSettings;
  /** An admin confirmed: the guard reports what it would hold but holds nothing. */
  confirmed: boolean;
  /**
   * New meetings each lecturer may still get this month, by normalised e-mail, looked up by the shell
   * for the lecturers that can trip the rule (`organizersToCheck`). Absent: the whole monthly limit.
   */
  organizerBudgets: ReadonlyMap<string, number>;
  /** The previous run's held scope (feed row), null when nothing was held or it was confirmed since. */
  heldBefore: CreationHoldScope | null;
}

/**
 * 'awaitingConfirmation': held by an earlier run, not confirmed since, such creates still planned.
 * 'cancellationsHeld': the deletion guard holds this run's cancels, so new meetings wait with them.
 */
export type CreationGuardReason =
  'eventSessions' | 'organizerBudget' | 'awaitingConfirmation' | 'growthExceeded' | 'cancellationsHeld';

export interface CreationGuardEvent {
  uid: string;
  /** SUMMARY of its first held session. */
  summary: string;
  organizerEmail: string;
  /** New meetings of this event held (or, when confirmed, that would have been). */
  sessions: number;
  firstStart: string;
  /** The rule that held it. */
  reason: CreationGuardReason;
}

export interface CreationGuardOrganizer {
  email: string;
  /** New meetings of this lecturer in the run (without those of events held on their own). */
  creates: number;
  /** What was left of their monthly budget. */
  remaining: number;
}

export interface CreationGuard {
  /** Creates were held back (in `held`, not in `operations`). */
  held: boolean;
  /** Rules that tripped, in this order; also when `confirmed` let the creates through. */
  reasons: CreationGuardReason[];
  /** The guard tripped but an admin had confirmed: the shell clears the confirmation after the run. */
  overridden: boolean;
  /** New meetings the run would create (subject to the guard). */
  wouldCreate: number;
  /** Of those, held (or, when overridden, those that would have been). */
  heldCreates: number;
  /** Non-cancelled records with now < start < windowEnd: the base of the growth rule. */
  futureMeetings: number;
  /** Every event with held creates, most first. */
  events: CreationGuardEvent[];
  /** Lecturers over their remaining monthly budget, most first. */
  organizers: CreationGuardOrganizer[];
  /** What the next run keeps holding until confirmed (empty when nothing tripped). */
  scope: CreationHoldScope;
}

/** A create the guard looks at: the planned session and its row, if any. */
export interface CreateCandidate {
  desired: DesiredSession;
  record: MeetingRecord | null;
}

/** More events or lecturers than this in a hold are kept as `all` in the feed row (its size is bounded). */
export const MAX_SCOPE_ENTRIES = 50;
/**
 * Characters of UIDs and e-mails a scope keeps at most: the feed row stores it as one Table property
 * (32,768 UTF-16 units), and a UID may be 16,384 characters long. A hold past it is kept as `all`.
 */
export const MAX_SCOPE_CHARS = 8_000;

/** A create that makes a meeting the feed does not have: no row, or a cancelled one revived. */
export function isNewMeeting(candidate: CreateCandidate): boolean {
  return candidate.record === null || candidate.record.state === 'cancelled';
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Which of `creates` (the plan's create operations) the guard holds: `held[i]` for `creates[i]`.
 * Creates that are not new meetings are never held.
 */
export function evaluateCreationGuard(
  creates: readonly CreateCandidate[],
  futureMeetings: number,
  input: CreationGuardInput,
  /** The deletion guard holds this run's cancels. */
  cancellationsHeld = false,
): { guard: CreationGuard; held: boolean[] } {
  const { settings } = input;
  const isNew = creates.map(isNewMeeting);
  const fresh = creates.filter((_, i) => isNew[i]);
  const reasonOf: Array<CreationGuardReason | null> = creates.map(() => null);
  const mark = (reason: CreationGuardReason, test: (c: CreateCandidate) => boolean): void => {
    for (let i = 0; i < creates.length; i++)
      if (isNew[i] && reasonOf[i] === null && test(creates[i] as CreateCandidate)) reasonOf[i] = reason;
  };

  // 1. One event expanding to an implausible number of sessions.
  const perUid = countBy(fresh, (c) => c.desired.uid);
  const runawayUids = new Set(
    [...perUid].filter(([, n]) => n > settings.maxEventSessions).map(([uid]) => uid),
  );
  mark('eventSessions', (c) => runawayUids.has(c.desired.uid));

  // 2. A lecturer whose new meetings (without the events held above) exceed what their month has left.
  const perOrganizer = countBy(
    fresh.filter((c) => !runawayUids.has(c.desired.uid)),
    (c) => c.desired.organizerEmail,
  );
  const organizers: CreationGuardOrganizer[] = [];
  for (const [email, count] of perOrganizer) {
    const remaining = Math.max(0, input.organizerBudgets.get(email) ?? settings.organizerMonthlyLimit);
    if (count >= settings.guardMinCreates && count > remaining)
      organizers.push({ email, creates: count, remaining });
  }
  organizers.sort((a, b) => b.creates - a.creates || (a.email < b.email ? -1 : 1));
  const overBudget = new Set(organizers.map((o) => o.email));
  mark('organizerBudget', (c) => overBudget.has(c.desired.organizerEmail));

  // 3. Sticky: what an earlier run held and nobody confirmed (before the growth rule, which judges
  //    only what no rule holds).
  const before = input.heldBefore;
  if (before) {
    const uids = new Set(before.uids);
    const emails = new Set(before.organizers);
    mark(
      'awaitingConfirmation',
      (c) => before.all || uids.has(c.desired.uid) || emails.has(c.desired.organizerEmail),
    );
  }

  // 4. Growth of the rest against the feed's future meetings. A feed without future meetings (its first
  //    sync, a new term after a quiet summer) has no base to compare with: rules 1 and 2 still apply.
  const rest = reasonOf.filter((r, i) => isNew[i] && r === null).length;
  const grew =
    futureMeetings > 0 &&
    rest >= settings.guardMinCreates &&
    rest > settings.maxCreateGrowth * futureMeetings;
  if (grew) mark('growthExceeded', () => true);

  // 5. The deletion guard holds cancels: a feed that loses many sessions and gains others at once is
  //    most often one re-exported with new UIDs. Creating the new sessions while the old meetings stay
  //    would give students two meetings for one session, so new meetings wait for the same confirmation
  //    as the cancels (confirming cancellations releases both). Not kept in the scope: it lasts exactly
  //    as long as the deletion guard holds.
  if (cancellationsHeld) mark('cancellationsHeld', () => true);

  const reasons = (
    [
      'eventSessions',
      'organizerBudget',
      'growthExceeded',
      'awaitingConfirmation',
      'cancellationsHeld',
    ] as const
  ).filter((reason) => reasonOf.includes(reason));
  const events = heldEvents(creates, reasonOf);
  const heldCreates = reasonOf.filter((r) => r !== null).length;
  const tripped = heldCreates > 0;
  // An admin's confirmation of creations releases what this guard holds on its own, not what waits for
  // the deletion guard's confirmation.
  const heldOne = reasonOf.map((r) => r === 'cancellationsHeld' || (r !== null && !input.confirmed));
  const held = heldOne.includes(true);
  const confirmedPast = input.confirmed && reasonOf.some((r) => r !== null && r !== 'cancellationsHeld');
  const all = grew || (before?.all === true && reasons.includes('awaitingConfirmation'));
  const markedUids = new Set<string>();
  const markedEmails = new Set<string>();
  for (let i = 0; i < creates.length; i++) {
    if (reasonOf[i] === null || reasonOf[i] === 'cancellationsHeld') continue;
    markedUids.add((creates[i] as CreateCandidate).desired.uid);
    markedEmails.add((creates[i] as CreateCandidate).desired.organizerEmail);
  }
  // The next run holds what this one held by the same rule's key: an event by its UID, a lecturer by
  // e-mail; an entry of the earlier scope with nothing left to create is dropped.
  const scopeUids = [...new Set([...runawayUids, ...(before?.uids ?? []).filter((u) => markedUids.has(u))])];
  const scopeOrganizers = [
    ...new Set([...overBudget, ...(before?.organizers ?? []).filter((e) => markedEmails.has(e))]),
  ];
  const chars = [...scopeUids, ...scopeOrganizers].reduce((n, text) => n + text.length, 0);
  const tooMany =
    scopeUids.length > MAX_SCOPE_ENTRIES ||
    scopeOrganizers.length > MAX_SCOPE_ENTRIES ||
    chars > MAX_SCOPE_CHARS;
  const scope: CreationHoldScope = !tripped
    ? { all: false, uids: [], organizers: [] }
    : all || tooMany
      ? { all: true, uids: [], organizers: [] }
      : { all: false, uids: scopeUids, organizers: scopeOrganizers };
  return {
    guard: {
      held,
      reasons,
      overridden: confirmedPast,
      wouldCreate: fresh.length,
      heldCreates,
      futureMeetings,
      events,
      organizers,
      scope,
    },
    held: heldOne,
  };
}

/** Held creates per event (UID), most first: what the admin is shown. */
function heldEvents(
  creates: readonly CreateCandidate[],
  reasonOf: ReadonlyArray<CreationGuardReason | null>,
): CreationGuardEvent[] {
  const byUid = new Map<string, CreationGuardEvent>();
  for (let i = 0; i < creates.length; i++) {
    const reason = reasonOf[i];
    if (reason === null || reason === undefined) continue;
    const { desired } = creates[i] as CreateCandidate;
    const event = byUid.get(desired.uid);
    if (event === undefined)
      byUid.set(desired.uid, {
        uid: desired.uid,
        summary: desired.subject,
        organizerEmail: desired.organizerEmail,
        sessions: 1,
        firstStart: desired.start,
        reason,
      });
    else {
      event.sessions++;
      if (desired.start < event.firstStart) event.firstStart = desired.start;
    }
  }
  return [...byUid.values()].sort((a, b) => b.sessions - a.sessions || (a.uid < b.uid ? -1 : 1));
}

/**
 * Lecturers whose remaining monthly budget the shell must look up: only those with at least
 * `guardMinCreates` sessions that may become new meetings (no row, or a cancelled one) can trip the
 * lecturer rule, so a normal run reads none.
 */
export function organizersToCheck(
  desired: readonly DesiredSession[],
  records: readonly MeetingRecord[],
  now: string,
  guardMinCreates: number,
): string[] {
  const live = new Set<string>();
  for (const r of records) if (r.state !== 'cancelled') live.add(r.key);
  const nowMs = Date.parse(now);
  const counts = new Map<string, number>();
  for (const s of desired) {
    if (s.cancelled || live.has(s.key) || Date.parse(s.end) <= nowMs) continue;
    counts.set(s.organizerEmail, (counts.get(s.organizerEmail) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= guardMinCreates).map(([email]) => email);
}

const number = (n: number): string => n.toLocaleString('en-US');

/** One event as an admin finds it in the file: summary, UID and (when known) the line of its VEVENT. */
export function describeEvent(event: CreationGuardEvent, line?: number): string {
  const summary =
    event.summary.trim() === '' ? 'an untitled event' : `event '${forDisplay(event.summary.trim())}'`;
  const uid = event.uid === '' ? 'no UID' : `UID ${forDisplay(event.uid)}`;
  return `${summary} (${uid}${line === undefined ? '' : `, line ${line}`})`;
}

/**
 * What an upload (or a dry run) tells the admin when the creation guard would hold creates, e.g.
 * "this version would create 147,979 meetings; 147,900 from event 'X' (UID …, line N) …"; null when
 * it would hold nothing. `lines` gives the BEGIN:VEVENT line of a UID, where known.
 */
export function creationGuardWarning(
  feedId: string,
  guard: CreationGuard,
  lines: ReadonlyMap<string, number> = new Map(),
): string | null {
  if (guard.heldCreates === 0) return null;
  const parts = [
    `this version would create ${number(guard.wouldCreate)} meetings` +
      (guard.futureMeetings > 0 ? ` (the feed has ${number(guard.futureMeetings)} future meetings)` : ''),
  ];
  const top = guard.events
    .slice(0, 3)
    .map((e) => `${number(e.sessions)} from ${describeEvent(e, lines.get(e.uid))}`);
  if (guard.events.length > 3) top.push(`${number(guard.events.length - 3)} more events`);
  parts.push(top.join(', '));
  for (const o of guard.organizers.slice(0, 3))
    parts.push(
      `${number(o.creates)} for ${o.email}, more than the ${number(o.remaining)} left of their monthly limit`,
    );
  const why = guard.reasons.map((r) => REASON_TEXT[r]).join('; ');
  const waitsForCancellations = guard.reasons.length === 1 && guard.reasons[0] === 'cancellationsHeld';
  const outcome = waitsForCancellations
    ? `they wait for the cancellations the deletion guard holds (${why}): timetable-sync feeds confirm ${feedId} ` +
      `(or POST /api/feeds/${feedId}/confirm-cancellations)`
    : guard.held
      ? `the creation guard holds ${number(guard.heldCreates)} of them (${why}) until an admin confirms: ` +
        `timetable-sync feeds confirm ${feedId} --creations (or POST /api/feeds/${feedId}/confirm-creations)`
      : `confirmed by an admin: the creation guard lets ${number(guard.heldCreates)} of them through (${why})`;
  return `${parts.join('; ')}; ${outcome}`;
}

const REASON_TEXT: Record<CreationGuardReason, string> = {
  eventSessions: 'an event adds more sessions than GUARD_MAX_EVENT_SESSIONS',
  organizerBudget: "a lecturer's new meetings exceed what is left of ORGANIZER_MONTHLY_LIMIT this month",
  growthExceeded: "new meetings exceed MAX_CREATE_GROWTH times the feed's future meetings",
  awaitingConfirmation: 'held by an earlier run and not confirmed yet',
  cancellationsHeld:
    'the deletion guard holds cancellations of this feed: new meetings wait with them (confirming the cancellations releases both)',
};
