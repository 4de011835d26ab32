import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toDesiredSessions, type DesiredSession } from '../../src/core/desired.js';
import { contentHash, externalIdFor } from '../../src/core/identity.js';
import type { Occurrence } from '../../src/core/occurrence.js';
import {
  DEFAULT_CREATION_GUARD_SETTINGS,
  creationGuardWarning,
  organizersToCheck,
  type CreationGuardInput,
} from '../../src/core/creationGuard.js';
import {
  isSettledRow,
  planSync,
  type PlanInput,
  type PlannedOperation,
  type SyncPlan,
} from '../../src/core/plan.js';
import type { MeetingRecord, MeetingState } from '../../src/core/state.js';

const NOW = '2025-03-10T12:00:00Z';
const WINDOW_END = '2025-06-10T00:00:00Z';
const HOUR = 3_600_000;
const NOW_MS = Date.parse(NOW);
const FEED = 'feed-1';
const settings = { maxCancelShare: 0.2, guardMinCancels: 3, cancellationsConfirmed: false };

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
/** A start `hours` from NOW. */
const at = (hours: number): string => iso(NOW_MS + hours * HOUR);

function session(key: string, hours: number, overrides: Partial<DesiredSession> = {}): DesiredSession {
  const draft = {
    key,
    uid: `uid-${key}`,
    recurrenceId: null,
    subject: `Session ${key}`,
    start: at(hours),
    end: at(hours + 1),
    organizerEmail: 'ada@uni.example',
    cancelled: false,
    location: '',
    ...overrides,
  };
  return { ...draft, contentHash: overrides.contentHash ?? contentHash(draft) };
}

/** The record an earlier successful run would have left for `desired`. */
function recordFor(desired: DesiredSession, overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  return {
    feedId: FEED,
    key: desired.key,
    uid: desired.uid,
    recurrenceId: desired.recurrenceId,
    organizerEmail: desired.organizerEmail,
    organizerId: `oid-${desired.organizerEmail}`,
    externalId: externalIdFor(desired.key, 0),
    generation: 0,
    meetingId: `meeting-${desired.key}`,
    joinWebUrl: `https://teams.example/${desired.key}`,
    subject: desired.subject,
    start: desired.start,
    end: desired.end,
    contentHash: desired.contentHash,
    state: 'active',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    ...overrides,
  };
}

function plan(desired: DesiredSession[], records: MeetingRecord[], extra: Partial<PlanInput> = {}): SyncPlan {
  return planSync({
    desired,
    records,
    now: NOW,
    windowEnd: WINDOW_END,
    settings,
    skippedKeys: [],
    guardHeldBefore: false,
    ...extra,
  });
}

const kinds = (p: SyncPlan): string[] => p.operations.map((op) => op.kind);

