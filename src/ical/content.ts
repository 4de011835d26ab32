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

/** Unfolds and splits the text into components. Lines outside any component are ignored. */
export function parseComponents(text: string): RawComponent[] {
  const roots: RawComponent[] = [];
  const stack: RawComponent[] = [];
  const physical = text.split(/\r\n|\n|\r/);
  let i = 0;
  while (i < physical.length) {
    const startLine = i + 1;
    let logical = physical[i] as string;
    i++;
    // RFC 5545 §3.1: a CRLF followed by a single space or tab is a fold.
    while (i < physical.length) {
      const next = physical[i] as string;
      const c = next.charCodeAt(0);
      if (c !== 32 && c !== 9) break;
      logical += next.slice(1);
      i++;
    }
    if (logical.length === 0) continue;
    const parsed = parseContentLine(logical, startLine);
    const top = stack[stack.length - 1];
    if (!parsed) {
      if (top) top.badLines.push(startLine);
      continue;
    }
    if (parsed.name === 'BEGIN') {
      const comp: RawComponent = { name: parsed.value.trim().toUpperCase(), props: [], children: [], line: startLine, badLines: [] };
      if (top) top.children.push(comp);
      else roots.push(comp);
      stack.push(comp);
    } else if (parsed.name === 'END') {
      const name = parsed.value.trim().toUpperCase();
      // Tolerate missing END lines of inner components (pop up to the matching BEGIN) and misspelt
      // ones (END:VTOOD closes the open VTODO, but never the VCALENDAR).
      const at = stack.map((c) => c.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
      else if (stack.length > 1) stack.pop();
    } else if (top) {
      top.props.push(parsed);
    }
  }
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
    const parts: string[] = [];
    let cur = '';
    for (;;) {
      if (pos >= n) return null;
      const c = text[pos] as string;
      if (c === '"') {
        const close = text.indexOf('"', pos + 1);
        if (close < 0) return null;
        cur += text.slice(pos + 1, close);
        pos = close + 1;
      } else if (c === ',') {
        parts.push(cur);
        cur = '';
        pos++;
      } else if (c === ';' || c === ':') {
        break;
      } else {
        cur += c;
        pos++;
      }
    }
    parts.push(cur);
    params[pname] = parts.join(',');
  }
  if (text[pos] !== ':') return null;
  return { name, params, value: text.slice(pos + 1), line };
}

/** RFC 5545 §3.3.11 TEXT unescaping. */
export function unescapeText(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}
