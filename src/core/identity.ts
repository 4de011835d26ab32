// Identity of a timetabled session and of what its meeting should look like.
// Keys end up as Azure Table RowKeys and Graph createOrGet externalIds, so they are short lower-case hex
// (never `/ \ # ?`, never control characters) and depend only on what identifies the session.

import { createHash } from 'node:crypto';

import type { Occurrence } from './occurrence.js';

/** Length of an occurrence key: 128 bits of sha256 — collisions are not a practical concern per feed. */
const KEY_HEX_LENGTH = 32;

function sha256Hex(parts: readonly string[]): string {
  // JSON framing keeps ('a', 'bc') and ('ab', 'c') apart.
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
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
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : toUtcIso(ms);
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
  return sha256Hex(parts).slice(0, KEY_HEX_LENGTH);
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
}

/** Fingerprint of what the meeting should look like; a difference means "PATCH it". */
export function contentHash(content: MeetingContent): string {
  return sha256Hex([
    'v1',
    content.subject,
    normalizeInstant(content.start),
    normalizeInstant(content.end),
    normalizeEmail(content.organizerEmail),
  ]).slice(0, KEY_HEX_LENGTH);
}
