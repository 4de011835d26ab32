// iCalendar bytes before they are decoded. RFC 5545 §3.1 folds by octets, and simple writers split a
// line in the middle of a multi-octet UTF-8 character ("implementations need to unfold lines in such a
// way to properly restore the original sequence"): unfolding has to happen before decoding, or a valid
// file reads as invalid UTF-8.

/** The length of the UTF-8 sequence a lead byte starts; 0 for a continuation or invalid byte. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const isContinuation = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;

/**
 * `bytes` with every fold (CRLF or LF, then a space or tab) that splits a UTF-8 character moved to just
 * after that character. Unfolding the result gives the same text as unfolding the octets, each line
 * keeps its line number, and it decodes as UTF-8 where the unfolded octets do. The same array when no
 * fold splits a character (the usual case: one pass, no copy).
 */
export function joinSplitCharacters(bytes: Uint8Array): Uint8Array {
  let parts: Uint8Array[] | null = null;
  let copied = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0x0a, i + 1)) {
    const ws = bytes[i + 1];
    if (ws !== 0x20 && ws !== 0x09) continue;
    const foldStart = i > 0 && bytes[i - 1] === 0x0d ? i - 1 : i;
    // The incomplete character before the fold: its lead byte within the three bytes before it.
    let lead = foldStart - 1;
    while (lead >= 0 && lead > foldStart - 4 && isContinuation(bytes[lead])) lead--;
    if (lead < 0 || (bytes[lead] as number) < 0xc0) continue;
    const missing = sequenceLength(bytes[lead] as number) - (foldStart - lead);
    if (missing <= 0) continue;
    let moved = 0;
    while (moved < missing && isContinuation(bytes[i + 2 + moved])) moved++;
    if (moved === 0) continue;
    parts ??= [];
    parts.push(
      bytes.subarray(copied, foldStart),
      bytes.subarray(i + 2, i + 2 + moved),
      bytes.subarray(foldStart, i + 2),
    );
    copied = i + 2 + moved;
  }
  if (parts === null) return bytes;
  parts.push(bytes.subarray(copied));
  const out = new Uint8Array(bytes.length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The 1-based line of the first byte that is not valid UTF-8, or null when all of it is. For messages
 * that refuse a file: they name where to look.
 */
export function firstInvalidUtf8Line(bytes: Uint8Array): number | null {
  let line = 1;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number;
    if (b === 0x0a) line++;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(b);
    if (n === 0) return line;
    for (let k = 1; k < n; k++) if (!isContinuation(bytes[i + k])) return line;
    i += n;
  }
  return null;
}
