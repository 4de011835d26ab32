// The apply units on the in-memory StateStore (same ETag and insert semantics as Azurite, pinned by the
// contract suite) against the Graph emulator: each case runs in milliseconds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { dryRunPlan } from '../../src/admin/feeds.js';
import { recordPolicyGrant } from '../../src/admin/policies.js';
import type { DesiredSession } from '../../src/core/desired.js';
import { contentHash, externalIdFor } from '../../src/core/identity.js';
import type { PlannedOperation } from '../../src/core/plan.js';
import type { MeetingRecord } from '../../src/core/state.js';
import { loadConfig } from '../../src/config.js';
import type { EmulatorUser } from '../../src/emulator/index.js';
import { createEventLogger, memorySink, type LoggedEvent } from '../../src/events.js';
import type { GraphAccess } from '../../src/graph/client.js';
import { createMemoryStateStore, type StateStore } from '../../src/storage/index.js';
import { ApplyRun, applyOperations, type ApplyDeps } from '../../src/sync/apply/index.js';
import { createLimiter } from '../../src/sync/limiter.js';
import { startTestEmulator, type TestEmulator } from '../support/graph-emulator.js';
import { feedRecord } from '../support/records.js';

const NOW = '2027-01-04T08:00:00Z';
const FEED = 'cs-101';
let t: TestEmulator;
let graph: GraphAccess;
let ada: EmulatorUser;
let brian: EmulatorUser;

beforeAll(async () => {
  t = await startTestEmulator();
  graph = t.access();
  [ada, brian] = t.users as [EmulatorUser, EmulatorUser];
  t.emulator.control.newPolicy('TimetableSync-OnlineMeetings', [t.emulator.clientId]);
  t.emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: ada.id }, { delayMs: 0 });
}, 60_000);
afterAll(() => t.emulator.stop());

interface Setup {
  store: StateStore;
  events: LoggedEvent[];
  deps(overrides?: Partial<ApplyDeps>): ApplyDeps;
  apply(ops: PlannedOperation[], overrides?: Partial<ApplyDeps>): Promise<ApplyRun>;
  rows(): Promise<MeetingRecord[]>;
}

let s: Setup;
beforeEach(() => {
  t.emulator.control.reset(); // meetings, counts and faults; Ada keeps her policy, Brian has none
  t.emulator.control.grantPolicy(null, { userId: brian.id }, { delayMs: 0 });
  const store = createMemoryStateStore();
  const { sink, events } = memorySink();
  const config = loadConfig({});
  const deps = (overrides: Partial<ApplyDeps> = {}): ApplyDeps => ({
    store,
    graph,
    limiter: createLimiter({ initial: 4, min: 1, max: 8, perKeyMax: 4 }),
    logger: createEventLogger(sink),
    config,
    now: () => new Date(NOW),
    sleep: () => Promise.resolve(),
    policyRetryWaitsMs: [],
    ...overrides,
  });
  s = {
    store,
    events,
    deps,
    async apply(ops, overrides) {
      const run = new ApplyRun(deps(overrides), FEED, Number.POSITIVE_INFINITY);
      await applyOperations(run, ops);
      return run;
    },
    rows: () => store.meetings.listByFeed(FEED),
  };
});

function session(
  key: string,
  organizerEmail: string,
  overrides: Partial<DesiredSession> = {},
): DesiredSession {
  const draft = {
    key,
    uid: `${key}@uni`,
    recurrenceId: null,
    subject: `Lecture ${key}`,
    start: '2027-01-11T09:00:00Z',
    end: '2027-01-11T10:00:00Z',
    organizerEmail,
    cancelled: false,
    location: 'Room 1',
    ...overrides,
  };
  return { ...draft, contentHash: contentHash(draft) };
}

const create = (
  desired: DesiredSession,
  record: MeetingRecord | null = null,
  generation = 0,
): PlannedOperation => ({
  kind: 'create',
  desired,
  record,
  generation,
  externalId: externalIdFor(desired.key, generation),
});

const live = () => t.emulator.control.meetings();

