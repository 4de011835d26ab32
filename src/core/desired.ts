// From expanded occurrences to the sessions the feed wants meetings for (one per occurrence key).
// Everything that cannot become a meeting is reported with a reason an admin can act on — never
// silently dropped.

import type { Occurrence } from './occurrence.js';
import { contentHash, normalizeEmail, occurrenceKey, toUtcIso } from './identity.js';

export interface DesiredSession {
  key: string;
  uid: string;
  recurrenceId: string | null;
  subject: string;
  /** UTC ISO `YYYY-MM-DDTHH:MM:SSZ`. */
  start: string;
  end: string;
  /** Normalised e-mail; '' only for a cancelled session without organizer (it never needs one). */
  organizerEmail: string;
  /** STATUS:CANCELLED: the session exists but must have no meeting. */
  cancelled: boolean;
  contentHash: string;
}

export type SkipReason = 'allDay' | 'floating' | 'noOrganizer' | 'duplicate' | 'invalidTime';

export interface SkippedSession {
  key: string;
  uid: string;
  recurrenceId: string | null;
  summary: string;
  start: string;
  reason: SkipReason;
  /** What happened and what to change in the feed or the settings. */
  detail: string;
}

export interface DesiredOptions {
  /** Organizer for events without ORGANIZER (a feed setting); null/undefined = none. */
  defaultOrganizer?: string | null;
}

export interface DesiredResult {
  /** Sorted by start, then key. */
  sessions: DesiredSession[];
  /** In input order. */
  skipped: SkippedSession[];
}

export const UNTITLED_SUBJECT = '(untitled session)';

function describe(occ: Occurrence): string {
  const what = occ.summary.trim() === '' ? 'an untitled event' : `"${occ.summary.trim()}"`;
  const uid = occ.uid === '' ? 'without UID' : `UID ${occ.uid}`;
  return `${what} (${uid}) starting ${occ.start}`;
}

function skip(key: string, occ: Occurrence, reason: SkipReason, detail: string): SkippedSession {
  return {
    key,
    uid: occ.uid,
    recurrenceId: occ.recurrenceId,
    summary: occ.summary,
    start: occ.start,
    reason,
    detail,
  };
}

/**
 * Picks, per key, the occurrence that wins: highest SEQUENCE (RFC 5545 §3.8.7.4: the later revision),
 * then the later one in input order. Returns winners (in input order) and losers.
 */
function pickWinners(keyed: ReadonlyArray<{ key: string; occ: Occurrence; index: number }>): {
  winners: typeof keyed;
  losers: Array<{ key: string; occ: Occurrence; index: number; winner: Occurrence }>;
} {
  const best = new Map<string, { key: string; occ: Occurrence; index: number }>();
  for (const entry of keyed) {
    const current = best.get(entry.key);
    if (current === undefined || entry.occ.sequence >= current.occ.sequence) best.set(entry.key, entry);
  }
  const winners = keyed.filter((entry) => best.get(entry.key) === entry);
  const losers = keyed
    .filter((entry) => best.get(entry.key) !== entry)
    .map((entry) => ({ ...entry, winner: (best.get(entry.key) ?? entry).occ }));
  return { winners, losers };
}

export function toDesiredSessions(
  feedId: string,
  occurrences: readonly Occurrence[],
  options: DesiredOptions = {},
): DesiredResult {
  const defaultOrganizer = normalizeEmail(options.defaultOrganizer ?? '');
  const keyed = occurrences.map((occ, index) => ({ key: occurrenceKey(feedId, occ), occ, index }));
  const { winners, losers } = pickWinners(keyed);

  const skippedByIndex = new Map<number, SkippedSession>();
  for (const loser of losers) {
    skippedByIndex.set(
      loser.index,
      skip(
        loser.key,
        loser.occ,
        'duplicate',
        `${describe(loser.occ)} (SEQUENCE ${loser.occ.sequence}) has the same UID and RECURRENCE-ID as ` +
          `the one starting ${loser.winner.start} (SEQUENCE ${loser.winner.sequence}), which is used instead. ` +
          'Give each session its own UID or RECURRENCE-ID in the timetable export.',
      ),
    );
  }

  const sessions: DesiredSession[] = [];
  for (const { key, occ, index } of winners) {
    const cancelled = occ.status === 'cancelled';
    if (occ.allDay) {
      skippedByIndex.set(
        index,
        skip(
          key,
          occ,
          'allDay',
          `${describe(occ)} is an all-day event; only timed sessions get a Teams meeting.`,
        ),
      );
      continue;
    }
    if (occ.floating) {
      skippedByIndex.set(
        index,
        skip(
          key,
          occ,
          'floating',
          `${describe(occ)} has a local time without a time zone (no TZID, no Z); set the feed's time-zone ` +
            'fallback or export times with TZID.',
        ),
      );
      continue;
    }
    const startMs = Date.parse(occ.start);
    const endMs = Date.parse(occ.end);
    if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs < startMs) {
      skippedByIndex.set(
        index,
        skip(
          key,
          occ,
          'invalidTime',
          `${describe(occ)} has an unreadable or negative duration (end ${occ.end}).`,
        ),
      );
      continue;
    }
    const ownOrganizer = normalizeEmail(occ.organizer?.email ?? '');
    const organizerEmail = ownOrganizer !== '' ? ownOrganizer : defaultOrganizer;
    // A cancelled session never needs an organizer: it only ever removes a meeting, whose record knows
    // its own organizer.
    if (organizerEmail === '' && !cancelled) {
      skippedByIndex.set(
        index,
        skip(
          key,
          occ,
          'noOrganizer',
          `${describe(occ)} has no ORGANIZER and the feed has no default organizer; add ORGANIZER to the ` +
            "event or set the feed's default organizer.",
        ),
      );
      continue;
    }
    const subject = occ.summary.trim() === '' ? UNTITLED_SUBJECT : occ.summary.trim();
    const start = toUtcIso(startMs);
    const end = toUtcIso(endMs);
    sessions.push({
      key,
      uid: occ.uid,
      recurrenceId: occ.recurrenceId,
      subject,
      start,
      end,
      organizerEmail,
      cancelled,
      contentHash: contentHash({ subject, start, end, organizerEmail }),
    });
  }

  sessions.sort((a, b) => compareText(a.start, b.start) || compareText(a.key, b.key));
  const skipped = [...skippedByIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
  return { sessions, skipped };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
