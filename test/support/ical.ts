// Inline calendars for the iCalendar engine's tests: a VCALENDAR around content lines, a VEVENT, and
// expansion over a window given as dates.
import type { ExpandResult } from '../../src/core/occurrence.js';
import { expandCalendar, type ExpandOptions } from '../../src/ical/index.js';

export function cal(...lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n');
}

export function event(...lines: string[]): string[] {
  return ['BEGIN:VEVENT', ...lines, 'END:VEVENT'];
}

export function expand(text: string, from: string, to: string, options?: ExpandOptions): ExpandResult {
  return expandCalendar(
    text,
    { from: Date.parse(`${from}T00:00:00Z`), to: Date.parse(`${to}T00:00:00Z`) },
    options,
  );
}

/** "start end" pairs, the part of an occurrence users look at first. */
export function times(result: ExpandResult): string[] {
  return result.occurrences.map((o) => `${o.start} ${o.end}`);
}