describe('create', () => {
  it('stores the createOrGet key before calling Graph, so a failed call is retried with the same key and makes one meeting', async () => {
    const lecture = session('k1', ada.userPrincipalName);
    t.emulator.control.setFaults({ failAfterCommitNext: 1, failAfterCommitMode: 'reset' });
    const first = await s.apply([create(lecture)]);
    expect(first.counters).toMatchObject({ created: 0, failed: 1 });
    const [failed] = await s.rows();
    expect(failed).toMatchObject({
      state: 'failed',
      externalId: externalIdFor('k1', 0),
      organizerId: ada.id,
      meetingId: null,
    });
    expect(live()).toHaveLength(1); // committed in Teams; only the key connects it to the row

    const retry = await s.apply([create(lecture, failed)]);
    expect(retry.counters).toMatchObject({ created: 1, failed: 0 });
    expect(live()).toHaveLength(1);
    expect((await s.rows())[0]).toMatchObject({
      state: 'active',
      meetingId: live()[0]!.id,
      joinWebUrl: live()[0]!.joinWebUrl,
    });
  });
});

describe('update', () => {
  it('PATCHes the same meeting (same join link); a meeting deleted in Teams is made again under a new key', async () => {
    await s.apply([create(session('k1', ada.userPrincipalName))]);
    const [row] = await s.rows();
    const moved = session('k1', ada.userPrincipalName, {
      start: '2027-01-11T11:00:00Z',
      end: '2027-01-11T12:00:00Z',
    });
    await s.apply([{ kind: 'update', desired: moved, record: row! }]);
    const [updated] = await s.rows();
    expect(updated).toMatchObject({
      meetingId: row!.meetingId,
      joinWebUrl: row!.joinWebUrl,
      start: moved.start,
      state: 'active',
    });
    expect(live()[0]).toMatchObject({
      startDateTime: expect.stringMatching(/^2027-01-11T11:00:00/) as string,
      patchCount: 1,
    });

    await graph.meetings.delete(ada.id, row!.meetingId!); // someone deleted it in Teams
    const run = await s.apply([
      {
        kind: 'update',
        desired: session('k1', ada.userPrincipalName, { subject: 'Renamed' }),
        record: updated!,
      },
    ]);
    expect(run.counters.created).toBe(1);
    const [recreated] = await s.rows();
    expect(recreated).toMatchObject({
      generation: 1,
      externalId: externalIdFor('k1', 1),
      state: 'active',
      subject: 'Renamed',
    });
    expect(live().map((m) => m.subject)).toEqual(['Renamed']);
    expect(s.events.map((e) => e.name)).toContain('meeting.missing.recreated');
  });
});

describe('cancel and replace', () => {
  it('cancel deletes the meeting; replace moves the session to its new organizer without leaving the old meeting', async () => {
    t.emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: brian.id }, { delayMs: 0 });
    await s.apply([create(session('a', ada.userPrincipalName)), create(session('b', ada.userPrincipalName))]);
    const [a, b] = await s.rows();
    await s.apply([
      { kind: 'cancel', record: a!, reason: 'removed' },
      {
        kind: 'replace',
        desired: session('b', brian.userPrincipalName),
        record: b!,
        reason: 'organizerChanged',
        generation: 1,
        externalId: externalIdFor('b', 1),
      },
    ]);
    expect(live().map((m) => m.organizerId)).toEqual([brian.id]);
    const rows = await s.rows();
    expect(rows.map((r) => [r.key, r.state, r.organizerId])).toEqual([
      ['a', 'cancelled', ada.id],
      ['b', 'active', brian.id],
    ]);
  });

  it('a lock Graph refuses (400) does not keep the meeting alive: it is deleted anyway, with meeting.lock.failed', async () => {
    await s.apply([create(session('a', ada.userPrincipalName))]);
    const [a] = await s.rows();
    const meetingId = a!.meetingId!;
    // Graph refuses a PATCH whose end is before its start: the row's times arrive inverted.
    const inverted = { ...a!, start: a!.end, end: a!.start };
    const run = await s.apply([{ kind: 'cancel', record: inverted, reason: 'removed' }]);
    expect(run.counters).toMatchObject({ cancelled: 1, failed: 0 });
    expect(live()).toEqual([]);
    expect(t.emulator.control.meetings({ includeDeleted: true })).toMatchObject([
      { id: meetingId, deleted: true, lobbyLocked: false },
    ]);
    const warned = s.events.filter((e) => e.name === 'meeting.lock.failed');
    expect(warned).toMatchObject([{ level: 'warning', properties: { key: 'a', status: 400 } }]);
  });

  it('a session whose only create Graph refused is cancelled without asking Graph (no meeting made to be deleted)', async () => {
    await s.apply([create(session('a', ada.userPrincipalName))]);
    const [a] = await s.rows();
    const refused: MeetingRecord = {
      ...a!,
      state: 'failed',
      meetingId: null,
      joinWebUrl: null,
      lastError: { code: 'invalidRequest', message: 'bad', at: NOW },
    };
    t.emulator.control.reset();
    const run = await s.apply([{ kind: 'cancel', record: refused, reason: 'removed' }]);
    expect(run.counters).toMatchObject({ cancelled: 1, failed: 0 });
    expect(t.emulator.control.requestCounts().graph).toBe(0);
    expect((await s.rows()).map((r) => r.state)).toEqual(['cancelled']);
  });

  it('CANCEL_MODE=lock keeps the meeting, locked and renamed once', async () => {
    await s.apply([create(session('a', ada.userPrincipalName))]);
    const [a] = await s.rows();
    const config = loadConfig({ CANCEL_MODE: 'lock' });
    await s.apply(
      [{ kind: 'cancel', record: { ...a!, subject: 'Cancelled: Lecture a' }, reason: 'cancelled' }],
      { config },
    );
    expect(live()).toMatchObject([{ subject: 'Cancelled: Lecture a', lobbyLocked: true }]);
  });
});

