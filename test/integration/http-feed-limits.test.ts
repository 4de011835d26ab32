// Inputs that cannot poison a feed (issue 14): a field over what Table Storage or Graph can hold skips
// only its event, with a warning naming the UID and line, at upload and in every sync; a default
// organizer over an e-mail address's length is a 400; an upload whose sessions are nearly all skipped
// answers with bounded lists; and an upload that fails with a 5xx stores nothing. Real Azurite and the
// Graph emulator; the storage failure is one wrapped call, not a mocked table.
import { describe, expect, it } from 'vitest';

import { dryRunPlan, registerFeedUrl } from '../../src/admin/feeds.js';
import type { AppServices } from '../../src/compose.js';
import type { FeedFetcher } from '../../src/feeds/fetch.js';
import { createFeedsRoutes } from '../../src/http/index.js';
import { toDryRunView } from '../../src/http/views.js';
import { StorageError } from '../../src/storage/index.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { KEY, call, expectProblem, type CallInit } from './http-support.js';

const harness = useSyncHarness();

const ICS = { 'content-type': 'text/calendar; charset=utf-8' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** RFC 5545 §3.1 folding at 75 characters, as exports write long values. */
function fold(line: string): string[] {
  const out = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) out.push(` ${line.slice(i, i + 74)}`);
  return out;
}

const HUGE_UID = `huge-uid-${'u'.repeat(40_000 - 9)}`;
const LONG_ORGANIZER = `${'o'.repeat(388)}@uni.example`; // 400 characters

/** Four events with one oversized field each, between events that are fine. */
const OVERSIZED: Array<{ uid: string; lines: string[]; reason: RegExp }> = [
  {
    uid: 'big-summary@uni.example',
    lines: [...fold(`SUMMARY:${'S'.repeat(40_000)}`), 'ORGANIZER:mailto:ada@uni.example'],
    reason: /SUMMARY is 40,000 characters long; a Teams meeting subject may have at most 244/,
  },
  {
    uid: 'big-location@uni.example',
    lines: ['SUMMARY:Lab', ...fold(`LOCATION:${'L'.repeat(70_000)}`), 'ORGANIZER:mailto:ada@uni.example'],
    reason: /LOCATION is 70,000 characters long; at most 16,384 can be stored/,
  },
  {
    uid: HUGE_UID,
    lines: ['SUMMARY:Tutorial', 'ORGANIZER:mailto:ada@uni.example'],
    reason: /UID is 40,000 characters long; at most 16,384 can be stored/,
  },
  {
    uid: 'big-organizer@uni.example',
    lines: ['SUMMARY:Seminar', `ORGANIZER:mailto:${LONG_ORGANIZER}`],
    reason: /ORGANIZER is 400 octets long; an e-mail address has at most 254/,
  },
];

function mixedCalendar(): string {
  return calendar(
    [
      'UID:cs101@uni.example',
      'SUMMARY:CS101 Lecture',
      'LOCATION:Room 1.01',
      'ORGANIZER:mailto:ada@uni.example',
      'DTSTART:20270111T090000Z',
      'DTEND:20270111T100000Z',
      'RRULE:FREQ=WEEKLY;COUNT=4',
    ],
    ...OVERSIZED.map((e, i) => [
      ...fold(`UID:${e.uid}`),
      ...e.lines,
      `DTSTART:2027011${2 + i}T090000Z`,
      `DTEND:2027011${2 + i}T100000Z`,
    ]),
    [
      'UID:db-seminar@uni.example',
      'SUMMARY:Databases seminar',
      'ORGANIZER:mailto:chen@uni.example',
      'DTSTART:20270120T120000Z',
      'DTEND:20270120T133000Z',
    ],
  );
}

/** The line of the BEGIN:VEVENT whose (folded) UID starts with `uid`'s first characters. */
function lineOf(text: string, uid: string): number {
  const lines = text.split('\r\n');
  const at = lines.findIndex((l) => l.startsWith(`UID:${uid.slice(0, 60)}`));
  for (let i = at; i >= 0; i--) if (lines[i] === 'BEGIN:VEVENT') return i + 1;
  throw new Error(`no event ${uid.slice(0, 40)}`);
}

async function setUp(world: World) {
  const users = world.seed(['ada@uni.example', 'chen@uni.example']);
  await world.grant(users.get('ada@uni.example')!);
  await world.grant(users.get('chen@uni.example')!);
}

function routesOf(services: AppServices) {
  const routes = createFeedsRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
  return (id: string, init: CallInit) =>
    call(routes, 'feedsPut', 'PUT', `feeds/${id}`, { params: { id }, ...init });
}

type Warning = { uid: string; line?: number; reason: string };

