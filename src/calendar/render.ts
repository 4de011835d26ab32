// Published calendars: one VEVENT per timetabled session, with its Teams join link once the meeting
// exists, built with ical.js's Component/Property API (escaping and value types are its job; text.ts
// removes what no escaping makes safe), and a JSON twin.
//
// Decisions:
// - UID is `<occurrence key>@timetable-sync`: the key is derived from (feed, UID, RECURRENCE-ID), so it
//   is stable when the session moves or is renamed, and unique across feeds (organizer calendars).
// - Every session the daemon keeps a row for is published, with or without a meeting: a session whose
//   lecturer has no access policy yet (or is refused, or whose meeting is still being made) appears with
//   its time and room and "Online meeting not yet available" in DESCRIPTION, and gets the link on the
//   first refresh after its meeting exists. A lecture never silently vanishes from a student's calendar.
// - Cancelled sessions are omitted, not published as STATUS:CANCELLED: subscribed calendars are
//   replaced wholesale on refresh, so an omitted event disappears, and a cancelled meeting's join link
//   must not be handed out any more. A 'cancelled' row is also what a moved session leaves at its old
//   key (plan.ts, moves): STATUS:CANCELLED there would show a cancellation that did not happen. Sessions
//   that ended more than 30 days ago are dropped too.
// - DESCRIPTION: the feed's own description, the lecturer (their directory name), then the join details
//   or the status.
// - DTSTAMP is when the feed's current timetable body was accepted (not "now"), so an unchanged
//   calendar renders to identical bytes and its ETag holds between syncs.
// - The join link goes in URL, in LOCATION and DESCRIPTION (what Google/Apple show), and in
//   X-MICROSOFT-SKYPETEAMSMEETINGURL (what Outlook turns into a "Join" button). LOCATION keeps the
//   feed's room first, with the Teams link appended, so students see both.
import { createHash } from 'node:crypto';

import ICAL from 'ical.js';

import { normalizeEmail } from '../core/identity.js';
import type { MeetingRecord } from '../core/state.js';
import type { FeedRecord } from '../storage/index.js';
import { foldCalendar } from './fold.js';
import { safeText, safeUrl } from './text.js';

export const PUBLISHED_PAST_DAYS = 30;
const UID_DOMAIN = 'timetable-sync';

export interface PublishedSession {
  uid: string;
  feedId: string;
  summary: string;
  /** UTC ISO. */
  start: string;
  end: string;
  /** The Teams join link; null while the session has no meeting (yet). */
  joinUrl: string | null;
  /** The feed's LOCATION ('' when none). */
  location: string;
  /** The lecturer as the directory names them, else their e-mail; '' when unknown. */
  lecturer: string;
  /** The feed's DESCRIPTION of the session ('' when none), its line breaks as `\n`. */
  description: string;
  /** UTC ISO used as DTSTAMP. */
  stamp: string;
}

/** What DESCRIPTION says of a session without a meeting. */
export const NO_MEETING_YET = 'Online meeting not yet available.';

/** A session is published unless it is cancelled (or being cancelled) or ended over 30 days ago. */
export function isPublished(record: MeetingRecord, nowMs: number): boolean {
  if (record.state === 'cancelled' || record.state === 'cancelling') return false;
  return Date.parse(record.end) >= nowMs - PUBLISHED_PAST_DAYS * 86_400_000;
}

/** When the feed's current body was accepted (the body version starts with that instant), else its creation. */
export function feedStamp(feed: Pick<FeedRecord, 'bodyVersion' | 'createdAt'>): string {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\d{3}Z-/.exec(feed.bodyVersion ?? '');
  if (match) return `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`;
  return new Date(Date.parse(feed.createdAt)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The published sessions of a feed's rows. `lecturers` maps a normalised e-mail to the directory's
 * display name (src/storage organizers); a lecturer not in it is shown by e-mail. Every text is made
 * safe here, so the .ics and the JSON carry the same values.
 */
export function toPublishedSessions(
  feed: Pick<FeedRecord, 'id' | 'bodyVersion' | 'createdAt'>,
  records: readonly MeetingRecord[],
  nowMs: number,
  lecturers: ReadonlyMap<string, string> = new Map(),
): PublishedSession[] {
  const stamp = feedStamp(feed);
  return records
    .filter((r) => isPublished(r, nowMs))
    .map((r) => ({
      uid: `${r.key}@${UID_DOMAIN}`,
      feedId: feed.id,
      summary: safeText(r.subject),
      start: r.start,
      end: r.end,
      joinUrl: r.meetingId ? safeUrl(r.joinWebUrl) : null,
      location: safeText(r.location ?? ''),
      lecturer: safeText(lecturers.get(normalizeEmail(r.organizerEmail)) ?? r.organizerEmail),
      description: safeText(r.description ?? '', { multiline: true }),
      stamp,
    }));
}

export function sortSessions(sessions: PublishedSession[]): PublishedSession[] {
  return [...sessions].sort((a, b) => a.start.localeCompare(b.start) || a.uid.localeCompare(b.uid));
}

function utc(iso: string): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(iso), true);
}

