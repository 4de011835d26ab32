// Series-aware identity: a session's key is (feed, UID, RECURRENCE-ID), and RECURRENCE-ID is the
// instance's original start, so moving a whole series (its DTSTART, its weekday, its time zone) gives
// every session a new key. Without pairing, every meeting would be cancelled and made again and every
// saved join link would die. The planner hands this module the sessions a feed no longer has (rows with
// a meeting) and the sessions it gained, and pairs them into moves: same meeting, same link, a PATCH.
//
// Rules (pure, deterministic):
// - Only within one group: the same UID (never '': events without UID have no series to follow) and
//   the same organizer. No pairing ever crosses UIDs or organizers.
// - A group that lost as many sessions as it gained is paired in start order, whatever the distance:
//   a series edit that keeps its number of sessions keeps every meeting.
// - Otherwise (a series moved and shortened or lengthened) as many pairs as possible whose starts are
//   at most MOVE_PAIRING_BOUND_MS apart, in start order (pairs never cross), least total distance first.
//   The rest are cancelled or created as before.

import type { DesiredSession } from './desired.js';
import { normalizeEmail } from './identity.js';
import type { MeetingRecord } from './state.js';

/** Sessions further apart than this are not paired when a group's count changed. */
export const MOVE_PAIRING_BOUND_MS = 7 * 86_400_000;
/** Above this many DP cells (removed × added in one group) a linear greedy pass pairs instead. */
const MAX_DP_CELLS = 1_000_000;

export interface PairingCandidate {
  /** uid.trim(); '' is never paired. */
  uid: string;
  /** Normalised organizer e-mail. */
  organizer: string;
  startMs: number;
}

/**
 * A row whose meeting may follow its session to a new key: the meeting exists (its id is stored) and
 * the row is not being created or cancelled. A row without a confirmed meeting is cancelled and made
 * again as before (its createOrGet key names the old key, and only createOrGet could tell).
 */
export function canMove(record: MeetingRecord): boolean {
  return (
    record.meetingId !== null &&
    (record.state === 'active' || record.state === 'failed' || record.state === 'blocked')
  );
}

/** pairMoves over the rows the feed no longer has and the sessions it gained. */
export function pairRemovedWithAdded(
  removed: readonly MeetingRecord[],
  added: readonly DesiredSession[],
): Array<[number, number]> {
  return pairMoves(
    removed.map((r) => ({
      uid: r.uid.trim(),
      organizer: normalizeEmail(r.organizerEmail),
      startMs: Date.parse(r.start),
    })),
    added.map((d) => ({ uid: d.uid.trim(), organizer: d.organizerEmail, startMs: Date.parse(d.start) })),
  );
}

/** Pairs of [removed index, added index], in no particular order. */
export function pairMoves(
  removed: readonly PairingCandidate[],
  added: readonly PairingCandidate[],
): Array<[number, number]> {
  const groups = new Map<string, { removed: number[]; added: number[] }>();
  const groupOf = (c: PairingCandidate): { removed: number[]; added: number[] } | null => {
    if (c.uid === '') return null;
    const id = JSON.stringify([c.uid, c.organizer]);
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { removed: [], added: [] }));
    return group;
  };
  removed.forEach((c, i) => groupOf(c)?.removed.push(i));
  added.forEach((c, i) => groupOf(c)?.added.push(i));

  const pairs: Array<[number, number]> = [];
  for (const group of groups.values()) {
    if (group.removed.length === 0 || group.added.length === 0) continue;
    const r = sortByStart(group.removed, removed);
    const a = sortByStart(group.added, added);
    if (r.length === a.length) {
      for (let i = 0; i < r.length; i++) pairs.push([r[i] as number, a[i] as number]);
      continue;
    }
    const rs = r.map((i) => (removed[i] as PairingCandidate).startMs);
    const as = a.map((i) => (added[i] as PairingCandidate).startMs);
    const matched = rs.length * as.length <= MAX_DP_CELLS ? bandedMatch(rs, as) : greedyMatch(rs, as);
    for (const [i, j] of matched) pairs.push([r[i] as number, a[j] as number]);
  }
  return pairs;
}

