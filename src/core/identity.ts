// Identity of a timetabled session and of what its meeting should look like.
// Keys end up as Azure Table RowKeys and Graph createOrGet externalIds, so they are short lower-case hex
// (never `/ \ # ?`, never control characters) and depend only on what identifies the session.

import { createHash } from 'node:crypto';

import type { Occurrence } from './occurrence.js';

/** Length of an occurrence key: 128 bits of sha256 — collisions are not a practical concern per feed. */
const KEY_HEX_LENGTH = 32;

/**
 * The first KEY_HEX_LENGTH hex digits of sha256(JSON of parts). Encoded from the digest's first bytes,
 * not sliced from the 64-digit hex: a slice would keep the whole 64-digit string alive behind every key
 * and hash (a semester holds hundreds of thousands of them).
 */
function sha256Hex32(parts: readonly string[]): string {
  // JSON framing keeps ('a', 'bc') and ('ab', 'c') apart.
  return createHash('sha256')
    .update(JSON.stringify(parts))
    .digest()
    .toString('hex', 0, KEY_HEX_LENGTH / 2);
}

/** Lower-cased address without `mailto:` (any case) and surrounding white space. */
export function normalizeEmail(s: string): string {
  return s
    .trim()
    .replace(/^mailto:/i, '')
    .trim()
    .toLowerCase();
}

/**
 * The same instant always gives the same text: '2025-01-06T09:00:00Z', '2025-01-06T09:00:00.000Z' and
 * '2025-01-06T10:00:00+01:00' all mean one RECURRENCE-ID. Floating/date values (no zone) are kept as they
 * are, since there is no instant to normalise to.
 */
function normalizeInstant(value: string): string {
  if (isCanonicalUtc(value)) return value;
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : toUtcIso(ms);
}

function digits(s: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * True when `value` is exactly what toUtcIso() gives for its instant (`YYYY-MM-DDTHH:MM:SSZ` naming a
 * real date and time, so toUtcIso(Date.parse(value)) === value), checked without allocating.
 */
export function isCanonicalUtc(value: string): boolean {
  if (
    value.length !== 20 ||
    value.charCodeAt(4) !== 45 || // -
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 || // T
    value.charCodeAt(13) !== 58 || // :
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 90 // Z
  )
    return false;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** `YYYY-MM-DDTHH:MM:SSZ` (no milliseconds): the one instant format the core emits. */
export function toUtcIso(ms: number): string {
  // slice, not a regex: this runs once per occurrence on the planning hot path.
  const iso = new Date(ms).toISOString();
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Stable identity of a session: (feedId, UID, RECURRENCE-ID). RFC 5545 §3.8.4.4: an instance of a
 * recurring event is identified by UID + RECURRENCE-ID (its original start), which does not change when
 * the instance is moved; SEQUENCE (§3.8.7.4) counts revisions and is deliberately left out, as are
 * SUMMARY and the current start.
 *
 * Events without a UID (invalid per RFC 5545, but exported by some timetabling tools) have no stable
 * identity: summary + original start is the best available, so renaming or moving such an event is seen
 * as one session removed and another added.
 */
export function occurrenceKey(
  feedId: string,
  occ: Pick<Occurrence, 'uid' | 'recurrenceId' | 'start' | 'summary'>,
): string {
  const uid = occ.uid.trim();
  const instance = occ.recurrenceId === null ? 'single' : normalizeInstant(occ.recurrenceId);
  const parts =
    uid !== ''
      ? ['uid', feedId, uid, instance]
      : ['nouid', feedId, occ.summary.trim(), normalizeInstant(occ.recurrenceId ?? occ.start)];
  return sha256Hex32(parts);
}

/**
 * createOrGet idempotency key (Graph scopes it per organizer). The same (key, generation) always gives
 * the same meeting, so a crashed create is repeated safely; a new generation (after a cancel, or an
 * organizer change) gives a fresh meeting. ASCII, 36–40 characters.
 */
export function externalIdFor(key: string, generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new RangeError(`generation must be a non-negative integer, got ${generation}`);
  }
  return `tts-${key}-${generation}`;
}

export interface MeetingContent {
  subject: string;
  start: string;
  end: string;
  organizerEmail: string;
  /** meetingOptionsKey() of the configured lobby and presenter options ('' when none are configured). */
  options?: string;
}

/**
 * Fingerprint of what the meeting should look like; a difference means "PATCH it". The meeting options
 * are part of it (v2), so meetings made before they were applied, or under other MEETING_* settings, are
 * PATCHed once.
 */
export function contentHash(content: MeetingContent): string {
  return sha256Hex32([
    'v2',
    content.subject,
    normalizeInstant(content.start),
    normalizeInstant(content.end),
    normalizeEmail(content.organizerEmail),
    content.options ?? '',
  ]);
}

/** The configured meeting options as one string for contentHash. */
export function meetingOptionsKey(options: { lobbyBypass?: string; allowedPresenters?: string }): string {
  return `lobby=${options.lobbyBypass ?? ''};presenters=${options.allowedPresenters ?? ''}`;
}

/** Fingerprint of a feed body: an unchanged body (and horizon day) skips the whole run. */
export function feedContentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
