// Series-aware identity: when a series moves, its sessions get new keys (RECURRENCE-ID is the original
// start), and the planner pairs the sessions that left with those that came so each meeting (and its
// join link) follows its session.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { contentHash, externalIdFor, occurrenceKey } from '../../src/core/identity.js';
import { formatShift, pairMoves, summarizeMoves } from '../../src/core/moves.js';
import { planSync, type PlannedOperation, type SyncPlan } from '../../src/core/plan.js';
import type { DesiredSession } from '../../src/core/desired.js';
import type { MeetingRecord } from '../../src/core/state.js';
import { movedRows } from '../../src/core/transitions.js';

const FEED = 'spring';
const NOW = '2027-01-04T08:00:00Z';
const NOW_MS = Date.parse(NOW);
const WINDOW_END = '2028-01-01T00:00:00Z';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const settings = { maxCancelShare: 0.2, guardMinCancels: 3, cancellationsConfirmed: false };

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** One instance of a recurring event: its RECURRENCE-ID is its original start. */
function session(uid: string, originalMs: number, organizer = 'ada@uni.example', startMs = originalMs) {
  const recurrenceId = iso(originalMs);
  const draft = {
    key: occurrenceKey(FEED, { uid, recurrenceId, start: iso(startMs), summary: 'Lab' }),
    uid,
    recurrenceId,
    subject: `Lab ${uid}`,
    start: iso(startMs),
    end: iso(startMs + HOUR),
    organizerEmail: organizer,
    cancelled: false,
    location: 'Room 1',
  };
  return { ...draft, contentHash: contentHash(draft) } satisfies DesiredSession;
}

/** A weekly series: `count` sessions from `firstMs`. */
const weekly = (uid: string, firstMs: number, count: number, organizer?: string): DesiredSession[] =>
  Array.from({ length: count }, (_, i) => session(uid, firstMs + i * WEEK, organizer));

function recordFor(d: DesiredSession, overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  return {
    feedId: FEED,
    key: d.key,
    uid: d.uid,
    recurrenceId: d.recurrenceId,
    organizerEmail: d.organizerEmail,
    organizerId: `oid-${d.organizerEmail}`,
    externalId: externalIdFor(d.key, 0),
    generation: 0,
    meetingId: `meeting-${d.key}`,
    joinWebUrl: `https://teams.example/${d.key}`,
    subject: d.subject,
    start: d.start,
    end: d.end,
    location: d.location,
    contentHash: d.contentHash,
    state: 'active',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    ...overrides,
  };
}

const plan = (desired: DesiredSession[], records: MeetingRecord[], now = NOW): SyncPlan =>
  planSync({
    desired,
    records,
    now,
    windowEnd: WINDOW_END,
    settings,
    skippedKeys: [],
    guardHeldBefore: false,
  });

const kinds = (p: SyncPlan) => p.operations.map((op) => op.kind);
const moves = (p: SyncPlan) =>
  p.operations.filter((op): op is Extract<PlannedOperation, { kind: 'move' }> => op.kind === 'move');

const MONDAY_9 = Date.parse('2027-01-11T09:00:00Z');