describe('planSync: one session against its record', () => {
  it('creates a future session that has no record, generation 0', () => {
    const s = session('a', 24);
    const p = plan([s], []);
    expect(p.operations).toEqual([
      { kind: 'create', desired: s, record: null, generation: 0, externalId: externalIdFor('a', 0) },
    ]);
    expect(p.counts).toMatchObject({ create: 1, update: 0, cancel: 0, replace: 0 });
  });

  it.each([
    ['ended', -3],
    ['ends exactly now', -1],
  ])('does not create a session that has %s', (_what, hours) => {
    expect(plan([session('a', hours)], []).operations).toEqual([]);
  });

  it('creates a session that is under way (start ≤ now < end)', () => {
    expect(kinds(plan([session('a', -0.5)], []))).toEqual(['create']);
  });

  it('leaves an unchanged meeting alone', () => {
    const s = session('a', 24);
    const p = plan([s], [recordFor(s)]);
    expect(p.operations).toEqual([]);
    expect(p.unchanged.map((r) => r.key)).toEqual(['a']);
  });

  it.each([
    ['renamed', { subject: 'Renamed' }],
    ['moved', { start: at(30), end: at(31) }],
  ])('updates a meeting whose session was %s', (_what, change) => {
    const s = session('a', 24);
    const moved = session('a', 24, change);
    const p = plan([moved], [recordFor(s)]);
    expect(p.operations).toMatchObject([{ kind: 'update', desired: moved, record: { key: 'a' } }]);
  });

  it('replaces a meeting whose organizer changed, with a new generation', () => {
    const s = session('a', 24);
    const record = recordFor(s, { generation: 2, externalId: externalIdFor('a', 2) });
    const moved = session('a', 24, { organizerEmail: 'bob@uni.example' });
    const [op] = plan([moved], [record]).operations;
    expect(op).toMatchObject({
      kind: 'replace',
      reason: 'organizerChanged',
      generation: 3,
      externalId: externalIdFor('a', 3),
    });
    expect(op?.kind === 'replace' && op.externalId).not.toBe(record.externalId);
  });

  it('treats the organizer address case-insensitively', () => {
    const s = session('a', 24);
    expect(plan([s], [recordFor(s, { organizerEmail: 'ADA@Uni.Example' })]).operations).toEqual([]);
  });

  it.each([
    ['updated', { subject: 'Renamed' }],
    ['replaced', { organizerEmail: 'bob@uni.example' }],
    ['cancelled', { cancelled: true }],
  ])('never touches a meeting that has begun, even if it would be %s', (_what, change) => {
    const s = session('a', -0.5);
    const p = plan([session('a', -0.5, change)], [recordFor(s)]);
    expect(p.operations).toEqual([]);
    expect(p.unchanged).toHaveLength(1);
  });

  it('cancels a future meeting whose session is STATUS:CANCELLED', () => {
    const s = session('a', 24);
    const p = plan(
      [session('a', 24, { cancelled: true }), session('b', 48)],
      [recordFor(s), recordFor(session('b', 48))],
    );
    expect(p.operations).toMatchObject([{ kind: 'cancel', reason: 'cancelled', record: { key: 'a' } }]);
  });

  it('does nothing for a cancelled session that never had a meeting', () => {
    const p = plan([session('a', 24, { cancelled: true })], []);
    expect(p.operations).toEqual([]);
    expect(p.unchanged).toEqual([]);
  });

  it('revives a cancelled record with a fresh meeting (next generation)', () => {
    const s = session('a', 24);
    const record = recordFor(s, { state: 'cancelled', generation: 1, externalId: externalIdFor('a', 1) });
    const [op] = plan([s], [record]).operations;
    expect(op).toMatchObject({
      kind: 'create',
      record: { key: 'a' },
      generation: 2,
      externalId: externalIdFor('a', 2),
    });
  });

  it("repeats a create left 'creating' by a crash with the same externalId", () => {
    const s = session('a', 24);
    const record = recordFor(s, {
      state: 'creating',
      meetingId: null,
      generation: 1,
      externalId: externalIdFor('a', 1),
    });
    const [op] = plan([s], [record]).operations;
    expect(op).toMatchObject({ kind: 'create', generation: 1, externalId: record.externalId });
  });

  it.each(['failed', 'blocked'] as const)('waits for a %s record until nextAttemptAt', (state) => {
    const s = session('a', 24);
    const record = recordFor(s, { state, meetingId: null, nextAttemptAt: at(0.5) });
    const p = plan([s], [record]);
    expect(p.operations).toEqual([]);
    expect(p.waiting).toEqual([record]);
    expect(p.counts.waiting).toBe(1);
  });

  it.each([
    ['failed', at(0)],
    ['blocked', at(-1)],
    ['blocked', null],
  ] as const)(
    'retries a %s create when nextAttemptAt (%s) is due, with the same externalId',
    (state, nextAttemptAt) => {
      const s = session('a', 24);
      const record = recordFor(s, { state, meetingId: null, nextAttemptAt });
      expect(plan([s], [record]).operations).toMatchObject([
        { kind: 'create', externalId: record.externalId },
      ]);
    },
  );

  it('retries a failed update even when the stored hash already matches', () => {
    const s = session('a', 24);
    expect(kinds(plan([s], [recordFor(s, { state: 'failed', nextAttemptAt: at(-1) })]))).toEqual(['update']);
  });

  it("finishes a 'cancelling' record without asking the guard", () => {
    const records = ['a', 'b', 'c', 'd'].map((k) => recordFor(session(k, 24), { state: 'cancelling' }));
    const p = plan([session('e', 24)], [...records, recordFor(session('e', 24))]);
    expect(p.operations.map((op) => op.kind === 'cancel' && op.reason)).toEqual([
      'resumed',
      'resumed',
      'resumed',
      'resumed',
    ]);
    expect(p.guard.held).toBe(false);
  });

  it("replaces a 'cancelling' record whose session came back", () => {
    const s = session('a', 24);
    const [op] = plan([s], [recordFor(s, { state: 'cancelling' })]).operations;
    expect(op).toMatchObject({ kind: 'replace', reason: 'revivedWhileCancelling', generation: 1 });
  });
});

describe('planSync: records the feed no longer has', () => {
  const keep = session('keep', 24);
  const others = Array.from({ length: 9 }, (_, i) => session(`k${i}`, 48 + i));
  const records = [keep, ...others].map((s) => recordFor(s));

  it('cancels a removed future meeting', () => {
    const p = plan([keep, ...others.slice(1)], records);
    expect(p.operations).toMatchObject([{ kind: 'cancel', reason: 'removed', record: { key: 'k0' } }]);
  });

  it('leaves removed meetings that have begun, or start at/after the horizon end', () => {
    const begun = recordFor(session('begun', -0.5));
    const beyond = recordFor(
      session('beyond', 0, { start: WINDOW_END, end: iso(Date.parse(WINDOW_END) + HOUR) }),
    );
    const p = plan([keep, ...others], [...records, begun, beyond]);
    expect(p.operations).toEqual([]);
    expect(p.unchanged.map((r) => r.key)).toEqual(expect.arrayContaining(['begun', 'beyond']));
  });

  it('leaves records of sessions that were skipped (e.g. lost their organizer)', () => {
    const p = plan([keep, ...others.slice(1)], records, { skippedKeys: ['k0'] });
    expect(p.operations).toEqual([]);
  });

  it('leaves cancelled records alone', () => {
    const p = plan([keep, ...others], [...records, recordFor(session('gone', 24), { state: 'cancelled' })]);
    expect(p.operations).toEqual([]);
  });
});

