// RFC 5545 §3.1 content-line folding: no line longer than 75 octets *including* the leading space of
// a continuation line, and never inside a UTF-8 sequence (or a UTF-16 surrogate pair). ical.js folds
// at 75 octets of content, so its continuation lines are 76 octets with the space: we unfold its output
// and fold again here.

/** Removes folding (CRLF or LF followed by one space or tab). */
export function unfoldLines(text: string): string {
  return text.replace(/\r?\n[ \t]/g, '');
}

/** Folds one unfolded content line. */
export function foldLine(line: string, limit = 75): string {
  const segments: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    // The first segment may use the whole limit; continuation lines spend one octet on the space.
    const room = segments.length === 0 ? limit : limit - 1;
    if (octets + size > room && current !== '') {
      segments.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  segments.push(current);
  return segments.join('\r\n ');
}

/** Refolds a whole iCalendar text: unfolds, folds every line, CRLF line ends (§3.1), final CRLF. */
export function foldCalendar(text: string): string {
  return `${unfoldLines(text)
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .map((line) => foldLine(line))
    .join('\r\n')}\r\n`;
}