describe('series moves', () => {
  it('a series moved one hour later is ten moves of +1 h, each to its own session, nothing cancelled', () => {
    const before = weekly('cs101-lab', MONDAY_9, 10);
    const after = weekly('cs101-lab', MONDAY_9 + HOUR, 10);
    const p = plan(
      after,
      before.map((d) => recordFor(d)),
    );
    expect(kinds(p)).toEqual(Array(10).fill('move'));
    expect(p.counts).toMatchObject({ move: 10, create: 0, cancel: 0, update: 0 });
    for (const [i, op] of moves(p).entries()) {
      expect(op.record.key).toBe(before[i]!.key);
      expect(op.desired.key).toBe(after[i]!.key);
      expect(op.shiftMs).toBe(HOUR);
      expect(op.due).toBe(true);
    }
    expect(p.moves.map((m) => m.text)).toEqual(['10 sessions moved +1 h']);
    expect(p.guard.wouldCancel).toBe(0);
  });

  it('moved to Thursday, or started a week later with the same count, keeps every meeting', () => {
    const before = weekly('phy', MONDAY_9, 8);
    const thursday = plan(
      weekly('phy', MONDAY_9 + 3 * DAY + 2 * HOUR, 8),
      before.map((d) => recordFor(d)),
    );
    expect(thursday.counts).toMatchObject({ move: 8, create: 0, cancel: 0 });
    expect(thursday.moves.map((m) => m.text)).toEqual(['8 sessions moved +3 d 2 h']);
    // A week later at the same time: seven sessions keep their keys (same RECURRENCE-ID), the first moves
    // to the new last week.
    const later = plan(
      weekly('phy', MONDAY_9 + WEEK, 8),
      before.map((d) => recordFor(d)),
    );
    expect(later.counts).toMatchObject({ move: 1, create: 0, cancel: 0, update: 0, unchanged: 7 });
    expect(moves(later)[0]!.record.key).toBe(before[0]!.key);
    expect(later.moves.map((m) => m.text)).toEqual(['1 session moved +56 d']);
  });

  it('a series moved and shortened by two weeks moves eight sessions and cancels the last two', () => {
    const before = weekly('bio', MONDAY_9, 10);
    const p = plan(
      weekly('bio', MONDAY_9 + HOUR, 8),
      before.map((d) => recordFor(d)),
    );
    expect(p.counts).toMatchObject({ move: 8, create: 0 });
    const cancelled = [...p.operations, ...p.held].filter((op) => op.kind === 'cancel');
    expect(cancelled.map((op) => op.record.key)).toEqual([before[8]!.key, before[9]!.key]);
  });

  it('a shortened series (same times) cancels exactly the dropped sessions', () => {
    const before = weekly('alg', MONDAY_9, 10);
    const p = plan(
      weekly('alg', MONDAY_9, 8),
      before.map((d) => recordFor(d)),
    );
    expect(p.counts).toMatchObject({ move: 0, create: 0, unchanged: 8 });
    expect(p.guard.wouldCancel).toBe(2);
  });

  it('never pairs across UIDs, organizers, or events without UID; past rows and rows without a meeting stay out', () => {
    const gone = [
      recordFor(session('a', MONDAY_9)),
      recordFor(session('b', MONDAY_9, 'bob@uni.example')),
      recordFor(session('', MONDAY_9 + DAY)),
      recordFor(session('c', MONDAY_9 + 2 * DAY), { meetingId: null, state: 'creating' }),
      recordFor(session('d', NOW_MS - HOUR)),
    ];
    const came = [
      session('b', MONDAY_9 + HOUR),
      session('a', MONDAY_9 + HOUR, 'bob@uni.example'),
      session('', MONDAY_9 + DAY + HOUR),
      session('c', MONDAY_9 + 2 * DAY + HOUR),
      session('d', NOW_MS + HOUR),
    ];
    const p = plan(came, gone);
    expect(p.counts.move).toBe(0);
    // (the deletion guard holds the cancels, and the new meetings with them)
    expect([...p.operations, ...p.held].filter((op) => op.kind === 'create')).toHaveLength(5);
  });

  it('a row that waits for its retry time is only re-keyed now (due: false)', () => {
    const before = session('lab', MONDAY_9);
    const record = recordFor(before, { state: 'blocked', nextAttemptAt: iso(NOW_MS + 6 * HOUR) });
    const [op] = moves(plan([session('lab', MONDAY_9 + HOUR)], [record]));
    expect(op).toMatchObject({ kind: 'move', due: false });
  });

  it('the re-keyed row keeps meeting, link and createOrGet key, with the old hash so a PATCH is due', () => {
    const before = session('lab', MONDAY_9);
    const after = session('lab', MONDAY_9 + HOUR);
    const record = recordFor(before, { etag: 'e1', generation: 2, externalId: externalIdFor(before.key, 2) });
    const [op] = moves(plan([after], [record]));
    const { vacated, moved } = movedRows(op!);
    expect(vacated).toMatchObject({ key: before.key, state: 'cancelled', meetingId: null, etag: 'e1' });
    expect(moved).toMatchObject({
      key: after.key,
      recurrenceId: after.recurrenceId,
      start: after.start,
      meetingId: record.meetingId,
      joinWebUrl: record.joinWebUrl,
      externalId: record.externalId,
      generation: 2,
      contentHash: record.contentHash,
      state: 'active',
    });
    expect(moved.etag).toBeUndefined();
    // The next plan PATCHes it, and once PATCHed it is unchanged.
    expect(kinds(plan([after], [vacated, moved]))).toEqual(['update']);
    expect(kinds(plan([after], [vacated, { ...moved, contentHash: after.contentHash }]))).toEqual([]);
  });

  it('moving back onto a cancelled row replaces it (its etag, its generation); reviving the old key makes a fresh meeting', () => {
    const a = session('lab', MONDAY_9);
    const b = session('lab', MONDAY_9 + HOUR);
    const first = movedRows(moves(plan([b], [recordFor(a, { etag: 'e1' })]))[0]!);
    const rows = [
      { ...first.vacated, etag: 'e2' },
      { ...first.moved, contentHash: b.contentHash, etag: 'e3' },
    ];
    const [back] = moves(plan([a], rows));
    expect(back!.target).toMatchObject({ key: a.key, etag: 'e2' });
    const second = movedRows(back!);
    expect(second.moved).toMatchObject({ key: a.key, etag: 'e2', externalId: externalIdFor(a.key, 0) });
    // Both sessions wanted again: the moved row keeps its meeting, the vacated key gets a new generation.
    const both = plan([a, b], rows);
    const create = both.operations.find((op) => op.kind === 'create');
    expect(create).toMatchObject({ generation: 1, externalId: externalIdFor(a.key, 1) });
  });
});

