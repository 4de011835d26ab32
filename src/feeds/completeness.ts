// Whether a calendar body is a whole timetable and may replace the current version of a feed.
// The parser is lenient by design (a feed with one broken event still syncs the rest), which would let
// two kinds of damaged body replace a timetable — and empty it: a truncated file (RFC 5545 §3.4 requires
// END:VCALENDAR; a download cut short looks like this) and one in which every VEVENT is unusable.
import type { ExpandWarning } from '../core/occurrence.js';

/** Returns why the body must not replace the feed's current version, or null when it may. */
export function incompleteCalendarReason(
  text: string,
  warnings: readonly ExpandWarning[],
  occurrences: number,
): string | null {
  if (!/^BEGIN:VCALENDAR\r?$/im.test(text))
    return 'it is not an iCalendar file: it has no BEGIN:VCALENDAR line';
  const lastLine = text.trimEnd().split(/\r?\n/).pop() ?? '';
  if (!/^END:VCALENDAR$/i.test(lastLine.trim()))
    return 'it ends before END:VCALENDAR: it looks truncated (RFC 5545 §3.4)';
  const eventLines: number[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^BEGIN:VEVENT\s*$/i.test(line)) eventLines.push(index + 1);
  });
  const warned = new Set(warnings.map((w) => w.line));
  if (occurrences === 0 && eventLines.length > 0 && eventLines.every((line) => warned.has(line))) {
    return `none of its ${eventLines.length} events can be used`;
  }
  return null;
}