describe('planSync: deletion guard', () => {
  const future = Array.from({ length: 10 }, (_, i) => session(`f${i}`, 24 + i));
  const records = future.map((s) => recordFor(s));

  it('holds every cancel when the feed suddenly has no future session, and the new meetings with them', () => {
    const past = session('past-new', -0.5);
    const p = plan([past], records);
    expect(p.guard).toEqual({
      held: true,
      reason: 'feedEmptied',
      overridden: false,
      wouldCancel: 10,
      futureMeetings: 10,
    });
    expect(kinds(p)).toEqual([]);
    expect(p.held).toHaveLength(11);
    expect(p.counts.held).toBe(11);
    expect(p.creationGuard).toMatchObject({ held: true, reasons: ['cancellationsHeld'], heldCreates: 1 });
  });

  it('holds cancels above the share, and new meetings with them, while updates go ahead', () => {
    const kept = future
      .slice(3)
      .map((s, i) => (i === 0 ? { ...s, subject: 'changed', contentHash: 'x' } : s));
    const p = plan([...kept, session('new', 100)], records);
    expect(p.guard).toMatchObject({
      held: true,
      reason: 'shareExceeded',
      wouldCancel: 3,
      futureMeetings: 10,
    });
    expect(kinds(p)).toEqual(['update']);
    expect(p.held.map((op) => op.kind).sort()).toEqual(['cancel', 'cancel', 'cancel', 'create']);
  });

  it('a timetable re-exported with new UIDs gets no second meeting per session: its creates wait for the confirmation', () => {
    // Every session keeps its time and lecturer but has a new UID (a new key): 10 cancels, 10 creates.
    const reexported = future.map((s, i) => ({ ...s, key: `new-${i}`, uid: `new-uid-${i}` }));
    const held = plan(reexported, records);
    expect(held.guard).toMatchObject({ held: true, reason: 'shareExceeded', wouldCancel: 10 });
    expect(held.operations).toEqual([]);
    expect(held.creationGuard).toMatchObject({ held: true, reasons: ['cancellationsHeld'], heldCreates: 10 });
    // A creation confirmation alone does not release them; the cancellation confirmation releases both.
    const creationsOnly = plan(reexported, records, {
      creation: {
        settings: DEFAULT_CREATION_GUARD_SETTINGS,
        confirmed: true,
        organizerBudgets: new Map(),
        heldBefore: null,
      },
    });
    expect(creationsOnly.operations).toEqual([]);
    const confirmed = plan(reexported, records, { settings: { ...settings, cancellationsConfirmed: true } });
    expect(kinds(confirmed).sort()).toEqual([
      ...Array<string>(10).fill('cancel'),
      ...Array<string>(10).fill('create'),
    ]);
    expect(confirmed.creationGuard.held).toBe(false);
  });

  it('lets a share exactly at the limit through', () => {
    const p = plan(future.slice(2), records, { settings: { ...settings, guardMinCancels: 1 } });
    expect(p.guard.held).toBe(false);
    expect(p.counts.cancel).toBe(2);
  });

  it('never trips the share rule below guardMinCancels', () => {
    const small = records.slice(0, 4);
    const p = plan(future.slice(2, 4), small); // 2 of 4 = 50 %
    expect(p.guard).toMatchObject({ held: false, reason: null, wouldCancel: 2, futureMeetings: 4 });
    expect(p.counts.cancel).toBe(2);
  });

  it('lets everything through once cancellations are confirmed, and says the guard was overridden', () => {
    const p = plan([], records, { settings: { ...settings, cancellationsConfirmed: true } });
    expect(p.guard).toMatchObject({ held: false, reason: 'feedEmptied', overridden: true });
    expect(p.counts.cancel).toBe(10);
    expect(p.held).toEqual([]);
  });

  it('stays held in the next run even when new meetings dilute the share, until confirmed', () => {
    // The whole timetable was re-exported with new UIDs: 10 removed, 10 added.
    const fresh = future.map((s, i) => session(`n${i}`, 24 + i));
    const first = plan(fresh, records);
    expect(first.guard).toMatchObject({ held: true, reason: 'shareExceeded' });
    // Its new meetings wait with the cancels (rule 5 of the creation guard).
    expect(first.counts.create).toBe(0);
    expect(first.creationGuard).toMatchObject({ held: true, heldCreates: 10 });
    // Had they been created all the same (by a version before this rule):
    const afterCreates = [...records, ...fresh.map((s) => recordFor(s))];
    const lenient = { ...settings, maxCancelShare: 0.5 }; // 10 of 20 is not above 0.5
    expect(plan(fresh, afterCreates, { settings: lenient }).guard.held).toBe(false);
    const next = plan(fresh, afterCreates, { settings: lenient, guardHeldBefore: true });
    expect(next.guard).toMatchObject({ held: true, reason: 'awaitingConfirmation', wouldCancel: 10 });
    expect(next.operations).toEqual([]);
    const confirmed = plan(fresh, afterCreates, {
      settings: { ...lenient, cancellationsConfirmed: true },
      guardHeldBefore: true,
    });
    expect(confirmed.counts.cancel).toBe(10);
  });

  it('forgets an earlier hold once nothing is left to cancel', () => {
    expect(plan(future, records, { guardHeldBefore: true }).guard).toMatchObject({
      held: false,
      reason: null,
    });
  });

  it('counts only non-cancelled meetings inside (now, windowEnd) as future meetings', () => {
    const extra = [
      recordFor(session('past', -5)),
      recordFor(session('gone', 5), { state: 'cancelled' }),
      recordFor(session('far', 0, { start: WINDOW_END, end: iso(Date.parse(WINDOW_END) + HOUR) })),
    ];
    expect(plan(future, [...records, ...extra]).guard.futureMeetings).toBe(10);
  });
});

