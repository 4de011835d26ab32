// Checks an upload must pass on top of what src/admin/feeds.ts validates, made before uploadFeed
// stores anything. The parser is lenient by design (a feed with one broken event still syncs the
// rest), which lets two kinds of damaged upload through that should not replace a timetable:
// - a truncated file (the parser accepts a missing END:VCALENDAR; RFC 5545 §3.4 requires it), and
// - a file in which every VEVENT was rejected (the feed would suddenly have no sessions).
import { decodeCalendarBody, inspectCalendar, type AdminDeps, type FeedSettingsInput } from '../admin/feeds.js';
import { problems } from '../admin/problems.js';
import type { FeedRecord } from '../storage/index.js';

export function checkUpload(deps: AdminDeps, feedId: string, existing: FeedRecord | null, body: Uint8Array, settings: FeedSettingsInput): void {
  const text = decodeCalendarBody(body, deps.config.sync.maxFeedBytes);
  if (!/^BEGIN:VCALENDAR\r?$/im.test(text)) throw problems.invalidCalendar('the upload is not an iCalendar file: it has no BEGIN:VCALENDAR line');
  const lastLine = text.trimEnd().split(/\r?\n/).pop() ?? '';
  if (!/^END:VCALENDAR$/i.test(lastLine.trim())) {
    throw problems.invalidCalendar('the upload ends before END:VCALENDAR: it looks truncated (RFC 5545 §3.4)');
  }
  const effective: FeedSettingsInput = {
    ...(existing ? { defaultOrganizer: existing.defaultOrganizer, timeZone: existing.timeZone, horizonDays: existing.horizonDays } : {}),
    ...settings,
  };
  const { result } = inspectCalendar(deps, text, effective, feedId);
  const eventLines: number[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^BEGIN:VEVENT\s*$/i.test(line)) eventLines.push(index + 1);
  });
  const warned = new Set(result.warnings.map((w) => w.line));
  if (result.occurrences.length === 0 && eventLines.length > 0 && eventLines.every((line) => warned.has(line))) {
    throw problems.invalidCalendar(`none of the ${eventLines.length} events can be used`, { warnings: result.warnings.slice(0, 50) });
  }
}
