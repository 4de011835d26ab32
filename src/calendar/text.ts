// What may go into a published calendar's TEXT values (and their JSON twin). RFC 5545 §3.3.11: TEXT
// holds no control characters; a line break is written as the escape `\n` (ical.js escapes it, with
// `\\`, `;` and `,`). Readers split lines on more than CRLF: a bare CR, VT, FF, NEL (U+0085) and the
// Unicode line and paragraph separators (U+2028/2029) end a line for some of them, so a SUMMARY holding
// one could start a property or an event of its own (a fake event with its own join link). Each of
// them is a line break here (a space where the value is one line); every other control is removed.

/** Every character some reader treats as the end of a line; CRLF first so it counts once. */
// eslint-disable-next-line no-control-regex
const LINE_BREAK = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/g;
/** C0 (but HTAB, which TEXT allows), DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;

/** A TEXT value safe to publish: line breaks as `\n` (multiline) or a space; no control characters. */
export function safeText(value: string, options: { multiline?: boolean } = {}): string {
  return value.replace(LINE_BREAK, options.multiline ? '\n' : ' ').replace(CONTROL, '');
}

/** A join link as published: an https URL of printable ASCII only, else nothing. */
export function safeUrl(value: string | null): string | null {
  return value !== null && /^https:\/\/[\x21-\x7e]+$/.test(value) ? value : null;
}
