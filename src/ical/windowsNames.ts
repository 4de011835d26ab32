// Windows zone names as Outlook and Exchange write them in TZIDs: zone ids ("W. Europe Standard
// Time", CLDR windowsZones via windows-iana) and display names ("(UTC+01:00) Amsterdam, Berlin, ...",
// via timezones.json). Both packages are loaded on first use.
import { createRequire } from 'node:module';

// windows-iana (CLDR windowsZones) is loaded on first use of a Windows zone name: its tables cost
// ~9 MB of memory, which feeds with IANA TZIDs or their own VTIMEZONEs never need.
let windowsToIana: ((name: string) => string[]) | undefined;
export function findIana(name: string): string[] {
  windowsToIana ??= (createRequire(import.meta.url)('windows-iana') as typeof import('windows-iana'))
    .findIana;
  return windowsToIana(name);
}

// Windows display names ("(UTC+08:00) Kuala Lumpur, Singapore") by a key that ignores case,
// punctuation, "&" against "and", and the (UTC±hh:mm)/(GMT±hh:mm) prefix. timezones.json lists the
// display text of each Windows zone id; the id is then mapped with CLDR (windows-iana), which is kept
// current, and the package's own IANA list is the fallback for its few ids CLDR does not know.
let displayNames: Map<string, string> | undefined;

function displayKey(text: string): string {
  return text
    .replace(/^\s*\((?:UTC|GMT)(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?\)\s*/i, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '');
}

function displayNameTable(): Map<string, string> {
  if (displayNames) return displayNames;
  const table = new Map<string, string>();
  const zones = createRequire(import.meta.url)('timezones.json') as {
    value: string;
    text: string;
    utc: string[];
  }[];
  for (const z of zones) {
    const iana = findIana(z.value)[0] ?? z.utc[0];
    const key = displayKey(z.text);
    if (iana && key && !table.has(key)) table.set(key, iana);
  }
  displayNames = table;
  return table;
}

/**
 * The IANA zone of a Windows display name, with or without its (UTC±hh:mm) prefix; null when it is
 * none. Two shapes are matched by rule because no package lists them: a display name with a place
 * added after a comma or semicolon ("Pacific Time (US & Canada); Tijuana", older Windows versions),
 * matched by its part before it; and "<Name> Time (<region>)", which Windows ids spell "<Name> Standard
 * Time" (timezones.json gives the summer-time text for Pacific, so CLDR's id is the reliable way).
 */
export function windowsDisplayName(name: string): string | null {
  const table = displayNameTable();
  let text = name;
  for (;;) {
    const found = table.get(displayKey(text));
    if (found) return found;
    const id = /^(?:\([^)]*\)\s*)?(.+?) Time \([^)]*\)$/i.exec(text.trim());
    if (id) {
      const iana = findIana(`${id[1] as string} Standard Time`)[0];
      if (iana) return iana;
    }
    const cut = Math.max(text.lastIndexOf(','), text.lastIndexOf(';'));
    if (cut <= 0) return null;
    text = text.slice(0, cut);
  }
}
