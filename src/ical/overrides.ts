// Masters and overrides (RFC 5545 §3.8.4.4): the VEVENTs of one UID within one VCALENDAR are one
// item, a master (no RECURRENCE-ID) and overrides that replace single instances of it. Among
// versions of the same master or of the same instance, the highest SEQUENCE wins (the later in the
// file on ties). Overrides without a master stand alone.
import type { EventData } from './event.js';
import { emit } from './emit.js';
import { expandMaster, type ExpansionContext } from './expansion.js';
import { frameOf, wallIn } from './frame.js';
import type { TimeValue } from './values.js';

/**
 * Events by item (key: the UID within the file's n-th VCALENDAR, or the event's own position when it
 * has no UID), in file order; expandCalendar fills it as the events stream by.
 */
export type EventGroups = Map<string, EventData[]>;

/** Keeps, among versions of the same item, the one with the highest SEQUENCE (later in file on ties). */
function newest(a: EventData | undefined, b: EventData): EventData {
  if (!a) return b;
  return b.sequence >= a.sequence ? b : a;
}

/** Read-only stand-in for the overrides of an event that has none. */
const NO_OVERRIDES: ReadonlyMap<number, EventData> = new Map();

/** Emits one item: the master's instances that no override replaces, then each override. */
export function expandGroup(list: EventData[], ctx: ExpansionContext): void {
  if (list.length === 1 && !(list[0] as EventData).recurrenceId) {
    // The common case, an event without overrides: no map of them to build.
    expandMaster(list[0] as EventData, NO_OVERRIDES, ctx);
    return;
  }
  let master: EventData | undefined;
  for (const ev of list) if (!ev.recurrenceId) master = newest(master, ev);
  const frame = master ? master.frame : undefined;
  // Keyed by the RECURRENCE-ID as wall time of the master's frame (the override's own without one).
  const overrides = new Map<number, EventData>();
  for (const ev of list) {
    if (!ev.recurrenceId) continue;
    const key = wallIn(ev.recurrenceId, frame ?? frameOf(ev.recurrenceId));
    overrides.set(key, newest(overrides.get(key), ev));
  }
  if (master) expandMaster(master, overrides, ctx);
  for (const [ridWall, ov] of overrides) {
    const ridFrame = frame ?? frameOf(ov.recurrenceId as TimeValue);
    emit(ov, ov.frame, ov.startWall, ov.duration, ridFrame, ridWall, ctx);
  }
}
