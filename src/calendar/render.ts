// Published calendars: one VEVENT per timetabled session that has a live Teams meeting, built with
// ical.js's Component/Property API (escaping and value types are its job), and a JSON twin.
//
// Decisions:
// - UID is `<occurrence key>@timetable-sync`: the key is derived from (feed, UID, RECURRENCE-ID), so it
//   is stable when the session moves or is renamed, and unique across feeds (organizer calendars).
// - Cancelled sessions are omitted, not published as STATUS:CANCELLED: subscribed calendars are
//   replaced wholesale on refresh, so an omitted event disappears, and a cancelled meeting's join link
//   must not be handed out any more. Sessions that ended more than 30 days ago are dropped too.
// - DTSTAMP is when the feed's current timetable body was accepted (not "now"), so an unchanged
//   calendar renders to identical bytes and its ETag holds between syncs.
// - The join link goes in URL, in LOCATION and DESCRIPTION (what Google/Apple show), and in
//   X-MICROSOFT-SKYPETEAMSMEETINGURL (what Outlook turns into a "Join" button). LOCATION keeps the
//   feed's room first, with the Teams link appended, so students see both.
import { createHash } from 'node:crypto';

import ICAL from 'ical.js';

import type { MeetingRecord } from '../core/state.js';
import type { FeedRecord } from '../storage/index.js';
import { foldCalendar } from './fold.js';

export const PUBLISHED_PAST_DAYS = 30;
const UID_DOMAIN = 'timetable-sync';

export interface PublishedSession {
  uid: string;
  feedId: string;
  summary: string;
  /** UTC ISO. */
  start: string;
  end: string;
  joinUrl: string;
  /** The feed's LOCATION ('' when none). */
  location: string;
  /** UTC ISO used as DTSTAMP. */
  stamp: string;
}

/** A row's meeting is published while it exists and is not being cancelled. */
export function isPublished(record: MeetingRecord, nowMs: number): boolean {
  if (!record.joinWebUrl || !record.meetingId) return false;
  if (record.state === 'cancelled' || record.state === 'cancelling') return false;
  return Date.parse(record.end) >= nowMs - PUBLISHED_PAST_DAYS * 86_400_000;
}

/** When the feed's current body was accepted (the body version starts with that instant), else its creation. */
export function feedStamp(feed: Pick<FeedRecord, 'bodyVersion' | 'createdAt'>): string {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\d{3}Z-/.exec(feed.bodyVersion ?? '');
  if (match) return `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`;
  return new Date(Date.parse(feed.createdAt)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toPublishedSessions(
  feed: Pick<FeedRecord, 'id' | 'bodyVersion' | 'createdAt'>,
  records: readonly MeetingRecord[],
  nowMs: number,
): PublishedSession[] {
  const stamp = feedStamp(feed);
  return records
    .filter((r) => isPublished(r, nowMs))
    .map((r) => ({
      uid: `${r.key}@${UID_DOMAIN}`,
      feedId: feed.id,
      summary: r.subject,
      start: r.start,
      end: r.end,
      joinUrl: r.joinWebUrl as string,
      location: r.location ?? '',
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
  const teams = `Microsoft Teams Meeting: ${session.joinUrl}`;
  event.addPropertyWithValue('location', session.location ? `${session.location}; ${teams}` : teams);
  event.addPropertyWithValue('description', `Join the Microsoft Teams meeting:\n${session.joinUrl}`);
  event.addPropertyWithValue('url', session.joinUrl);
  event.addPropertyWithValue('status', 'CONFIRMED');
  event.addPropertyWithValue('transp', 'OPAQUE');
  event.addPropertyWithValue('x-microsoft-skypeteamsmeetingurl', session.joinUrl);
  return event;
}

/** The .ics text: CRLF, folded at 75 octets, one VEVENT per session in start order. */
export function renderIcs(name: string, sessions: PublishedSession[]): string {
  const calendar = new ICAL.Component('vcalendar');
  calendar.addPropertyWithValue('prodid', '-//timetable-sync//Published timetable//EN');
  calendar.addPropertyWithValue('version', '2.0');
  calendar.addPropertyWithValue('calscale', 'GREGORIAN');
  calendar.addPropertyWithValue('x-wr-calname', name);
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
    name,
    events: sortSessions(sessions).map((s) => ({
      uid: s.uid,
      feedId: s.feedId,
      summary: s.summary,
      start: s.start,
      end: s.end,
      location: s.location,
      joinUrl: s.joinUrl,
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