describe('planSync: creation guard', () => {
  const guardSettings = {
    maxCreateGrowth: 1,
    guardMinCreates: 500,
    maxEventSessions: 1_000,
    organizerMonthlyLimit: 2_000,
  };
  const creation = (overrides: Partial<CreationGuardInput> = {}): CreationGuardInput => ({
    settings: guardSettings,
    confirmed: false,
    organizerBudgets: new Map(),
    heldBefore: null,
    ...overrides,
  });
  /** `count` sessions of one event, `stepHours` apart from `fromHours`. */
  const series = (uid: string, count: number, stepHours: number, overrides: Partial<DesiredSession> = {}) =>
    Array.from({ length: count }, (_, i) =>
      session(`${uid}-${i}`, 2 + i * stepHours, { uid, subject: `Subject of ${uid}`, ...overrides }),
    );
  /** A department's term: `events` weekly events of `weeks` sessions, lecturers in turn. */
  const term = (events: number, weeks: number, lecturers = 10, prefix = 'ev') =>
    Array.from({ length: events }, (_, e) =>
      series(`${prefix}${e}`, weeks, 7 * 24, { organizerEmail: `lecturer${e % lecturers}@uni.example` }),
    ).flat();
  const existing = term(20, 10); // 200 future meetings
  const live = existing.map((s) => recordFor(s));

  it('holds the sessions of a FREQ=MINUTELY typo and names the event; the rest of the feed syncs', () => {
    const typo = series('cs101-typo', 1_500, 1 / 60, { subject: 'CS101 Lecture' });
    const added = series('new-seminar', 3, 7 * 24, { organizerEmail: 'grace@uni.example' });
    const moved = { ...(existing[0] as DesiredSession), subject: 'renamed', contentHash: 'changed' };
    const desired = [moved, ...existing.slice(1), ...typo, ...added];
    const p = plan(desired, live, { creation: creation() });

    expect(p.creationGuard).toMatchObject({
      held: true,
      reasons: ['eventSessions'],
      wouldCreate: 1_503,
      heldCreates: 1_500,
      futureMeetings: 200,
      scope: { all: false, uids: ['cs101-typo'], organizers: [] },
    });
    expect(p.creationGuard.events).toEqual([
      {
        uid: 'cs101-typo',
        summary: 'CS101 Lecture',
        organizerEmail: 'ada@uni.example',
        sessions: 1_500,
        firstStart: typo[0]?.start,
        reason: 'eventSessions',
      },
    ]);
    expect(p.held).toHaveLength(1_500);
    expect(p.held.every((op) => op.kind === 'create' && op.desired.uid === 'cs101-typo')).toBe(true);
    // The new seminar is created and the renamed session updated in the same run.
    expect(kinds(p).sort()).toEqual(['create', 'create', 'create', 'update']);
    expect(p.counts).toMatchObject({ create: 3, update: 1, held: 1_500 });

    const warning = creationGuardWarning('cs', p.creationGuard, new Map([['cs101-typo', 42]]));
    expect(warning).toContain('this version would create 1,503 meetings (the feed has 200 future meetings)');
    expect(warning).toContain("1,500 from event 'CS101 Lecture' (UID cs101-typo, line 42)");
    expect(warning).toContain('timetable-sync feeds confirm cs --creations');
  });

  it('holds a runaway event on the first sync of a new feed too', () => {
    const p = plan([...term(30, 10), ...series('typo', 2_000, 1 / 60)], [], { creation: creation() });
    expect(p.creationGuard).toMatchObject({ held: true, reasons: ['eventSessions'], heldCreates: 2_000 });
    expect(p.counts.create).toBe(300);
  });

  it('lets a normal first upload through, however large: a new feed has no base to grow from', () => {
    // 600 weekly events of 15 weeks (9,000 sessions) for 60 lecturers, and a daily event over 400 days.
    const daily = series('daily-lab', 400, 24);
    const p = plan([...term(600, 15, 60), ...daily], [], {
      creation: creation(),
      windowEnd: at(401 * 24),
    });
    expect(p.creationGuard).toMatchObject({ held: false, reasons: [], wouldCreate: 9_400, heldCreates: 0 });
    expect(p.counts.create).toBe(9_400);
    expect(creationGuardWarning('cs', p.creationGuard)).toBeNull();
  });

  it('holds every new meeting when a feed grows past MAX_CREATE_GROWTH, and not below GUARD_MIN_CREATES', () => {
    // 200 future meetings; a new version adds 600 sessions over 60 events (no single one a runaway).
    const grown = plan([...existing, ...term(60, 10, 10, 'x')], live, { creation: creation() });
    expect(grown.creationGuard).toMatchObject({
      held: true,
      reasons: ['growthExceeded'],
      wouldCreate: 600,
      heldCreates: 600,
      scope: { all: true },
    });
    expect(grown.counts.create).toBe(0);
    expect(grown.creationGuard.events).toHaveLength(60);

    // 450 new ones: more than the 200 the feed has, but fewer than GUARD_MIN_CREATES.
    const small = plan([...existing, ...term(45, 10, 10, 'x')], live, { creation: creation() });
    expect(small.creationGuard.held).toBe(false);
    expect(small.counts.create).toBe(450);

    // A bigger feed doubling at most is normal growth (a new term entering the horizon).
    const big = term(100, 10);
    const bigPlan = plan(
      [...big, ...term(90, 10, 10, 'x')],
      big.map((s) => recordFor(s)),
      {
        creation: creation(),
      },
    );
    expect(bigPlan.creationGuard.held).toBe(false);
    expect(bigPlan.counts.create).toBe(900);
  });

  it('holds only the lecturer whose new meetings exceed what their month has left', () => {
    const shared = term(60, 10, 1, 'office').map((s) => ({ ...s, organizerEmail: 'office@uni.example' }));
    const others = series('seminar', 5, 7 * 24, { organizerEmail: 'grace@uni.example' });
    const desired = [...shared, ...others];
    const budgets = new Map([['office@uni.example', 450]]);
    const p = plan(desired, [], { creation: creation({ organizerBudgets: budgets }) });
    expect(p.creationGuard).toMatchObject({
      held: true,
      reasons: ['organizerBudget'],
      heldCreates: 600,
      organizers: [{ email: 'office@uni.example', creates: 600, remaining: 450 }],
      scope: { all: false, uids: [], organizers: ['office@uni.example'] },
    });
    expect(p.counts.create).toBe(5);
    expect(creationGuardWarning('cs', p.creationGuard)).toContain(
      '600 for office@uni.example, more than the 450 left of their monthly limit',
    );
    // With the month's budget untouched (2,000) the same plan is fine.
    expect(plan(desired, [], { creation: creation() }).creationGuard.held).toBe(false);
    // And ORGANIZER_MONTHLY_LIMIT is the budget of a lecturer nobody looked up.
    const lowLimit = creation({ settings: { ...guardSettings, organizerMonthlyLimit: 500 } });
    expect(plan(desired, [], { creation: lowLimit }).creationGuard.reasons).toEqual(['organizerBudget']);
  });

  it('lets held creates through once confirmed, and says the guard was overridden', () => {
    const typo = series('typo', 1_500, 1 / 60);
    const p = plan([...existing, ...typo], live, { creation: creation({ confirmed: true }) });
    expect(p.creationGuard).toMatchObject({
      held: false,
      overridden: true,
      reasons: ['eventSessions'],
      heldCreates: 1_500,
    });
    expect(p.counts).toMatchObject({ create: 1_500, held: 0 });
    expect(creationGuardWarning('cs', p.creationGuard)).toContain('confirmed by an admin');
  });

  it('stays held while an earlier hold is unconfirmed, even when the rule no longer trips', () => {
    // The next month refills the lecturer's budget; the typo was fixed to 15 sessions: still held.
    const fixed = series('typo', 15, 7 * 24);
    const office = term(60, 10, 1, 'office').map((s) => ({ ...s, organizerEmail: 'office@uni.example' }));
    const heldBefore = { all: false, uids: ['typo'], organizers: ['office@uni.example'] };
    const p = plan([...existing, ...fixed, ...office], live, { creation: creation({ heldBefore }) });
    expect(p.creationGuard).toMatchObject({
      held: true,
      reasons: ['awaitingConfirmation'],
      heldCreates: 615,
      scope: { all: false, uids: ['typo'], organizers: ['office@uni.example'] },
    });
    expect(p.counts.create).toBe(0);

    const confirmed = plan([...existing, ...fixed, ...office], live, {
      creation: creation({ heldBefore, confirmed: true }),
    });
    expect(confirmed.counts.create).toBe(615);

    // Nothing left of what was held: forgotten.
    const gone = plan(existing, live, {
      creation: creation({ heldBefore: { all: true, uids: [], organizers: [] } }),
    });
    expect(gone.creationGuard).toMatchObject({ held: false, reasons: [] });
  });

  it('does not count retries of rows an earlier run admitted (a confirmed runaway waiting for next month)', () => {
    const typo = series('typo', 1_500, 1 / 60);
    const waitingForBudget = typo.map((s) =>
      recordFor(s, { state: 'blocked', meetingId: null, nextAttemptAt: at(-1) }),
    );
    const p = plan([...existing, ...typo], [...live, ...waitingForBudget], { creation: creation() });
    expect(p.creationGuard).toMatchObject({ held: false, wouldCreate: 0 });
    expect(p.counts.create).toBe(1_500);
  });

  it('holds revived cancelled meetings like new ones, keeping every record in one place', () => {
    const typo = series('typo', 1_200, 1 / 60);
    const cancelled = typo.map((s) => recordFor(s, { state: 'cancelled' }));
    const p = plan(typo, cancelled, { creation: creation() });
    expect(p.creationGuard).toMatchObject({ held: true, heldCreates: 1_200 });
    const accounted = [...p.operations, ...p.held].flatMap((op) =>
      op.kind === 'create' ? (op.record ? [op.record.key] : []) : [op.record.key],
    );
    expect([...accounted, ...p.unchanged.map((r) => r.key), ...p.waiting.map((r) => r.key)].sort()).toEqual(
      cancelled.map((r) => r.key).sort(),
    );
  });

  it('stays small enough for the feed row and the answer when the runaway event has a 16,000-character UID', () => {
    const uid = `lab-${'x'.repeat(16_000)}`;
    const p = plan([...existing, ...series(uid, 1_200, 1 / 60)], live, { creation: creation() });
    expect(p.creationGuard).toMatchObject({ held: true, heldCreates: 1_200 });
    // Kept as "every new meeting" rather than a scope the feed row cannot store (32,768 characters).
    expect(p.creationGuard.scope).toEqual({ all: true, uids: [], organizers: [] });
    const warning = creationGuardWarning('cs', p.creationGuard) ?? '';
    expect(warning).toContain('(16,004 characters)');
    expect(warning.length).toBeLessThan(1_000);
  });

  it('looks up the budget only of lecturers with at least GUARD_MIN_CREATES possible new meetings', () => {
    const office = series('office-hours', 600, 24, { organizerEmail: 'office@uni.example' });
    expect(organizersToCheck([...existing, ...office], live, NOW, 500)).toEqual(['office@uni.example']);
    expect(
      organizersToCheck([...existing, ...office], [...live, ...office.map((s) => recordFor(s))], NOW, 500),
    ).toEqual([]);
  });
});