function toVevent(session: PublishedSession): ICAL.Component {
  const event = new ICAL.Component('vevent');
  event.addPropertyWithValue('uid', session.uid);
  event.addPropertyWithValue('dtstamp', utc(session.stamp));
  event.addPropertyWithValue('dtstart', utc(session.start));
  event.addPropertyWithValue('dtend', utc(session.end));
  event.addPropertyWithValue('summary', session.summary);
  const join = session.joinUrl;
  const teams = join ? `Microsoft Teams Meeting: ${join}` : '';
  const location = [session.location, teams].filter((part) => part !== '').join('; ');
  if (location) event.addPropertyWithValue('location', location);
  event.addPropertyWithValue('description', describeSession(session));
  if (join) event.addPropertyWithValue('url', join);
  event.addPropertyWithValue('status', 'CONFIRMED');
  event.addPropertyWithValue('transp', 'OPAQUE');
  if (join) event.addPropertyWithValue('x-microsoft-skypeteamsmeetingurl', join);
  return event;
}

/** DESCRIPTION: the feed's description and the lecturer first, then how to join (or that it cannot yet). */
export function describeSession(
  session: Pick<PublishedSession, 'description' | 'lecturer' | 'joinUrl'>,
): string {
  const lines: string[] = [];
  if (session.description) lines.push(session.description, '');
  if (session.lecturer) lines.push(`Lecturer: ${session.lecturer}`, '');
  if (session.joinUrl) lines.push('Join the Microsoft Teams meeting:', session.joinUrl);
  else lines.push(NO_MEETING_YET, 'The join link appears here as soon as the meeting exists.');
  return lines.join('\n');
}

/** The .ics text: CRLF, folded at 75 octets, one VEVENT per session in start order. */
export function renderIcs(name: string, sessions: PublishedSession[]): string {
  const calendar = new ICAL.Component('vcalendar');
  calendar.addPropertyWithValue('prodid', '-//timetable-sync//Published timetable//EN');
  calendar.addPropertyWithValue('version', '2.0');
  calendar.addPropertyWithValue('calscale', 'GREGORIAN');
  calendar.addPropertyWithValue('x-wr-calname', safeText(name));
  // RFC 7986 §5.7 and its de-facto predecessor: how often subscribers should refresh.
  const refresh = new ICAL.Property('refresh-interval');
  refresh.setParameter('value', 'DURATION');
  refresh.setValue('PT1H');
  calendar.addProperty(refresh);
  calendar.addPropertyWithValue('x-published-ttl', 'PT1H');
  for (const session of sortSessions(sessions)) calendar.addSubcomponent(toVevent(session));
  return foldCalendar(calendar.toString());
}

export function renderJson(name: string, sessions: PublishedSession[]): string {
  return JSON.stringify({
    name: safeText(name),
    events: sortSessions(sessions).map((s) => ({
      uid: s.uid,
      feedId: s.feedId,
      summary: s.summary,
      start: s.start,
      end: s.end,
      location: s.location,
      lecturer: s.lecturer,
      description: s.description,
      joinUrl: s.joinUrl,
      status: s.joinUrl ? 'meetingAvailable' : 'meetingNotYetAvailable',
    })),
  });
}

/** Strong ETag of a body. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 32)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison; `*` matches any current representation. */
export function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const value = candidate.trim();
    return value === '*' || value.replace(/^W\//, '') === opaque;
  });
}
