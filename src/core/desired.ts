// From expanded occurrences to the sessions the feed wants meetings for (one per occurrence key).
// Everything that cannot become a meeting is reported with a reason an admin can act on — never
// silently dropped.

import type { Occurrence } from './occurrence.js';
import { contentHash, isCanonicalUtc, normalizeEmail, occurrenceKey, toUtcIso } from './identity.js';
import {
  emailLengthProblem,
  eventFieldProblem,
  forDisplay,
  MAX_LOCATION_CHARS,
  MAX_PUBLISHED_DESCRIPTION_CHARS,
  MAX_SUBJECT_CHARS,
  MAX_UID_CHARS,
} from './limits.js';

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
  /** The feed's LOCATION ('' when none): published beside the join link; not part of the Teams meeting. */
  location: string;
  /**
   * The feed's DESCRIPTION, cut to MAX_PUBLISHED_DESCRIPTION_CHARS ('' or absent when none): published
   * only, never sent to Teams (not in contentHash).
   */
  description?: string;
}

export type SkipReason = 'allDay' | 'floating' | 'noOrganizer' | 'duplicate' | 'invalidTime' | 'tooLong';

/**
 * One session that gets no meeting. A rule that repeats every minute skips 170,000 sessions of one
 * event: each carries only its key and start of its own; uid, summary and detail are the event's
 * strings, shared by all its sessions (uid and summary as read: cut them with forDisplay to show them).
 */
export interface SkippedSession {
  key: string;
  uid: string;
  recurrenceId: string | null;
  summary: string;
  start: string;
  reason: SkipReason;
  /** What happened and what to change in the feed or the settings (about the event: see `start`). */
  detail: string;
}

export interface DesiredOptions {
  /** Organizer for events without ORGANIZER (a feed setting); null/undefined = none. */
  defaultOrganizer?: string | null;
  /** meetingOptionsKey() of the configured meeting options, part of every session's contentHash. */
  meetingOptions?: string;
  /**
   * The occurrences are the caller's to give up: each entry of the array is cleared once read, so a
   * semester's occurrences and its sessions are not held at full size together.
   */
  consumeOccurrences?: boolean;
}

export interface DesiredResult {
  /** Sorted by start, then key. */
  sessions: DesiredSession[];
  /** In input order. */
  skipped: SkippedSession[];
}

export const UNTITLED_SUBJECT = '(untitled session)';

function describe(occ: Occurrence): string {
  const summary = occ.summary.trim();
  const what = summary === '' ? 'an untitled event' : `"${forDisplay(summary)}"`;
  const uid = occ.uid === '' ? 'without UID' : `UID ${forDisplay(occ.uid)}`;
  return `${what} (${uid})`;
}

/**
 * The skipped-session records of one call: the detail of a reason is written once per event (UID and
 * summary), not once per session, and the same string is shared by every session of the event.
 */
function skipper(): (
  key: string,
  occ: Occurrence,
  reason: SkipReason,
  detail: (what: string) => string,
) => SkippedSession {
  const details = new Map<SkipReason, Map<string, Map<string, string>>>();
  return (key, occ, reason, detail) => {
    let byUid = details.get(reason);
    if (!byUid) details.set(reason, (byUid = new Map<string, Map<string, string>>()));
    let bySummary = byUid.get(occ.uid);
    if (!bySummary) byUid.set(occ.uid, (bySummary = new Map<string, string>()));
    let text = bySummary.get(occ.summary);
    if (text === undefined) bySummary.set(occ.summary, (text = detail(describe(occ))));
    return {
      key,
      uid: occ.uid,
      recurrenceId: occ.recurrenceId,
      summary: occ.summary,
      start: occ.start,
      reason,
      detail: text,
    };
  };
}

/** An occurrence's start or end as the session carries it; null when the text is not an instant. */
interface Instant {
  ms: number;
  iso: string;
}

