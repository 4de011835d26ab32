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
 * so a large feed need not be held as content lines all at once.
 */
export function parseComponents(
  text: string,
  onChild?: (comp: RawComponent, parent: RawComponent) => boolean,
): RawComponent[] {
  const roots: RawComponent[] = [];
  const stack: RawComponent[] = [];
  const n = text.length;
  let pos = 0;
  let lineNo = 0;
  // Reads one physical line (without its CR/LF) and advances pos.
  const readLine = (): string => {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const line = text.slice(pos, end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    pos = end + 1;
    lineNo++;
    return line;
  };
  const closeTo = (depth: number): void => {
    while (stack.length > depth) {
      const comp = stack.pop() as RawComponent;
      const parent = stack[0];
      if (onChild && stack.length === 1 && parent && onChild(comp, parent)) parent.children.pop();
    }
  };
  while (pos < n) {
    const startLine = lineNo + 1;
    let logical = readLine();
    // RFC 5545 §3.1: a CRLF followed by a single space or tab is a fold.
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c !== 32 && c !== 9) break;
      logical += readLine().slice(1);
    }
    if (logical.length === 0) continue;
    const parsed = parseContentLine(logical, startLine);
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

export function parseContentLine(text: string, line: number): ContentLine | null {
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const c = text[pos];
    if (c === ';' || c === ':') break;
    pos++;
  }
  if (pos === 0 || pos >= n) return null;
  const name = text.slice(0, pos).trim().toUpperCase();
  if (!/^[A-Z0-9-]+$/.test(name)) return null;
  const params: Record<string, string> = {};
  while (text[pos] === ';') {
    pos++;
    const eq = text.indexOf('=', pos);
    if (eq < 0) return null;
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
        if (close < 0) return null;
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
    params[pname] = value;
  }
  if (text[pos] !== ':') return null;
  return { name, params, value: text.slice(pos + 1), line };
}

/** RFC 5545 §3.3.11 TEXT unescaping. */
export function unescapeText(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}