function expectOversizedWarnings(warnings: Warning[], text: string): void {
  expect(warnings).toHaveLength(OVERSIZED.length);
  for (const event of OVERSIZED) {
    const warning = warnings.find((w) => w.line === lineOf(text, event.uid));
    expect(warning, event.uid.slice(0, 40)).toBeDefined();
    expect(warning?.reason).toMatch(event.reason);
    // The UID is named, cut to a readable length when it is itself the problem.
    expect(warning?.uid.startsWith(event.uid.slice(0, 20))).toBe(true);
    expect(warning?.uid.length).toBeLessThan(200);
  }
}

async function expectOnlyGoodSessionsSynced(world: World, feedId: string): Promise<void> {
  const run = await world.sync(feedId);
  expect(run).toMatchObject({ outcome: 'completed', created: 5, failed: 0, blocked: 0 });
  const rows = await world.services.store.meetings.listByFeed(feedId);
  expect(rows.map((r) => `${r.uid} ${r.start} ${r.state}`).sort()).toEqual([
    'cs101@uni.example 2027-01-11T09:00:00Z active',
    'cs101@uni.example 2027-01-18T09:00:00Z active',
    'cs101@uni.example 2027-01-25T09:00:00Z active',
    'cs101@uni.example 2027-02-01T09:00:00Z active',
    'db-seminar@uni.example 2027-01-20T12:00:00Z active',
  ]);
  expect(rows.every((r) => r.meetingId !== null && r.joinWebUrl !== null)).toBe(true);
  expect(world.emulator.control.meetings()).toHaveLength(5);
  // A second run has nothing left to do: the feed is not failing, so it never reaches the poison queue.
  expect(await world.sync(feedId, { force: true })).toMatchObject({ outcome: 'completed', failed: 0 });
}

describe('fields over the storage and Graph limits', () => {
  it('an upload skips only the events with an oversized field (UID and line named); the rest sync', async () => {
    const world = await harness.world();
    await setUp(world);
    const text = mixedCalendar();
    const result = await routesOf(world.services)('limits', { body: text, headers: ICS });
    expect(result.status, result.text.slice(0, 500)).toBe(201);
    const body = result.json() as { sessions: number; warnings: Warning[] };
    expect(body.sessions).toBe(5);
    expectOversizedWarnings(body.warnings, text);
    expect(result.text.length).toBeLessThan(20_000);
    await expectOnlyGoodSessionsSynced(world, 'limits');
  });

  it('a URL feed (the sync path) skips the same events with the same warnings', async () => {
    const world = await harness.world();
    await setUp(world);
    const text = mixedCalendar();
    await registerFeedUrl(world.services, 'limits-url', 'https://timetable.example.org/limits.ics');
    const fetchFeed: FeedFetcher = () =>
      Promise.resolve({ status: 'ok', body: text, etag: null, lastModified: null });
    const run = await world.sync('limits-url', { deps: { fetchFeed } });
    expect(run).toMatchObject({ outcome: 'completed', created: 5, failed: 0 });
    const logged = world.events
      .filter((e) => e.name === 'feed.event.skipped')
      .map((e) => e.properties as unknown as Warning);
    expectOversizedWarnings(logged, text);
    expect(world.emulator.control.meetings()).toHaveLength(5);
  });

  it('a default organizer longer than an e-mail address is a 400 naming the parameter; nothing is stored', async () => {
    const world = await harness.world();
    const put = routesOf(world.services);
    const text = mixedCalendar();
    expectProblem(
      await put('org-query', { body: text, headers: ICS, query: { organizer: LONG_ORGANIZER } }),
      400,
      /query parameter 'organizer'.*400 octets long; an e-mail address has at most 254/,
    );
    expectProblem(
      await put('org-query', { body: text, headers: ICS, query: { defaultOrganizer: LONG_ORGANIZER } }),
      400,
      /query parameter 'defaultOrganizer'/,
    );
    expect(await world.services.store.feeds.get('org-query')).toBeNull();
    // 300 characters pass the JSON schema's 320 but not the address limit.
    const organizer = `${'p'.repeat(288)}@uni.example`;
    expectProblem(
      await put('org-json', {
        body: JSON.stringify({ url: 'https://timetable.example.org/x.ics', defaultOrganizer: organizer }),
        headers: JSON_TYPE,
      }),
      400,
      /defaultOrganizer 'p+… \(300 characters\)' is 300 octets long/,
    );
    expect(await world.services.store.feeds.get('org-json')).toBeNull();
  });

  it('an upload whose sessions are nearly all skipped (2 KB, every minute, no organizer) answers with bounded lists', async () => {
    const world = await harness.world();
    const text = calendar(
      [
        'UID:every-minute@uni.example',
        ...fold(`SUMMARY:${'Drop-in help desk, open all day and night '.repeat(6).slice(0, 240)}`),
        'DTSTART:20270104T080000Z',
        'DTEND:20270104T080100Z',
        'RRULE:FREQ=MINUTELY',
      ],
      [
        'UID:every-minute-long@uni.example',
        ...fold(`SUMMARY:${'x'.repeat(1_200)}`),
        'DTSTART:20270104T080000Z',
        'DTEND:20270104T080100Z',
        'RRULE:FREQ=MINUTELY',
      ],
    );
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_800);
    expect(Buffer.byteLength(text)).toBeLessThan(2_400);
    const result = await routesOf(world.services)('minutely', { body: text, headers: ICS });
    expect(result.status, result.text.slice(0, 500)).toBe(201);
    const body = result.json() as {
      sessions: number;
      warnings: Warning[];
      warningsOmitted: number;
      skipped: Array<{ uid: string; reason: string; start: string; detail: string }>;
      skippedOmitted: number;
      skippedByReason: Record<string, number>;
    };
    expect(body.sessions).toBe(0);
    // The long SUMMARY's event is refused at the door, with its line; the other one's minutes skipped.
    expect(body.warnings).toEqual([
      expect.objectContaining({
        uid: 'every-minute-long@uni.example',
        line: lineOf(text, 'every-minute-long'),
      }),
    ]);
    expect(body.warningsOmitted).toBe(0);
    expect(body.skipped).toHaveLength(50);
    expect(body.skipped.every((s) => s.reason === 'noOrganizer')).toBe(true);
    expect(body.skipped[0]?.detail).toMatch(/no ORGANIZER/);
    // 120 days of minutes: every one counted, 50 listed.
    expect(body.skippedByReason).toEqual({ noOrganizer: 120 * 24 * 60 });
    expect(body.skippedOmitted).toBe(120 * 24 * 60 - 50);
    expect(result.text.length).toBeLessThan(100_000);
    // The dry run of the stored version is bounded the same way.
    const plan = JSON.stringify(toDryRunView('minutely', await dryRunPlan(world.services, 'minutely')));
    expect(JSON.parse(plan)).toMatchObject({
      skippedOmitted: 120 * 24 * 60 - 50,
      skippedByReason: { noOrganizer: 120 * 24 * 60 },
      warningsOmitted: 0,
    });
    expect(plan.length).toBeLessThan(100_000);
  });
});