export function toDesiredSessions(
  feedId: string,
  occurrences: readonly Occurrence[],
  options: DesiredOptions = {},
): DesiredResult {
  const defaultOrganizer = normalizeEmail(options.defaultOrganizer ?? '');
  const meetingOptions = options.meetingOptions ?? '';

  // A semester repeats a few hundred organizers, a few thousand subjects and instants across 200,000+
  // sessions: each distinct value is worked out once and shared by every session that has it.
  const shared = new Map<string, string>();
  const share = (value: string): string => {
    const known = shared.get(value);
    if (known !== undefined) return known;
    shared.set(value, value);
    return value;
  };
  const instants = new Map<string, Instant | null>();
  const instant = (text: string): Instant | null => {
    let known = instants.get(text);
    if (known === undefined) {
      const ms = Date.parse(text);
      // Text already in the one format the core emits is kept (no copy per session).
      known = Number.isNaN(ms) ? null : { ms, iso: share(isCanonicalUtc(text) ? text : toUtcIso(ms)) };
      instants.set(text, known);
    }
    return known;
  };
  const emails = new Map<string, string>();
  const email = (raw: string): string => {
    let known = emails.get(raw);
    if (known === undefined) {
      known = share(normalizeEmail(raw));
      emails.set(raw, known);
    }
    return known;
  };

  // The winner per key: highest SEQUENCE (RFC 5545 §3.8.7.4: the later revision), then the later one
  // in input order. The others are skipped as duplicates. Found over the indexes in key order (a map of
  // 200,000+ keys would be most of the memory of this step).
  const keys: string[] = new Array<string>(occurrences.length);
  for (let index = 0; index < occurrences.length; index++)
    keys[index] = occurrenceKey(feedId, occurrences[index] as Occurrence);
  const byKey = Uint32Array.from(keys.keys()).sort(
    (a, b) => compareText(keys[a] as string, keys[b] as string) || a - b,
  );
  const isWinner = new Uint8Array(occurrences.length);
  for (let at = 0; at < byKey.length;) {
    let winner = byKey[at] as number;
    let next = at + 1;
    for (; next < byKey.length && keys[byKey[next] as number] === keys[winner]; next++) {
      const index = byKey[next] as number; // later in input order than every index before it
      if ((occurrences[index] as Occurrence).sequence >= (occurrences[winner] as Occurrence).sequence)
        winner = index;
    }
    isWinner[winner] = 1;
    at = next;
  }

  // Whether an organizer's address fits (once per distinct address: the default is shared by many).
  const emailProblems = new Map<string, string | null>();
  const emailProblem = (address: string): string | null => {
    let known = emailProblems.get(address);
    if (known === undefined) {
      known = emailLengthProblem(address);
      emailProblems.set(address, known);
    }
    return known;
  };

  const sessions: DesiredSession[] = [];
  // In input order, as the occurrences are visited.
  const skipped: SkippedSession[] = [];
  const skip = skipper();
  const consumed = options.consumeOccurrences ? (occurrences as Array<Occurrence | undefined>) : null;
  for (let index = 0; index < occurrences.length; index++) {
    const occ = occurrences[index] as Occurrence;
    if (consumed) consumed[index] = undefined;
    const key = keys[index] as string;
    if (isWinner[index] !== 1) {
      skipped.push(
        skip(
          key,
          occ,
          'duplicate',
          (what) =>
            `${what} has the same UID and RECURRENCE-ID as another event of the feed with the same or a ` +
            'higher SEQUENCE (the later one in the file wins a tie), which is used instead. Give each ' +
            'session its own UID or RECURRENCE-ID in the timetable export.',
        ),
      );
      continue;
    }
    const cancelled = occ.status === 'cancelled';
    if (occ.allDay) {
      skipped.push(
        skip(
          key,
          occ,
          'allDay',
          (what) => `${what} is an all-day event; only timed sessions get a Teams meeting.`,
        ),
      );
      continue;
    }
    if (occ.floating) {
      skipped.push(
        skip(
          key,
          occ,
          'floating',
          (what) =>
            `${what} has a local time without a time zone (no TZID, no Z); set the feed's time-zone ` +
            'fallback or export times with TZID.',
        ),
      );
      continue;
    }
    const start = instant(occ.start);
    const end = instant(occ.end);
    if (start === null || end === null || end.ms < start.ms) {
      skipped.push(
        skip(key, occ, 'invalidTime', (what) => `${what} has an unreadable or negative duration.`),
      );
      continue;
    }
    const ownOrganizer = email(occ.organizer?.email ?? '');
    const organizerEmail = ownOrganizer !== '' ? ownOrganizer : defaultOrganizer;
    // A cancelled session never needs an organizer: it only ever removes a meeting, whose record knows
    // its own organizer.
    if (organizerEmail === '' && !cancelled) {
      skipped.push(
        skip(
          key,
          occ,
          'noOrganizer',
          (what) =>
            `${what} has no ORGANIZER and the feed has no default organizer; add ORGANIZER to the ` +
            "event or set the feed's default organizer.",
        ),
      );
      continue;
    }
    // The last gate before a session can be stored or sent: uploads and syncs skip such events earlier
    // (per VEVENT, with its line: sync/loadFeed.ts), this catches any other caller and a default
    // organizer stored before the limit was checked.
    const tooLong =
      occ.uid.length > MAX_UID_CHARS ||
      occ.summary.length > MAX_SUBJECT_CHARS ||
      occ.location.length > MAX_LOCATION_CHARS
        ? eventFieldProblem({
            uid: occ.uid,
            summary: occ.summary,
            location: occ.location,
            organizerEmail: '',
          })
        : null;
    const organizerTooLong = tooLong === null ? emailProblem(organizerEmail) : null;
    if (tooLong !== null || organizerTooLong !== null) {
      skipped.push(
        skip(key, occ, 'tooLong', (what) =>
          tooLong !== null
            ? `${what}: its ${tooLong}; shorten it in the timetable export.`
            : `${what}: its organizer ${forDisplay(organizerEmail)} ${organizerTooLong}; fix ORGANIZER ` +
              "or the feed's default organizer.",
        ),
      );
      continue;
    }
    const summary = occ.summary.trim();
    const subject = summary === '' ? UNTITLED_SUBJECT : share(summary);
    sessions.push({
      key,
      uid: occ.uid,
      recurrenceId: occ.recurrenceId,
      subject,
      start: start.iso,
      end: end.iso,
      organizerEmail,
      cancelled,
      contentHash: contentHash({
        subject,
        start: start.iso,
        end: end.iso,
        organizerEmail,
        options: meetingOptions,
      }),
      location: share(occ.location.trim()),
      description: share(occ.description.trim().slice(0, MAX_PUBLISHED_DESCRIPTION_CHARS)),
    });
  }

  sessions.sort((a, b) => compareText(a.start, b.start) || compareText(a.key, b.key));
  return { sessions, skipped };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
