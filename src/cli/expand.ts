// `timetable-sync expand FILE --from YYYY-MM-DD --to YYYY-MM-DD [--format json|table] [--tz ZONE]`:
// prints the occurrences of an iCalendar file that overlap [from, to).
import { readFile } from 'node:fs/promises';
import type { ExpandResult, Occurrence } from '../core/occurrence.js';
import { CalendarError, expandCalendar, resolveDefaultTimeZone, wallToUtc } from '../ical/index.js';
import type { CommandArgs } from './args.js';
import { UsageError, unreadableFile } from './errors.js';

const USAGE =
  'usage: timetable-sync expand FILE --from YYYY-MM-DD --to YYYY-MM-DD [--format json|table] [--tz ZONE]';

function parseDay(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${flag} is required\n${USAGE}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(ms).toISOString().slice(0, 10) !== value)
    throw new UsageError(`--${flag} must be a date YYYY-MM-DD, got '${value}'`);
  return ms;
}

export async function run(args: CommandArgs): Promise<number> {
  const file = args.positionals[0] as string;
  const from = parseDay('from', args.string('from'));
  const to = parseDay('to', args.string('to'));
  if (to <= from)
    throw new UsageError(`--to (${args.string('to')}) must be after --from (${args.string('from')})`);
  const format = args.string('format') ?? 'table';
  if (format !== 'json' && format !== 'table')
    throw new UsageError(`--format must be json or table, got '${format}'`);
  const tz = args.string('tz');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw unreadableFile(null, file, e);
  }
  // With --tz the window's dates are days in that zone (and floating times are read in it);
  // without, they are UTC days.
  const zone = resolveDefaultTimeZone(tz);
  const window = zone ? { from: wallToUtc(zone, from), to: wallToUtc(zone, to) } : { from, to };
  let result: ExpandResult;
  try {
    result = expandCalendar(text, window, tz ? { defaultTimeZone: tz } : {});
  } catch (e) {
    // Name the file in whole-file errors ("x.ics: not an iCalendar file: ...").
    if (e instanceof CalendarError) throw new CalendarError(e.code, `${file}: ${e.message}`);
    throw e;
  }
  process.stdout.write(format === 'json' ? toJson(result) : toTable(result));
  return 0;
}

function toJson(result: ExpandResult): string {
  return `${JSON.stringify({ occurrences: result.occurrences, warnings: result.warnings })}\n`;
}

function toTable(result: ExpandResult): string {
  const header = ['START', 'END', 'STATUS', 'SUMMARY', 'UID'];
  const rows = result.occurrences.map((o: Occurrence) => [
    o.start,
    o.end,
    o.status,
    o.summary.replace(/\s+/g, ' '),
    o.uid,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push(`${result.occurrences.length} occurrence${result.occurrences.length === 1 ? '' : 's'}`);
  for (const w of result.warnings)
    out.push(`warning: ${w.uid ? `${w.uid}: ` : ''}${w.line ? `line ${w.line}: ` : ''}${w.reason}`);
  return `${out.join('\n')}\n`;
}