describe('an upload that fails stores nothing', () => {
  it('a 5xx from the feed-row write leaves the feed row (ETag too), its body version and its meetings as they were', async () => {
    const world = await harness.world();
    await setUp(world);
    const first = calendar(
      [
        'UID:cs101@uni.example',
        'SUMMARY:CS101 Lecture',
        'ORGANIZER:mailto:ada@uni.example',
        'DTSTART:20270111T090000Z',
        'DTEND:20270111T100000Z',
        'RRULE:FREQ=WEEKLY;COUNT=4',
      ],
      [
        'UID:db-seminar@uni.example',
        'SUMMARY:Databases seminar',
        'ORGANIZER:mailto:chen@uni.example',
        'DTSTART:20270120T120000Z',
        'DTEND:20270120T133000Z',
      ],
    );
    expect((await world.upload('kept', first)).created).toBe(true);
    await world.sync('kept');
    const store = world.services.store;
    const snapshot = async () => {
      const feed = await store.feeds.get('kept');
      return {
        feed,
        body: feed?.bodyVersion ? await store.feedBodies.get('kept', feed.bodyVersion) : null,
        meetings: await store.meetings.listByFeed('kept'),
      };
    };
    const before = await snapshot();
    expect(before.feed?.etag).toBeTruthy();
    expect(before.meetings).toHaveLength(5);

    // The row write answers 503 once (as Table Storage does when it is unavailable).
    let failures = 0;
    const failing: AppServices = {
      ...world.services,
      store: {
        ...store,
        feeds: {
          ...store.feeds,
          update: () => {
            failures++;
            return Promise.reject(new StorageError('unavailable', 'feeds/kept: the service answered 503'));
          },
        },
      },
    };
    const second = first.replace('Databases seminar', 'Databases tutorial');
    const result = await routesOf(failing)('kept', { body: second, headers: ICS });
    expectProblem(result, 503, /storage is not available/);
    expect(failures).toBe(1);
    expect(await snapshot()).toEqual(before);

    // The next sync reads the version the row names (the blob written before the failure is never
    // read): nothing changes in Teams.
    const graphBefore = world.emulator.control.meetings().map((m) => m.subject);
    expect(await world.sync('kept', { force: true })).toMatchObject({ created: 0, updated: 0, cancelled: 0 });
    expect(world.emulator.control.meetings().map((m) => m.subject)).toEqual(graphBefore);
    expect(graphBefore).toContain('Databases seminar');
  });
});
