// Masters and overrides (RFC 5545 §3.8.4.4): the VEVENTs of one UID within one VCALENDAR are one
// item, a master (no RECURRENCE-ID) and overrides that replace single instances of it. Among
// versions of the same master or of the same instance, the highest SEQUENCE wins (the later in the
// file on ties). Overrides without a master stand alone.
//
// Duplicate UIDs: timetabling exports sometimes give two different sessions (two exams weeks apart)
// the same UID, SEQUENCE and DTSTAMP. Masters of the highest SEQUENCE that start at different times
// supersede none of each other, so all are kept, with a warning naming their lines. Identity for the
// sync: the earliest of them keeps the UID's own identity (UID, no RECURRENCE-ID), each later one is
// identified by UID + its own start (its occurrence's recurrenceId is its start), which does not
// depend on the order of the file and keeps each one's meeting across runs.
import type { EventData } from './event.js';
import { emit } from './emit.js';
import { expandMaster, type ExpansionContext } from './expansion.js';
import { frameOf, instantIn, wallIn } from './frame.js';
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

/**
 * The masters of an item that are kept: those of the highest SEQUENCE, one per start (the later in
 * the file on ties); lower SEQUENCEs are older versions (RFC 5545 §3.8.7.4). Sorted by start.
 */
function keptMasters(list: EventData[], ctx: ExpansionContext): EventData[] {
  let top = -Infinity;
  for (const ev of list) if (!ev.recurrenceId && ev.sequence > top) top = ev.sequence;
  const byStart = new Map<number, EventData>();
  for (const ev of list) {
    if (ev.recurrenceId || ev.sequence !== top) continue;
    byStart.set(instantIn(ev.frame, ev.startWall, ctx.axisZone), ev);
  }
  const kept = [...byStart].sort((a, b) => a[0] - b[0]).map(([, ev]) => ev);
  if (kept.length > 1) {
    const first = kept[0] as EventData;
    ctx.warnings.push({
      uid: first.uid,
      line: first.line,
      reason:
        `the events on lines ${kept.map((ev) => ev.line).join(' and ')} have the same UID and SEQUENCE but ` +
        'start at different times: each is kept as a session of its own (give each its own UID in the export)',
    });
    // The earliest keeps the UID's own identity; the others are told apart by their start.
    for (let i = 1; i < kept.length; i++) (kept[i] as EventData).keyedByStart = true;
  }
  return kept;
}

/** Emits one item: the masters' instances that no override replaces, then each override. */
export function expandGroup(list: EventData[], ctx: ExpansionContext): void {
  if (list.length === 1 && !(list[0] as EventData).recurrenceId) {
    // The common case, an event without overrides: no map of them to build.
    expandMaster(list[0] as EventData, NO_OVERRIDES, ctx);
    return;
  }
  const masters = keptMasters(list, ctx);
  const frame = masters.length > 0 ? (masters[0] as EventData).frame : undefined;
  // Keyed by the RECURRENCE-ID as wall time of the master's frame (the override's own without one).
  const overrides = new Map<number, EventData>();
  for (const ev of list) {
    if (!ev.recurrenceId) continue;
    const key = wallIn(ev.recurrenceId, frame ?? frameOf(ev.recurrenceId));
    overrides.set(key, newest(overrides.get(key), ev));
  }
  for (const master of masters) expandMaster(master, overrides, ctx);
  for (const [ridWall, ov] of overrides) {
    const ridFrame = frame ?? frameOf(ov.recurrenceId as TimeValue);
    emit(ov, ov.frame, ov.startWall, ov.duration, ridFrame, ridWall, ctx);
  }
}