function sortByStart(indexes: number[], list: readonly PairingCandidate[]): number[] {
  return indexes.sort(
    (x, y) => (list[x] as PairingCandidate).startMs - (list[y] as PairingCandidate).startMs || x - y,
  );
}

const within = (x: number, y: number): boolean => Math.abs(x - y) <= MOVE_PAIRING_BOUND_MS;

/**
 * Non-crossing matching of two sorted lists: most pairs within the bound, then least total distance.
 * dp over prefixes (n+1)×(m+1), ties broken towards skipping the earlier added session, so the result
 * is deterministic.
 */
function bandedMatch(rs: number[], as: number[]): Array<[number, number]> {
  const n = rs.length;
  const m = as.length;
  const width = m + 1;
  const count = new Int32Array((n + 1) * width);
  const cost = new Float64Array((n + 1) * width);
  // 0 = skip removed, 1 = skip added, 2 = pair
  const move = new Uint8Array((n + 1) * width);
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= m; j++) {
      if (i === 0 && j === 0) continue;
      const at = i * width + j;
      let bestCount = -1;
      let bestCost = 0;
      let bestMove = 0;
      const consider = (c: number, k: number, how: number): void => {
        if (c > bestCount || (c === bestCount && k < bestCost)) {
          bestCount = c;
          bestCost = k;
          bestMove = how;
        }
      };
      if (i > 0 && j > 0 && within(rs[i - 1] as number, as[j - 1] as number)) {
        const from = (i - 1) * width + (j - 1);
        consider(
          (count[from] as number) + 1,
          (cost[from] as number) + Math.abs((rs[i - 1] as number) - (as[j - 1] as number)),
          2,
        );
      }
      if (j > 0) consider(count[at - 1] as number, cost[at - 1] as number, 1);
      if (i > 0) consider(count[at - width] as number, cost[at - width] as number, 0);
      count[at] = bestCount;
      cost[at] = bestCost;
      move[at] = bestMove;
    }
  }
  const pairs: Array<[number, number]> = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const how = move[i * width + j];
    if (how === 2) pairs.push([--i, --j]);
    else if (how === 1) j--;
    else i--;
  }
  return pairs.reverse();
}

/** Linear fallback for huge groups: walk both sorted lists, pair when within the bound. */
function greedyMatch(rs: number[], as: number[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < rs.length && j < as.length) {
    const r = rs[i] as number;
    const a = as[j] as number;
    if (within(r, a)) pairs.push([i++, j++]);
    else if (r < a) i++;
    else j++;
  }
  return pairs;
}

/** How far a group of sessions moved, for people: "10 sessions moved +1 h". */
export interface MoveSummary {
  sessions: number;
  shiftMs: number;
  text: string;
}

/** One line per distinct shift, most sessions first (then the smaller shift). */
export function summarizeMoves(shifts: readonly number[]): MoveSummary[] {
  const byShift = new Map<number, number>();
  for (const shift of shifts) byShift.set(shift, (byShift.get(shift) ?? 0) + 1);
  return [...byShift]
    .sort(([s1, n1], [s2, n2]) => n2 - n1 || Math.abs(s1) - Math.abs(s2) || s1 - s2)
    .map(([shiftMs, sessions]) => ({
      sessions,
      shiftMs,
      text: `${sessions} session${sessions === 1 ? '' : 's'} moved ${formatShift(shiftMs)}`,
    }));
}

/** "+1 h", "-30 min", "+3 d 2 h", "±0" (renamed into a new identity at the same time). */
export function formatShift(ms: number): string {
  if (ms === 0) return '±0';
  const sign = ms > 0 ? '+' : '-';
  let rest = Math.round(Math.abs(ms) / 60_000);
  const days = Math.floor(rest / 1440);
  rest -= days * 1440;
  const hours = Math.floor(rest / 60);
  const minutes = rest - hours * 60;
  const parts: string[] = [];
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  return `${sign}${parts.join(' ') || '0 min'}`;
}