describe('organizer lanes', () => {
  it('an organizer without a policy costs one 403, blocks the rest with the Grant command, and others go ahead', async () => {
    const brians = ['b1', 'b2', 'b3', 'b4'].map((k) => create(session(k, brian.userPrincipalName)));
    const before =
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet']?.[
        '403'
      ] ?? 0;
    const run = await s.apply([...brians, create(session('a1', ada.userPrincipalName))]);
    const after =
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet']?.[
        '403'
      ] ?? 0;
    expect(after - before).toBe(1);
    expect(run.counters).toMatchObject({ created: 1, blocked: 4 });
    const blocked = (await s.rows()).filter((r) => r.state === 'blocked');
    expect(blocked).toHaveLength(4);
    expect(blocked[0]?.lastError?.message).toContain(
      `Grant-CsApplicationAccessPolicy -PolicyName TimetableSync-OnlineMeetings -Identity "${brian.id}"`,
    );
    expect(s.events.filter((e) => e.name === 'policy.missing')).toHaveLength(1);
  });

  it('an e-mail the directory does not know blocks its sessions without any meeting call', async () => {
    const run = await s.apply([create(session('x', 'nobody@uni.example'))]);
    expect(run.counters).toMatchObject({ blocked: 1, created: 0 });
    expect((await s.rows())[0]).toMatchObject({
      state: 'blocked',
      lastError: { code: 'organizerUnresolved' },
    });
    expect(s.events.map((e) => e.name)).toContain('organizer.unresolved');
  });
});

describe('dry run', () => {
  it('shows what a sync would do: sessions held by a missing policy are planned again once a grant is recorded', async () => {
    const deps = { store: s.store, config: loadConfig({}), now: () => new Date(NOW), graph };
    await s.store.feeds.create(feedRecord({ id: FEED }));
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//t//EN',
      'BEGIN:VEVENT',
      'UID:b1@uni',
      'DTSTAMP:20261201T000000Z',
      'DTSTART:20270111T090000Z',
      'DTEND:20270111T100000Z',
      'SUMMARY:Lecture',
      `ORGANIZER:mailto:${brian.userPrincipalName}`,
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    const lecture = (await dryRunPlan(deps, FEED, ics)).plan.operations[0]!;
    await s.apply([lecture]); // blocked: Brian has no policy
    expect((await dryRunPlan(deps, FEED, ics)).plan.counts).toMatchObject({ create: 0, waiting: 1 });
    await recordPolicyGrant(deps, { user: brian.id, grantedAt: NOW });
    expect((await dryRunPlan(deps, FEED, ics)).plan.counts).toMatchObject({ create: 1, waiting: 0 });
  });
});
