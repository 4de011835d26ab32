// Frames: how an event's times are placed in time — all-day dates, floating wall time, or wall time of
// a zone — and the conversions of TimeValues into the wall time of a frame. An event's instances are
// computed as wall times of its DTSTART's frame, and turned into instants only when emitted.
import { formatDate, formatLocal, formatUtc, type TimeValue } from './values.js';
import { DAY, UTC_ZONE, utcToWall, wallToUtc, type Zone } from './zones.js';

export type Frame = { kind: 'date' } | { kind: 'floating' } | { kind: 'zone'; zone: Zone };

export interface Duration {
  /** Nominal days, added in wall time. */
  days: number;
  /** Exact milliseconds, added to the instant. */
  ms: number;
}

/** How precisely a value is placed in time: date < floating < UTC or zoned. */
export const precision = (v: TimeValue): number => (v.kind === 'date' ? 0 : v.kind === 'floating' ? 1 : 2);

export function frameOf(v: TimeValue): Frame {
  if (v.kind === 'date') return { kind: 'date' };
  if (v.kind === 'floating') return { kind: 'floating' };
  if (v.kind === 'utc') return { kind: 'zone', zone: UTC_ZONE };
  return { kind: 'zone', zone: v.zone };
}

/** The value as wall time of `frame` (dates at midnight). */
export function wallIn(v: TimeValue, frame: Frame): number {
  if (frame.kind === 'date') return Math.floor(v.wall / DAY) * DAY;
  if (frame.kind === 'floating') return v.wall;
  const zone = frame.zone;
  if (v.kind === 'zoned') return v.zone === zone ? v.wall : utcToWall(zone, wallToUtc(v.zone, v.wall));
  if (v.kind === 'utc') return zone === UTC_ZONE ? v.wall : utcToWall(zone, v.wall);
  return v.wall;
}

/**
 * The UTC instant of wall time `wall` of `frame`; dates and floating times are placed with `axisZone`
 * (the default time zone, else UTC).
 */
export function instantIn(frame: Frame, wall: number, axisZone: Zone): number {
  return frame.kind === 'zone' ? wallToUtc(frame.zone, wall) : wallToUtc(axisZone, wall);
}

/** Wall time `wall` of `frame` as an occurrence writes it (date, floating or UTC). */
export function formatIn(frame: Frame, wall: number): string {
  if (frame.kind === 'date') return formatDate(wall);
  if (frame.kind === 'floating') return formatLocal(wall);
  return formatUtc(wallToUtc(frame.zone, wall));
}
