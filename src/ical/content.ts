// Content-line tokenizer (RFC 5545 §3.1 folding, §3.2 parameters) producing a component tree with the
// source line of every property and component.
//
// Why not ICAL.parse for this step: ICAL.parse throws on the first malformed line anywhere, so one
// broken event would make the whole feed unusable, and its typed value decoding silently mangles
// mistyped values (`EXDATE:20200101` without VALUE=DATE becomes "2020-01-01T::"). We keep raw values
// and decode them ourselves; ical.js still parses and iterates recurrence rules (see recur.ts).

export interface ContentLine {
  /** Upper-cased property name. */
  name: string;
  /** Upper-cased parameter names; values with DQUOTEs removed (multi-values stay comma-joined). */
  params: Record<string, string>;
  value: string;
  line: number;
}

export interface RawComponent {
  name: string;
  props: ContentLine[];
  children: RawComponent[];
  line: number;
  /** Lines inside this component that were not valid content lines (kept to warn about them). */
  badLines: number[];
}

/**
 * Unfolds and splits the text into components. Lines outside any component are ignored.
 * `onChild`, when given, receives each completed component directly inside a top-level component
 * (the VEVENTs of a VCALENDAR) and may return true to consume it: it is then not kept in the tree,
 * so a large feed need not be held as content lines all at once. `firstLine` is the line number of
 * the text's first line (for a part cut out of a file).
 */
export function parseComponents(
  text: string,
  onChild?: (comp: RawComponent, parent: RawComponent) => boolean,
  firstLine = 1,
): RawComponent[] {
  const roots: RawComponent[] = [];
  const stack: RawComponent[] = [];
  const n = text.length;
  let pos = 0;
  let lineNo = firstLine - 1;
  const closeTo = (depth: number): void => {
    while (stack.length > depth) {
      const comp = stack.pop() as RawComponent;
      const parent = stack[0];
      if (onChild && stack.length === 1 && parent && onChild(comp, parent)) parent.children.pop();
    }
  };
  // The text is walked in place: an unfolded line is parsed straight from `text` by index, and only a
  // folded one is copied into a string of its own (no array of lines, no string per physical line).
  while (pos < n) {
    const startLine = ++lineNo;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const from = pos;
    const to = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    pos = end + 1;
    let logical: string | null = null;
    // RFC 5545 §3.1: a CRLF followed by a single space or tab is a fold.
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c !== 32 && c !== 9) break;
      lineNo++;
      let e = text.indexOf('\n', pos);
      if (e < 0) e = n;
      const t = e > pos && text.charCodeAt(e - 1) === 13 ? e - 1 : e;
      logical = (logical ?? text.slice(from, to)) + text.slice(pos + 1, Math.max(pos + 1, t));
      pos = e + 1;
    }
    const parsed =
      logical === null
        ? from === to
          ? undefined
          : parseLine(text, from, to, startLine)
        : logical.length === 0
          ? undefined
          : parseLine(logical, 0, logical.length, startLine);
    if (parsed === undefined) continue;
    const top = stack[stack.length - 1];
    if (!parsed) {
      if (top) top.badLines.push(startLine);
      continue;
    }
    if (parsed.name === 'BEGIN') {
      const comp: RawComponent = {
        name: parsed.value.trim().toUpperCase(),
        props: [],
        children: [],
        line: startLine,
        badLines: [],
      };
      if (top) top.children.push(comp);
      else roots.push(comp);
      stack.push(comp);
    } else if (parsed.name === 'END') {
      const name = parsed.value.trim().toUpperCase();
      // Tolerate missing END lines of inner components (pop up to the matching BEGIN) and misspelt
      // ones (END:VTOOD closes the open VTODO, but never the VCALENDAR).
      let at = stack.length - 1;
      while (at >= 0 && (stack[at] as RawComponent).name !== name) at--;
      if (at >= 0) closeTo(at);
      else if (stack.length > 1) closeTo(stack.length - 1);
    } else if (top) {
      top.props.push(parsed);
    }
  }
  closeTo(0);
  return roots;
}

/** Shared by every content line without parameters; never written to (see parseLine). */
const NO_PARAMS: Record<string, string> = Object.freeze({});

