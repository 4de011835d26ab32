// ical.js, loaded on first use. The engine needs it only for recurrence rules that the arithmetic
// paths do not cover (recur.ts: MONTHLY, YEARLY, BY parts other than plain BYDAY; zones.ts:
// VTIMEZONE onset rules other than "nth/last weekday of a month"). Typical timetable feeds have
// none, and loading it costs ~20-50 ms and ~3-4 MB per process. expandCalendar is synchronous, so a
// dynamic import() cannot be used: require() of the package's CommonJS build (its "require" export)
// loads it synchronously on every Node 20.
import { createRequire } from 'node:module';
import type ICALModule from 'ical.js';

export type Ical = typeof ICALModule;

let loaded: Ical | undefined;

export function ical(): Ical {
  loaded ??= createRequire(import.meta.url)('ical.js') as Ical;
  return loaded;
}
