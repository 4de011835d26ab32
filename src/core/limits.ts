// How long the fields of a session may be. Everything a feed says lands somewhere with a hard limit:
// the meeting row in Table Storage (UID, subject, location, organizer), the Teams meeting in Graph
// (subject), the organizer row's key (the e-mail). A field over its limit used to be accepted at upload
// and then failed every sync on the row write; it is now refused at the door, per event, with the UID
// and line, so that one bad event never poisons the rest of the feed. Pure: no I/O.

/**
 * Table Storage: a string property holds at most 64 KiB, UTF-16 encoded, so 32,768 UTF-16 code units
 * (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#property-types).
 * Azurite refuses some non-ASCII strings below that (measured: 32,768 × U+07FF is refused, 30,000 ×
 * U+20AC accepted), and a meeting row carries several such fields: each free-text field that is only
 * stored (UID, LOCATION) may use half of it.
 */
export const TABLE_STRING_MAX_UNITS = 32_768;
export const MAX_UID_CHARS = TABLE_STRING_MAX_UNITS / 2;
export const MAX_LOCATION_CHARS = TABLE_STRING_MAX_UNITS / 2;

/**
 * DESCRIPTION is never sent to Teams; it is kept only for the published calendars, cut to this many
 * characters (a session's notes, not a document), so it never refuses an event.
 */
export const MAX_PUBLISHED_DESCRIPTION_CHARS = 1_000;

/** Table Storage: an entity is at most 1 MiB (properties as UTF-16, plus names and keys). */
export const TABLE_ENTITY_MAX_BYTES = 1_048_576;

/**
 * Graph documents no maximum for onlineMeeting.subject (the onlineMeeting resource page lists the
 * property without one, and no issue on microsoftgraph/microsoft-graph-docs names one). Nothing firm, so
 * a conservative limit: 255 characters, the subject limit of Exchange store items, calendar items
 * included (https://learn.microsoft.com/exchange/client-developer/web-service-reference/subject),
 * less the "Cancelled: " a cancelled meeting's subject gets (core/transitions.ts): 244 for the SUMMARY.
 */
export const GRAPH_SUBJECT_MAX_CHARS = 255;
export const CANCELLED_PREFIX_CHARS = 'Cancelled: '.length;
export const MAX_SUBJECT_CHARS = GRAPH_SUBJECT_MAX_CHARS - CANCELLED_PREFIX_CHARS;

/**
 * An e-mail address is at most 254 octets: RFC 5321 §4.5.3.1.3 limits a path to 256 octets, angle
 * brackets included (RFC 3696's erratum 1690 says the same); RFC 6531 keeps the limit in octets for
 * non-ASCII addresses. Counted in UTF-8 octets, so that the organizer row's key (base64url of the
 * address, storage/organizers.ts) stays at 340 characters, under the 512 the storage layer allows.
 */
export const MAX_EMAIL_OCTETS = 254;

/**
 * The largest meeting row the fields above allow, in bytes as Table Storage counts them (UTF-16 for
 * strings), with a generous allowance for the fixed fields (keys, ids, instants, state, last error).
 * Checked against TABLE_ENTITY_MAX_BYTES by a unit test.
 */
export const MAX_MEETING_ROW_BYTES =
  2 *
    (MAX_UID_CHARS +
      MAX_LOCATION_CHARS +
      MAX_PUBLISHED_DESCRIPTION_CHARS +
      GRAPH_SUBJECT_MAX_CHARS +
      MAX_EMAIL_OCTETS) +
  64 * 1024;

/** Characters of a UID, summary or other feed text shown in a warning, a response or a log line. */
export const DISPLAY_CHARS = 80;

/** The fields of one event (VEVENT) that end up stored or sent. DESCRIPTION is neither: not checked. */
export interface EventFields {
  uid: string;
  summary: string;
  location: string;
  /** The ORGANIZER's address as read (lower-cased, without mailto:); '' when none. */
  organizerEmail: string;
}

/** UTF-8 length of `s` (a lone surrogate counts 3, as TextEncoder writes U+FFFD for it). */
function utf8Octets(s: string): number {
  let octets = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) octets += 1;
    else if (code < 0x800) octets += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        octets += 4;
        i++;
      } else octets += 3;
    } else octets += 3;
  }
  return octets;
}

/** 40000 → '40,000' (no locale data needed). */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Why this e-mail address cannot be an organizer (too long), or null when it can. */
export function emailLengthProblem(email: string): string | null {
  // Cheap first: at most 4 octets per UTF-16 unit pair, 3 per unit.
  if (email.length <= MAX_EMAIL_OCTETS / 3) return null;
  const octets = utf8Octets(email);
  if (octets <= MAX_EMAIL_OCTETS) return null;
  return `is ${count(octets)} octets long; an e-mail address has at most ${MAX_EMAIL_OCTETS} (RFC 5321)`;
}

/**
 * The first field of `event` over its limit, as a sentence naming the property, its length and the
 * limit; null when every field fits. The subject is the SUMMARY as the meeting gets it (trimmed).
 */
export function eventFieldProblem(event: EventFields): string | null {
  const uid = event.uid.trim();
  if (uid.length > MAX_UID_CHARS)
    return `UID is ${count(uid.length)} characters long; at most ${count(MAX_UID_CHARS)} can be stored`;
  const summary = event.summary.trim();
  if (summary.length > MAX_SUBJECT_CHARS)
    return (
      `SUMMARY is ${count(summary.length)} characters long; a Teams meeting subject may have at most ` +
      `${MAX_SUBJECT_CHARS}`
    );
  const location = event.location.trim();
  if (location.length > MAX_LOCATION_CHARS)
    return `LOCATION is ${count(location.length)} characters long; at most ${count(MAX_LOCATION_CHARS)} can be stored`;
  const email = emailLengthProblem(event.organizerEmail.trim());
  if (email !== null) return `ORGANIZER ${email}`;
  return null;
}

/** `text` cut to `max` characters (not inside a surrogate pair), with an ellipsis and the full length. */
export function forDisplay(text: string, max: number = DISPLAY_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${count(text.length)} characters)`;
}

/** The first `max` items and how many were left out: every list an answer carries is bounded. */
export function capList<T>(list: readonly T[], max: number): { shown: T[]; omitted: number } {
  return { shown: list.slice(0, max), omitted: Math.max(0, list.length - max) };
}