describe('series moves: properties', () => {
  const organizers = ['ada@uni.example', 'bob@uni.example'];
  const arbSeries = fc.record({
    uid: fc.constantFrom('alg', 'phy', 'chem', 'lab'),
    organizer: fc.constantFrom(...organizers),
    firstDay: fc.integer({ min: 1, max: 30 }),
    hour: fc.integer({ min: 7, max: 18 }),
    count: fc.integer({ min: 1, max: 12 }),
    everyDays: fc.constantFrom(1, 7, 14),
  });
  const arbEdit = fc.record({
    // Sessions stay in the future (the first starts at least a day and 7 h from now).
    shiftMinutes: fc.integer({ min: -24 * 60, max: 21 * 24 * 60 }),
    everyDays: fc.option(fc.constantFrom(1, 7, 14)),
  });

  const startsOf = (s: { firstDay: number; hour: number; count: number; everyDays: number }) =>
    Array.from(
      { length: s.count },
      (_, i) => NOW_MS + s.firstDay * DAY + s.hour * HOUR + i * s.everyDays * DAY,
    );

  it('any series edit that keeps its number of sessions keeps every future meeting', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbSeries, { selector: (s) => s.uid, maxLength: 4 }),
        fc.array(arbEdit, { minLength: 5, maxLength: 5 }),
        (series, edits) => {
          const before = series.flatMap((s) => startsOf(s).map((ms) => session(s.uid, ms, s.organizer)));
          const after = series.flatMap((s, i) => {
            const e = edits[i]!;
            const every = e.everyDays ?? s.everyDays;
            return startsOf({ ...s, everyDays: every }).map((ms) =>
              session(s.uid, ms + e.shiftMinutes * 60_000, s.organizer),
            );
          });
          const records = before.map((d) => recordFor(d));
          const p = plan(after, records);
          // Every future meeting is kept: no cancel, no create; each meeting id ends up at one session.
          expect(p.counts.cancel + p.counts.create + p.counts.replace + p.counts.held).toBe(0);
          const futureAfter = after.filter((d) => Date.parse(d.end) > NOW_MS);
          const kept = new Map<string, string>(); // desired key → meeting id
          for (const op of p.operations)
            if (op.kind === 'move' || op.kind === 'update')
              kept.set(op.desired.key, op.record.meetingId as string);
          for (const r of p.unchanged) if (r.meetingId) kept.set(r.key, r.meetingId);
          expect([...kept.keys()].sort()).toEqual(futureAfter.map((d) => d.key).sort());
          expect(new Set(kept.values()).size).toBe(records.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('no pairing ever crosses UIDs or organizers', () => {
    const arbCandidate = fc.record({
      uid: fc.constantFrom('', 'a', 'b', 'c'),
      organizer: fc.constantFrom(...organizers),
      startMs: fc.integer({ min: 0, max: 60 * DAY }),
    });
    fc.assert(
      fc.property(
        fc.array(arbCandidate, { maxLength: 30 }),
        fc.array(arbCandidate, { maxLength: 30 }),
        (r, a) => {
          const pairs = pairMoves(r, a);
          const usedR = new Set<number>();
          const usedA = new Set<number>();
          for (const [i, j] of pairs) {
            expect(r[i]!.uid).not.toBe('');
            expect(r[i]!.uid).toBe(a[j]!.uid);
            expect(r[i]!.organizer).toBe(a[j]!.organizer);
            expect(usedR.has(i) || usedA.has(j)).toBe(false);
            usedR.add(i);
            usedA.add(j);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the plan for an unchanged feed is empty', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbSeries, { selector: (s) => s.uid, maxLength: 4 }), (series) => {
        const byKey = new Map(
          series
            .flatMap((s) => startsOf(s).map((ms) => session(s.uid, ms, s.organizer)))
            .map((d) => [d.key, d]),
        );
        const desired = [...byKey.values()];
        const p = plan(
          desired,
          desired.map((d) => recordFor(d)),
        );
        expect(p.operations).toEqual([]);
        expect(p.moves).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('move summaries', () => {
  it('says how far sessions moved, most common shift first', () => {
    expect(summarizeMoves([HOUR, HOUR, -30 * 60_000]).map((m) => m.text)).toEqual([
      '2 sessions moved +1 h',
      '1 session moved -30 min',
    ]);
    expect(formatShift(WEEK + 90 * 60_000)).toBe('+7 d 1 h 30 min');
    expect(formatShift(0)).toBe('±0');
  });
});

describe('what counts as a move', () => {
  it('an EXDATE and a date added elsewhere in the same series (same count) move that meeting', () => {
    const before = weekly('lab', MONDAY_9, 6);
    // Week 3 is taken out (EXDATE) and a make-up session added in week 8 (RDATE).
    const after = [...before.filter((_, i) => i !== 2), session('lab', MONDAY_9 + 7 * WEEK)];
    const p = plan(
      after,
      before.map((d) => recordFor(d)),
    );
    expect(p.counts).toMatchObject({ move: 1, create: 0, cancel: 0, unchanged: 5 });
    expect(moves(p)[0]).toMatchObject({ record: { key: before[2]!.key }, shiftMs: 5 * WEEK });
  });
});