// Property names of a typical feed, by length, returned as these constants so that the name of most
// lines is neither copied out of the text nor upper-cased.
const KNOWN_NAMES: (readonly string[] | undefined)[] = [];
for (const name of [
  'UID',
  'END',
  'BEGIN',
  'RRULE',
  'RDATE',
  'DTEND',
  'EXDATE',
  'STATUS',
  'DTSTART',
  'DTSTAMP',
  'SUMMARY',
  'CREATED',
  'LOCATION',
  'SEQUENCE',
  'DURATION',
  'ATTENDEE',
  'ORGANIZER',
  'CATEGORIES',
  'DESCRIPTION',
  'TRANSP',
  'CLASS',
  'LAST-MODIFIED',
  'RECURRENCE-ID',
  'TZID',
  'TZOFFSETFROM',
  'TZOFFSETTO',
  'TZNAME',
]) {
  KNOWN_NAMES[name.length] ??= [] as string[];
  (KNOWN_NAMES[name.length] as string[]).push(name);
}

/**
 * The name of a content line, text[from, to), upper-cased; null when it is not [A-Za-z0-9-]+ after
 * trimming. `chars` tells what parseLine saw: 0 only A-Z, 0-9 and '-' (nearly every real name:
 * common ones are returned as constants), 1 lower-case letters too, 2 anything else, which takes
 * the general path, so that e.g. a name with a dotless i upper-cases exactly as before.
 */
function lineName(text: string, from: number, to: number, chars: number): string | null {
  if (chars === 0) {
    const known = KNOWN_NAMES[to - from];
    if (known)
      for (let i = 0; i < known.length; i++)
        if (text.startsWith(known[i] as string, from)) return known[i] as string;
    return text.slice(from, to);
  }
  if (chars === 1) return text.slice(from, to).toUpperCase();
  const name = text.slice(from, to).trim().toUpperCase();
  return /^[A-Z0-9-]+$/.test(name) ? name : null;
}

export function parseContentLine(text: string, line: number): ContentLine | null {
  return parseLine(text, 0, text.length, line);
}

/** Parses the content line text[start, n). */
function parseLine(text: string, start: number, n: number, line: number): ContentLine | null {
  let pos = start;
  let chars = 0;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (c === 59 /* ; */ || c === 58 /* : */) break;
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45)) chars |= c >= 97 && c <= 122 ? 1 : 2;
    pos++;
  }
  if (pos === start || pos >= n) return null;
  const name = lineName(text, start, pos, chars);
  if (name === null) return null;
  let params = NO_PARAMS;
  while (text.charCodeAt(pos) === 59 /* ; */) {
    pos++;
    const eq = text.indexOf('=', pos);
    if (eq < 0 || eq >= n) return null;
    const pname = text.slice(pos, eq).trim().toUpperCase();
    pos = eq + 1;
    // Parameter values: quoted strings may contain ';', ':' and ','; copy by slices, not by char.
    let value = '';
    let from = pos;
    for (;;) {
      if (pos >= n) return null;
      const c = text.charCodeAt(pos);
      if (c === 34 /* " */) {
        const close = text.indexOf('"', pos + 1);
        if (close < 0 || close >= n) return null;
        value += text.slice(from, pos) + text.slice(pos + 1, close);
        pos = close + 1;
        from = pos;
      } else if (c === 59 /* ; */ || c === 58 /* : */) {
        break;
      } else {
        pos++;
      }
    }
    value += text.slice(from, pos);
    if (params === NO_PARAMS) params = {};
    params[pname] = value;
  }
  if (pos >= n || text.charCodeAt(pos) !== 58 /* : */) return null;
  return { name, params, value: text.slice(pos + 1, n), line };
}

/** RFC 5545 §3.3.11 TEXT unescaping. */
export function unescapeText(value: string): string {
  // As value.replace(/\\([\\;,nN])/g, ...) would, without a callback per escape.
  let at = value.indexOf('\\');
  if (at < 0) return value;
  let out = '';
  let from = 0;
  while (at >= 0) {
    const c = value.charCodeAt(at + 1);
    if (c === 92 /* \ */ || c === 59 /* ; */ || c === 44 /* , */ || c === 110 /* n */ || c === 78 /* N */) {
      out += value.slice(from, at) + (c === 110 || c === 78 ? '\n' : value.charAt(at + 1));
      from = at + 2;
      at = value.indexOf('\\', from);
    } else {
      at = value.indexOf('\\', at + 1);
    }
  }
  return out + value.slice(from);
}