describe('planSync: order and shape', () => {
  it('orders operations by start, then key, whatever the input order', () => {
    const sessions = [session('b', 5), session('a', 5), session('c', 1)];
    const p1 = plan(sessions, []);
    const p2 = plan([...sessions].reverse(), []);
    expect(p1.operations.map((op) => (op.kind === 'cancel' ? op.record.key : op.desired.key))).toEqual([
      'c',
      'a',
      'b',
    ]);
    expect(p2).toEqual(p1);
  });

  it('is plain data', () => {
    const s = session('a', 5);
    const p = plan(
      [s, session('b', 6)],
      [recordFor(session('a', 5, { subject: 'x' })), recordFor(session('z', 7))],
    );
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

// ---- Properties -------------------------------------------------------------------------------

/** A tiny stand-in for the sync shell: every operation succeeds. */
function applyPlan(records: readonly MeetingRecord[], p: SyncPlan): MeetingRecord[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const written = (desired: DesiredSession, generation: number, externalId: string): MeetingRecord => ({
    ...recordFor(desired),
    generation,
    externalId,
    meetingId: `meeting-${externalId}`,
  });
  for (const op of p.operations) {
    switch (op.kind) {
      case 'create':
      case 'replace':
        byKey.set(op.desired.key, written(op.desired, op.generation, op.externalId));
        break;
      case 'update':
        byKey.set(op.desired.key, written(op.desired, op.record.generation, op.record.externalId));
        break;
      case 'move':
        // One transaction: the old key keeps a cancelled row, the meeting goes to the new key.
        byKey.set(op.record.key, { ...op.record, state: 'cancelled', meetingId: null, joinWebUrl: null });
        byKey.set(op.desired.key, {
          ...written(op.desired, op.target?.generation ?? op.record.generation, op.record.externalId),
          meetingId: op.record.meetingId,
        });
        break;
      case 'cancel':
        byKey.set(op.record.key, { ...op.record, state: 'cancelled' });
        break;
    }
  }
  return [...byKey.values()];
}

const organizers = ['ada@uni.example', 'bob@uni.example', 'cy@uni.example'];

/** A timetable as the iCalendar engine would hand it over: instances of a few recurring events. */
const arbOccurrence = fc.record({
  uid: fc.constantFrom('alg', 'phy', 'chem', 'bio', 'lab'),
  week: fc.integer({ min: -1, max: 14 }),
  hour: fc.integer({ min: 0, max: 6 }),
  shiftHours: fc.integer({ min: -30, max: 30 }),
  length: fc.integer({ min: 1, max: 3 }),
  subject: fc.constantFrom('Lecture', 'Seminar', 'Lab'),
  organizer: fc.constantFrom(...organizers),
  cancelled: fc.boolean(),
  sequence: fc.integer({ min: 0, max: 3 }),
});
type OccSpec = typeof arbOccurrence extends fc.Arbitrary<infer T> ? T : never;

function toOccurrence(spec: OccSpec): Occurrence {
  // Original start: Monday of `week`, 09:00 + hour; the instance may have been moved by shiftHours.
  const original = NOW_MS + (spec.week * 7 * 24 + spec.hour) * HOUR;
  const start = original + spec.shiftHours * HOUR;
  return {
    uid: spec.uid,
    recurrenceId: iso(original),
    start: iso(start),
    end: iso(start + spec.length * HOUR),
    allDay: false,
    floating: false,
    summary: spec.subject,
    description: '',
    location: '',
    organizer: { email: spec.organizer },
    attendees: [],
    status: spec.cancelled ? 'cancelled' : 'confirmed',
    sequence: spec.sequence,
  };
}

const arbTimetable = fc.array(arbOccurrence, { maxLength: 40 });
/** Edits: drop some, change some, add some. */
const arbEdit = fc.record({
  keep: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  changes: fc.array(fc.option(arbOccurrence, { freq: 2 }), { minLength: 40, maxLength: 40 }),
  added: fc.array(arbOccurrence, { maxLength: 10 }),
});

function edit(
  timetable: OccSpec[],
  e: { keep: boolean[]; changes: (OccSpec | null)[]; added: OccSpec[] },
): OccSpec[] {
  const edited = timetable.flatMap((spec, i) => {
    if (e.keep[i] === false) return [];
    const change = e.changes[i];
    // A change keeps the instance's identity (uid, original start) and edits everything else.
    return [change ? { ...change, uid: spec.uid, week: spec.week, hour: spec.hour } : spec];
  });
  return [...edited, ...e.added];
}

const desiredOf = (timetable: OccSpec[]): DesiredSession[] =>
  toDesiredSessions(FEED, timetable.map(toOccurrence)).sessions;

function touchedRecord(op: PlannedOperation): MeetingRecord | null {
  return op.kind === 'cancel' ? op.record : op.kind === 'create' ? null : op.record;
}

const arbSettings = fc.record({
  maxCancelShare: fc.constantFrom(0, 0.1, 0.2, 0.5, 1),
  guardMinCancels: fc.integer({ min: 0, max: 5 }),
  cancellationsConfirmed: fc.boolean(),
});

/** Creation-guard inputs small enough for the timetables above to trip every rule. */
const arbCreationGuard = fc.record({
  settings: fc.record({
    maxCreateGrowth: fc.constantFrom(0, 0.5, 1),
    guardMinCreates: fc.integer({ min: 1, max: 3 }),
    maxEventSessions: fc.integer({ min: 1, max: 4 }),
    organizerMonthlyLimit: fc.integer({ min: 0, max: 4 }),
  }),
  confirmed: fc.boolean(),
  organizerBudgets: fc.constant(new Map<string, number>()),
  heldBefore: fc.option(fc.record({ all: fc.boolean(), uids: fc.constant([]), organizers: fc.constant([]) })),
});

describe('planSync properties', () => {
  it('reaches a fixed point: after applying a plan, the next plan has no operations', () => {
    fc.assert(
      fc.property(
        arbTimetable,
        arbEdit,
        arbSettings,
        fc.integer({ min: 0, max: 200 }),
        (first, e, s, laterHours) => {
          const input = { windowEnd: WINDOW_END, settings: s, skippedKeys: [], guardHeldBefore: false };
          const r1 = applyPlan([], planSync({ ...input, desired: desiredOf(first), records: [], now: NOW }));
          const second = desiredOf(edit(first, e));
          const later = at(laterHours);
          const secondPlan = planSync({ ...input, desired: second, records: r1, now: later });
          const r2 = applyPlan(r1, secondPlan);
          const again = planSync({
            ...input,
            desired: second,
            records: r2,
            now: later,
            guardHeldBefore: secondPlan.guard.held,
          });
          expect(again.operations).toEqual([]);
        },
      ),
    );
  });

  it('never updates, replaces or cancels a meeting that has begun, nor creates a session that has ended', () => {
    const states: MeetingState[] = ['creating', 'active', 'blocked', 'failed', 'cancelling', 'cancelled'];
    const arbRecord = fc.record({
      spec: arbOccurrence,
      state: fc.constantFrom(...states),
      hasMeeting: fc.boolean(),
      nextAttemptHours: fc.option(fc.integer({ min: -5, max: 5 })),
      generation: fc.integer({ min: 0, max: 3 }),
      /** Most records belong to a session of the timetable (same identity, possibly other content). */
      linkedTo: fc.option(fc.nat(), { freq: 4 }),
    });
    fc.assert(
      fc.property(
        arbTimetable,
        fc.array(arbRecord, { maxLength: 40 }),
        arbSettings,
        arbCreationGuard,
        (timetable, recordSpecs, s, creation) => {
          const desired = desiredOf(timetable);
          const byKey = new Map<string, MeetingRecord>();
          for (const r of recordSpecs) {
            const linked =
              r.linkedTo === null || timetable.length === 0
                ? undefined
                : timetable[r.linkedTo % timetable.length];
            const identity =
              linked === undefined ? {} : { uid: linked.uid, week: linked.week, hour: linked.hour };
            const [d] = toDesiredSessions(FEED, [
              toOccurrence({ ...r.spec, ...identity, cancelled: false }),
            ]).sessions;
            if (d === undefined) continue;
            byKey.set(
              d.key,
              recordFor(d, {
                state: r.state,
                meetingId: r.hasMeeting ? `m-${d.key}` : null,
                nextAttemptAt: r.nextAttemptHours === null ? null : at(r.nextAttemptHours),
                generation: r.generation,
                externalId: externalIdFor(d.key, r.generation),
              }),
            );
          }
          const records = [...byKey.values()];
          const p = planSync({
            desired,
            records,
            now: NOW,
            windowEnd: WINDOW_END,
            settings: s,
            skippedKeys: [],
            guardHeldBefore: false,
            creation,
          });
          for (const op of [...p.operations, ...p.held]) {
            const record = touchedRecord(op);
            if (op.kind !== 'create' && record !== null)
              expect(Date.parse(record.start)).toBeGreaterThan(NOW_MS);
            if (op.kind === 'create') expect(Date.parse(op.desired.end)).toBeGreaterThan(NOW_MS);
            if (op.kind === 'create' || op.kind === 'replace') expect(op.desired.cancelled).toBe(false);
          }
          // Every record is accounted for exactly once.
          const seen = [
            ...[...p.operations, ...p.held].flatMap((op) =>
              op.kind === 'create'
                ? op.record
                  ? [op.record]
                  : []
                : op.kind === 'move' && op.target
                  ? [op.record, op.target]
                  : [op.record],
            ),
            ...p.unchanged,
            ...p.waiting,
          ].map((r) => r.key);
          expect(seen.sort()).toEqual(records.map((r) => r.key).sort());
          // Nothing not yet due is retried (a move of a row that waits only re-keys it).
          for (const op of p.operations) {
            if (op.kind === 'move' && !op.due) continue;
            const record = touchedRecord(op) ?? (op.kind === 'create' ? op.record : null);
            if (
              record &&
              (record.state === 'failed' || record.state === 'blocked') &&
              record.nextAttemptAt !== null
            ) {
              expect(Date.parse(record.nextAttemptAt)).toBeLessThanOrEqual(NOW_MS);
            }
          }
        },
      ),
    );
  });

  it('holds every cancel when a feed shrinks beyond the threshold, and only then', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.constantFrom(0.05, 0.1, 0.2, 0.34, 0.5),
        fc.integer({ min: 1, max: 6 }),
        (n, removeFlags, maxCancelShare, guardMinCancels) => {
          const future = Array.from({ length: n }, (_, i) => session(`s${i}`, 1 + i * 5));
          const records = future.map((s) => recordFor(s));
          const remaining = future.filter((_, i) => removeFlags[i] !== true);
          const removed = n - remaining.length;
          const guarded = { maxCancelShare, guardMinCancels, cancellationsConfirmed: false };
          const p = planSync({
            desired: remaining,
            records,
            now: NOW,
            windowEnd: WINDOW_END,
            settings: guarded,
            skippedKeys: [],
            guardHeldBefore: false,
          });
          const shouldHold =
            removed > 0 &&
            (remaining.length === 0 || (removed >= guardMinCancels && removed / n > maxCancelShare));
          expect(p.guard.held).toBe(shouldHold);
          expect(p.guard.wouldCancel).toBe(removed);
          expect(p.counts.cancel).toBe(shouldHold ? 0 : removed);
          expect(p.held).toHaveLength(shouldHold ? removed : 0);
          const confirmed = planSync({
            desired: remaining,
            records,
            now: NOW,
            windowEnd: WINDOW_END,
            settings: { ...guarded, cancellationsConfirmed: true },
            skippedKeys: [],
            guardHeldBefore: false,
          });
          expect(confirmed.counts.cancel).toBe(removed);
        },
      ),
    );
  });
});

describe('room changes', () => {
  it('lists unchanged meetings whose session only moved room, with the new room, and nothing else', () => {
    const moved = session('moved', 24, { location: 'Hall B' });
    const same = session('same', 25, { location: 'Room 1' });
    const retimed = session('retimed', 26, { location: 'Room 9' });
    const records = [
      recordFor(moved, { location: 'Room 101' }),
      recordFor(same, { location: 'Room 1' }),
      recordFor(session('retimed', 30), { location: 'Room 2' }),
    ];
    const p = plan([moved, same, retimed], records);
    expect(p.counts).toMatchObject({ update: 1, unchanged: 2, roomChanges: 1 });
    expect(p.roomChanges).toEqual([{ ...records[0], location: 'Hall B', description: '' }]);
    // The meeting itself is unchanged: it stays in `unchanged`, untouched.
    expect(p.unchanged.map((r) => r.key)).toEqual(['moved', 'same']);
    expect(p.unchanged[0]?.location).toBe('Room 101');
  });

  it('a changed DESCRIPTION is saved the same way (published only, never a PATCH); rows from before it was kept match an empty one', () => {
    const notes = session('notes', 24, { description: 'Bring a laptop' });
    const plain = session('plain', 25);
    const p = plan(
      [notes, plain],
      [recordFor(notes, { description: 'Room change' }), recordFor(plain, { description: undefined })],
    );
    expect(p.counts).toMatchObject({ update: 0, unchanged: 2, roomChanges: 1 });
    expect(p.roomChanges.map((r) => [r.key, r.description])).toEqual([['notes', 'Bring a laptop']]);
  });

  it('ignores rows of sessions the feed no longer has, and rows written before rooms were kept match an empty room', () => {
    const roomless = session('roomless', 24, { location: '' });
    const gone = session('gone', 25, { location: 'Room 3' });
    const p = plan(
      [roomless],
      [recordFor(roomless, { location: undefined }), recordFor(gone, { state: 'cancelled' })],
    );
    expect(p.roomChanges).toEqual([]);
  });
});

describe('isSettledRow: the rows a sync counts instead of keeping', () => {
  it('says settled only of rows planSync leaves unchanged with no room change, whatever else differs', () => {
    const variants = fc.record({
      hours: fc.constantFrom(-30, -0.5, 5, 48),
      state: fc.constantFrom<MeetingState>(
        'active',
        'failed',
        'blocked',
        'cancelled',
        'cancelling',
        'creating',
      ),
      retry: fc.boolean(),
      hash: fc.boolean(),
      organizer: fc.constantFrom('ada@uni.example', 'ADA@uni.example', 'bob@uni.example'),
      room: fc.constantFrom('', 'R1'),
      storedRoom: fc.constantFrom(undefined, '', 'R1'),
      cancelled: fc.boolean(),
    });
    let settled = 0;
    fc.assert(
      fc.property(variants, (v) => {
        const desired = session('k', v.hours, { location: v.room, cancelled: v.cancelled });
        const record = recordFor(desired, {
          state: v.state,
          nextAttemptAt: v.retry ? at(1) : null,
          contentHash: v.hash ? desired.contentHash : 'stale',
          organizerEmail: v.organizer,
          ...(v.storedRoom === undefined ? {} : { location: v.storedRoom }),
        });
        if (!isSettledRow(record, desired)) return;
        settled++;
        const planned = plan([desired], [record]);
        expect(planned.operations).toEqual([]);
        expect(planned.roomChanges).toEqual([]);
        expect(planned.unchanged).toEqual([record]);
      }),
      { numRuns: 2_000 },
    );
    expect(settled).toBeGreaterThan(0);
  });
});
