// Where an event is in the file, for messages that name it: the 1-based line of the BEGIN:VEVENT of
// each wanted UID (the first VEVENT with it: the master of a recurring event comes before its
// overrides in every export we know). Lines are counted as the content reader counts them ('\n').
// A light scan, not a parse: it runs only for the few events a message names.

/** The BEGIN:VEVENT line of each of `uids` found in `text` (a UID not found is absent). */
export function vEventLines(text: string, uids: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  if (uids.size === 0) return found;
  let eventLine = 0; // 0: not inside a VEVENT
  let depth = 0; // components opened inside the VEVENT (VALARM)
  let lineNo = 0;
  let pos = 0;
  while (pos < text.length && found.size < uids.size) {
    const startLine = ++lineNo;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end).replace(/\r$/, '');
    pos = end + 1;
    // RFC 5545 §3.1 folding: continuation lines start with a space or a tab.
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) {
      lineNo++;
      let next = text.indexOf('\n', pos);
      if (next < 0) next = text.length;
      line += text.slice(pos + 1, next).replace(/\r$/, '');
      pos = next + 1;
    }
    const upper = line.slice(0, 12).toUpperCase();
    if (upper.startsWith('BEGIN:')) {
      if (eventLine === 0 && line.trim().toUpperCase() === 'BEGIN:VEVENT') eventLine = startLine;
      else if (eventLine !== 0) depth++;
    } else if (upper.startsWith('END:')) {
      if (depth > 0) depth--;
      else if (line.trim().toUpperCase() === 'END:VEVENT') eventLine = 0;
    } else if (eventLine !== 0 && depth === 0 && /^UID[;:]/i.test(line)) {
      const uid = line.slice(line.indexOf(':') + 1).trim();
      if (uids.has(uid) && !found.has(uid)) found.set(uid, eventLine);
    }
  }
  return found;
}
