// Turning instances into occurrences: the window test, the occurrence limit, start/end/RECURRENCE-ID
// strings (one UTC string per distinct instant, shared by the occurrences at it), and the final sort
// by start. Runs once per occurrence: no closures or per-call allocations beyond the occurrence.
import type { ExpandWindow, Occurrence } from '../core/occurrence.js';
import { CalendarError } from './errors.js';
import type { EventData } from './event.js';
import { formatIn, type Duration, type Frame } from './frame.js';
import { formatDate, formatLocal, formatUtc } from './values.js';
import { DAY, wallToUtc, type Zone } from './zones.js';

/** The part of an expansion's state that emission uses. */
export interface EmitContext {
  window: ExpandWindow;
  /** Zone used to place floating times and all-day dates on the UTC axis for the window test. */
  axisZone: Zone;
  maxOccurrences: number;
  /** Occurrences emitted so far (in the window). */
  count: number;
  out: Occurrence[];
  /** Distinct UTC instants met while emitting (starts, and ends in zones), by id. */
  instants: number[];
  /** Id of each instant in `instants`. */
  instantIds: Map<number, number>;
  /** UTC string of each instant ('' until first needed): occurrences at one instant share it. */
  utcText: string[];
  /** Instant id of the start of out[i], for sorting. */
  startIds: number[];
}

/**
 * By start; ties keep file order (emission order), which is deterministic. A timetable has few
 * distinct start instants: those are sorted (by comparator, but only once each), then occurrences
 * are placed by a stable counting sort on their instant's rank, in small-integer arithmetic.
 */
export function sortByStart(ctx: EmitContext): Occurrence[] {
  const { out, startIds, instants } = ctx;
  const k = instants.length;
  const n = out.length;
  const byTime = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => (instants[a] as number) - (instants[b] as number),
  );
  const rank = new Int32Array(k);
  for (let r = 0; r < k; r++) rank[byTime[r] as number] = r;
  // next[r]: where the next occurrence of rank r goes (counts, then running sums).
  const next = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) {
    const r = rank[startIds[i] as number] as number;
    next[r + 1] = (next[r + 1] as number) + 1;
  }
  for (let r = 0; r < k; r++) next[r + 1] = (next[r + 1] as number) + (next[r] as number);
  const sorted = out.slice();
  for (let i = 0; i < n; i++) {
    const r = rank[startIds[i] as number] as number;
    const at = next[r] as number;
    next[r] = at + 1;
    sorted[at] = out[i] as Occurrence;
  }
  return sorted;
}

/** Small integer id of a UTC instant within this call (see EmitContext.instants). */
function instantId(ctx: EmitContext, utc: number): number {
  let id = ctx.instantIds.get(utc);
  if (id === undefined) {
    id = ctx.instants.length;
    ctx.instants.push(utc);
    ctx.utcText.push('');
    ctx.instantIds.set(utc, id);
  }
  return id;
}

/** formatUtc of instant `id`, once per instant and call. */
function utcText(ctx: EmitContext, id: number, utc: number): string {
  let text = ctx.utcText[id] as string;
  if (text === '') {
    text = formatUtc(utc);
    ctx.utcText[id] = text;
  }
  return text;
}

export function tooManyOccurrences(ctx: EmitContext): never {
  throw new CalendarError(
    'tooManyOccurrences',
    `the calendar has more than ${ctx.maxOccurrences} occurrences in the window; narrow the window or check for a recurrence rule without an end`,
  );
}

export function emit(
  ev: EventData,
  frame: Frame,
  startWall: number,
  d: Duration,
  ridFrame: Frame | null,
  ridWall: number,
  ctx: EmitContext,
): void {
  let startAt: number;
  let endAt: number;
  let endWall = 0;
  if (frame.kind === 'zone') {
    startAt = wallToUtc(frame.zone, startWall);
    endAt = (d.days ? wallToUtc(frame.zone, startWall + d.days * DAY) : startAt) + d.ms;
  } else {
    endWall = startWall + d.days * DAY + d.ms;
    startAt = wallToUtc(ctx.axisZone, startWall);
    endAt = wallToUtc(ctx.axisZone, endWall);
  }
  const window = ctx.window;
  // Keep occurrences overlapping [from, to); an instant event counts when it lies in the window.
  if (!(startAt < window.to && (endAt > window.from || (endAt === startAt && startAt >= window.from))))
    return;
  if (++ctx.count > ctx.maxOccurrences) tooManyOccurrences(ctx);
  const startId = instantId(ctx, startAt);
  let start: string;
  let end: string;
  if (frame.kind === 'zone') {
    start = utcText(ctx, startId, startAt);
    end = endAt === startAt ? start : utcText(ctx, instantId(ctx, endAt), endAt);
  } else if (frame.kind === 'date') {
    start = formatDate(startWall);
    end = formatDate(endWall);
  } else {
    start = formatLocal(startWall);
    end = formatLocal(endWall);
  }
  ctx.startIds.push(startId);
  ctx.out.push({
    uid: ev.uid,
    recurrenceId:
      ridFrame === null
        ? null
        : ridFrame === frame && ridWall === startWall
          ? start
          : formatIn(ridFrame, ridWall),
    start,
    end,
    allDay: frame.kind === 'date',
    floating: frame.kind === 'floating',
    summary: ev.summary,
    description: ev.description,
    location: ev.location,
    organizer: ev.organizer,
    attendees: ev.attendees,
    status: ev.status,
    sequence: ev.sequence,
  });
}

/** A mark of how much has been emitted, to go back to with dropEmittedSince. */
export function emittedMark(ctx: EmitContext): number {
  return ctx.out.length;
}

/** Takes back the occurrences emitted since `mark` (their series turned out to be unusable). */
export function dropEmittedSince(ctx: EmitContext, mark: number): void {
  ctx.count -= ctx.out.length - mark;
  ctx.out.length = mark;
  ctx.startIds.length = mark;
}
