// Microsoft Graph as it really behaves, through a real sync (Graph's documentation and issue threads): createOrGet ignores meeting
// options, one lecturer's account can be refused, the 2,000-a-month limit, a deleted meeting's link keeps
// working, PATCH may answer 204, and a long Retry-After must not hold a run past its budget.
import { describe, expect, it } from 'vitest';

import { listOrganizerPolicies } from '../../src/admin/policies.js';
import { countStatus, eventsNamed, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const GUEST = 'guest@uni.example';
const DISABLED = 'disabled@uni.example';
const NOLICENCE = 'nolicence@uni.example';
const BOB = 'bob@uni.example';

function weekly(
  uid: string,
  organizer: string,
  start: string,
  count: number,
  summary = uid.split('@')[0]!,
): string[] {
  return vevent({ uid, organizer, summary, start, rrule: `FREQ=WEEKLY;COUNT=${count}` });
}

function requestsTo(
  world: { emulator: { control: { requestCounts(): { byRoute: Record<string, Record<string, number>> } } } },
  route: string,
): number {
  return Object.values(world.emulator.control.requestCounts().byRoute[route] ?? {}).reduce(
    (a, b) => a + b,
    0,
  );
}

describe('meeting options', () => {
  it('fresh meetings carry the configured presenters and lobby, although createOrGet gives the tenant defaults', async () => {
    const world = await harness.world({
      settings: { MEETING_LOBBY_BYPASS: 'organizer', MEETING_ALLOWED_PRESENTERS: 'organizer' },
    });
    // A permissive tenant: what a meeting would keep if nobody PATCHed it.
    world.emulator.control.setBehaviour({
      meetingDefaults: { lobbyBypassScope: 'everyone', allowedPresenters: 'everyone' },
    });
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 4)));

    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 4, failed: 0 });
    const meetings = world.emulator.control.meetings();
    expect(meetings).toHaveLength(4);
    for (const meeting of meetings)
      expect(meeting).toMatchObject({ lobbyBypassScope: 'organizer', allowedPresenters: 'organizer' });
    // One createOrGet and one PATCH per meeting, nothing more.
    expect(requestsTo(world, 'PATCH /v1.0/users/{id}/onlineMeetings/{meetingId}')).toBe(4);
  });
});

describe('per-lecturer refusals', () => {
  it("blocks a guest's and an unlicensed lecturer's sessions with their reason; every other lecturer's sessions get meetings in the same run", async () => {
    const world = await harness.world();
    const users = world.seed([ADA, GUEST, NOLICENCE, DISABLED, BOB]);
    const guest = users.get(GUEST)!;
    world.emulator.control.setUser(users.get(DISABLED)!.id, { accountEnabled: false });
    const nolicence = users.get(NOLICENCE)!;
    world.emulator.control.setUser(guest.id, { userType: 'Guest' });
    world.emulator.control.setUser(nolicence.id, { teamsLicensed: false });
    for (const user of users.values()) await world.grant(user);
    await world.upload(
      'cs',
      calendar(
        weekly('ada@uni', ADA, '2027-01-11T09:00:00Z', 3),
        weekly('guest@uni', GUEST, '2027-01-11T11:00:00Z', 3),
        weekly('disabled@uni', DISABLED, '2027-01-11T12:00:00Z', 2),
        weekly('nolicence@uni', NOLICENCE, '2027-01-11T13:00:00Z', 3),
        weekly('bob@uni', BOB, '2027-01-11T15:00:00Z', 3),
      ),
    );

    const run = await world.sync('cs');
    expect(run).toMatchObject({ created: 6, blocked: 8 });
    expect(run.outcome).toBe('completed');
    const byOrganizer = (id: string) => world.emulator.control.meetings().filter((m) => m.organizerId === id);
    expect(byOrganizer(users.get(ADA)!.id)).toHaveLength(3);
    expect(byOrganizer(users.get(BOB)!.id)).toHaveLength(3);
    expect(eventsNamed(world.events, 'graph.credential.rejected')).toHaveLength(0);

    const refused = eventsNamed(world.events, 'organizer.refused');
    expect(refused.map((e) => e.properties.email).sort()).toEqual([DISABLED, GUEST, NOLICENCE]);
    const disabledEvent = refused.find((e) => e.properties.email === DISABLED)!;
    expect(String(disabledEvent.properties.message)).toContain('disabled');
    // The guest and the disabled account are known from the directory: nothing is sent for them. The unlicensed lecturer costs one 403.
    const guestEvent = refused.find((e) => e.properties.email === GUEST)!;
    expect(String(guestEvent.properties.message)).toContain('guest');
    const licenceEvent = refused.find((e) => e.properties.email === NOLICENCE)!;
    expect(licenceEvent).toMatchObject({ level: 'error', properties: { status: 403, code: 'Forbidden' } });
    expect(String(licenceEvent.properties.message)).toContain('Teams licence');
    expect(countStatus(world.emulator, 403, 'onlineMeetings')).toBe(1);

    const rows = await world.services.store.meetings.listByFeed('cs');
    const blocked = rows.filter((r) => [GUEST, NOLICENCE, DISABLED].includes(r.organizerEmail));
    expect(blocked).toHaveLength(8);
    for (const row of blocked)
      expect(row).toMatchObject({ state: 'blocked', lastError: { code: 'organizerRefused' } });

    // The organizers view (GET /api/policies) names both with their reason.
    const { organizers } = await listOrganizerPolicies(world.services);
    const view = (email: string) => organizers.find((o) => o.email === email);
    expect(view(GUEST)).toMatchObject({ blockedSessions: 3 });
    expect(view(GUEST)!.reason).toContain('guest');
    expect(view(NOLICENCE)).toMatchObject({ blockedSessions: 3 });
    expect(view(NOLICENCE)!.reason).toContain('Teams licence');

    // Before the back-off ends nothing is sent again; once licensed and due, one probe then the rest.
    world.advance(10 * 60_000);
    await world.sync('cs', { force: true });
    expect(countStatus(world.emulator, 403, 'onlineMeetings')).toBe(1);
    world.emulator.control.setUser(nolicence.id, { teamsLicensed: true });
    world.advance(2 * 3_600_000);
    expect(await world.sync('cs', { force: true })).toMatchObject({ created: 3 });
    expect(byOrganizer(nolicence.id)).toHaveLength(3);
    expect(eventsNamed(world.events, 'organizer.accepted')).toHaveLength(1);
  });
});

describe('organizer changes', () => {
  it("a previous lecturer's refused account holds only the moved sessions, and the alert names that lecturer, not the new one", async () => {
    const world = await harness.world();
    const users = world.seed([ADA, BOB]);
    const [ada, bob] = [users.get(ADA)!, users.get(BOB)!];
    for (const user of users.values()) await world.grant(user);
    const lab = weekly('lab@uni', BOB, '2027-01-12T09:00:00Z', 2);
    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 2), lab));
    expect(await world.sync('cs')).toMatchObject({ created: 4 });

    // Ada's account is disabled, and the timetable moves her lectures to Bob.
    world.emulator.control.setUser(ada.id, { accountEnabled: false });
    await world.upload(
      'cs',
      calendar(
        weekly('cs101@uni', BOB, '2027-01-11T09:00:00Z', 2),
        weekly('lab@uni', BOB, '2027-01-12T10:00:00Z', 2),
      ),
    );
    const run = await world.sync('cs');
    // The lab series moved an hour: its two meetings are PATCHed (same links), nothing made or cancelled.
    expect(run).toMatchObject({ created: 0, cancelled: 0, updated: 2, failed: 2 });
    const refused = eventsNamed(world.events, 'organizer.refused');
    expect(refused.map((e) => e.properties.email)).toEqual([ADA]);
    expect((await world.services.store.organizers.getStatus(bob.id))?.refusal).toBeNull();
    expect((await world.services.store.organizers.getStatus(ada.id))?.refusal).toMatchObject({ status: 403 });
    const lectures = (await world.services.store.meetings.listByFeed('cs')).filter(
      (r) => r.uid === 'cs101@uni',
    );
    for (const row of lectures) expect(row.lastError?.message).toContain(`previous organizer's (${ADA})`);

    // Once Ada's account works again and the rows are due, her meetings go and Bob gets new ones.
    world.emulator.control.setUser(ada.id, { accountEnabled: true });
    world.advance(7 * 3_600_000);
    expect(await world.sync('cs', { force: true })).toMatchObject({ created: 2, failed: 0 });
    const live = world.emulator.control.meetings();
    expect(live.filter((m) => m.organizerId === ada.id)).toEqual([]);
    expect(live.filter((m) => m.organizerId === bob.id)).toHaveLength(4);
  });
});

describe('the monthly limit', () => {
  it('a lecturer over the monthly limit gets the nearest sessions, the rest wait with the reason, and follow once the month turns', async () => {
    const world = await harness.world({
      settings: { ORGANIZER_MONTHLY_LIMIT: '4' },
      start: '2027-01-04T08:00:00Z',
    });
    const users = world.seed([ADA, BOB]);
    for (const user of users.values()) await world.grant(user);
    // Ada: 7 weekly lectures from 11 Jan; Bob: 2.
    await world.upload(
      'cs',
      calendar(
        weekly('ada@uni', ADA, '2027-01-11T09:00:00Z', 7),
        weekly('bob@uni', BOB, '2027-01-12T09:00:00Z', 2),
      ),
    );

    expect(await world.sync('cs')).toMatchObject({ created: 6, blocked: 3 });
    const ada = users.get(ADA)!;
    const adaStarts = () =>
      world.emulator.control
        .meetings()
        .filter((m) => m.organizerId === ada.id)
        .map((m) => m.startDateTime.slice(0, 10))
        .sort();
    expect(adaStarts()).toEqual(['2027-01-11', '2027-01-18', '2027-01-25', '2027-02-01']);
    const limited = eventsNamed(world.events, 'organizer.monthlyLimit');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ level: 'error', properties: { email: ADA, sessions: 3, limit: 4 } });
    expect(String(limited[0]!.properties.action)).toContain('HORIZON_DAYS');
    const waiting = (await world.services.store.meetings.listByFeed('cs')).filter(
      (r) => r.state === 'blocked',
    );
    expect(waiting.map((r) => r.start.slice(0, 10)).sort()).toEqual([
      '2027-02-08',
      '2027-02-15',
      '2027-02-22',
    ]);
    for (const row of waiting)
      expect(row).toMatchObject({
        lastError: { code: 'organizerMonthlyLimit' },
        nextAttemptAt: '2027-02-01T00:00:00Z',
      });

    // Still January: nothing more for Ada.
    world.advance(7 * 86_400_000);
    await world.sync('cs', { force: true });
    expect(adaStarts()).toHaveLength(4);

    // February: the rest follow.
    world.advance(Date.parse('2027-02-01T00:05:00Z') - world.now().getTime());
    expect(await world.sync('cs', { force: true })).toMatchObject({ created: 3 });
    expect(adaStarts()).toHaveLength(7);
    expect(world.emulator.control.duplicates()).toBe(0);
  });

  it.each([
    ['429, wording that names the limit', 429, undefined],
    ['429, wording that does not (only the month-long Retry-After tells)', 429, 'Too Many Requests'],
    ['403, wording that names the limit', 403, undefined],
  ] as const)(
    'whatever Graph answers at its own limit (%s) holds only that lecturer',
    async (_, status, message) => {
      const world = await harness.world();
      world.emulator.control.setBehaviour({
        monthlyMeetingLimit: { perOrganizer: 2, status, ...(message ? { message } : {}) },
      });
      const users = world.seed([ADA, BOB]);
      for (const user of users.values()) await world.grant(user);
      await world.upload(
        'cs',
        calendar(
          weekly('ada@uni', ADA, '2027-01-11T09:00:00Z', 5),
          weekly('bob@uni', BOB, '2027-01-12T09:00:00Z', 5),
        ),
      );

      const started = Date.now();
      const run = await world.sync('cs');
      expect(Date.now() - started).toBeLessThan(20_000);
      // Bob is under Graph's limit too (2 each): both get 2, the rest wait for the month; nothing aborts.
      expect(run).toMatchObject({ created: 4, blocked: 6 });
      expect(run.outcome).toBe('completed');
      // One alert per lecturer, saying Graph reported it.
      const limited = eventsNamed(world.events, 'organizer.monthlyLimit');
      expect(limited).toHaveLength(2);
      for (const event of limited) expect(event.properties).toMatchObject({ reportedBy: 'graph' });
      expect(eventsNamed(world.events, 'graph.credential.rejected')).toHaveLength(0);
      const rows = await world.services.store.meetings.listByFeed('cs');
      for (const row of rows.filter((r) => r.state !== 'active'))
        expect(row).toMatchObject({ state: 'blocked', lastError: { code: 'organizerMonthlyLimit' } });
      // Not a tenant-wide throttle: the pacer did not pause the app for the month.
      expect(world.services.graph?.stats().throttled).toBe(0);
    },
  );
});

describe('monthly budget shared by runs', () => {
  it("a crashed run's lease holds the budget only until it lapses; sessions waiting for it are retried soon, not next month", async () => {
    const world = await harness.world({ settings: { ORGANIZER_MONTHLY_LIMIT: '4' } });
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    // A run of another feed leased the whole month and then died (host restart).
    const expiresAt = new Date(world.now().getTime() + 20 * 60_000).toISOString();
    await world.services.store.organizers.putStatus({
      objectId: ada.id,
      refusal: null,
      month: '2027-01',
      created: 0,
      leases: [{ runId: 'crashed-run', month: '2027-01', count: 4, expiresAt }],
    });
    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 3)));

    expect(await world.sync('cs')).toMatchObject({ created: 0, blocked: 3 });
    const rows = await world.services.store.meetings.listByFeed('cs');
    for (const row of rows) {
      expect(row.lastError?.code).toBe('organizerMonthlyLimit');
      expect(Date.parse(row.nextAttemptAt!) - world.now().getTime()).toBe(15 * 60_000);
    }
    world.advance(21 * 60_000);
    expect(await world.sync('cs')).toMatchObject({ created: 3, blocked: 0 });
    // The run's own lease is gone and its creations are counted.
    expect(await world.services.store.organizers.getStatus(ada.id)).toMatchObject({
      month: '2027-01',
      created: 3,
      leases: [],
    });
  });
});

describe('cancellation', () => {
  it("a cancelled session's meeting is locked before it is deleted, so its still-working link admits nobody", async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload(
      'cs',
      calendar(
        weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 2),
        weekly('lab@uni', ADA, '2027-01-12T09:00:00Z', 1),
      ),
    );
    await world.sync('cs');
    const lab = world.emulator.control.meetings().find((m) => m.subject.startsWith('lab'))!;
    expect(world.emulator.control.joinable(lab.joinWebUrl)).toMatchObject({ admitsAnyone: true });

    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 2)));
    expect(await world.sync('cs')).toMatchObject({ cancelled: 1, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(2);
    expect(world.emulator.control.joinable(lab.joinWebUrl)).toMatchObject({
      deleted: true,
      lobbyLocked: true,
      admitsAnyone: false,
    });
    const deleted = world.emulator.control.meetings({ includeDeleted: true }).find((m) => m.id === lab.id)!;
    expect(deleted.subject).toMatch(/^Cancelled: /);
  });
});

describe('Graph answers the daemon must survive', () => {
  it('PATCH answered 204 without a body: the meeting is read back, no retry storm', async () => {
    const world = await harness.world();
    world.emulator.control.setBehaviour({ patchNoContent: true });
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 3)));
    expect(await world.sync('cs')).toMatchObject({ created: 3, failed: 0 });
    // Renamed: three updates.
    await world.upload(
      'cs',
      calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 3, 'CS101 Algorithms')),
    );
    expect(await world.sync('cs')).toMatchObject({ updated: 3, failed: 0 });
    expect(await world.sync('cs', { force: true })).toMatchObject({ updated: 0, created: 0, failed: 0 });
    // 3 option PATCHes at creation + 3 updates, each read back once.
    expect(countStatus(world.emulator, 204, 'PATCH')).toBe(6);
    expect(requestsTo(world, 'GET /v1.0/users/{id}/onlineMeetings/{meetingId}')).toBe(6);
    for (const meeting of world.emulator.control.meetings()) expect(meeting.subject).toBe('CS101 Algorithms');
  });

  it('a 300 s Retry-After does not hold the run past its budget; the rows wait for it', async () => {
    const world = await harness.world({ settings: { RUN_BUDGET_SECONDS: '60' } });
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    await world.upload('cs', calendar(weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 10)));
    world.emulator.control.setThrottle({ perAppPerSecond: 0.01, burst: 2, retryAfterSeconds: 300 });

    const started = Date.now();
    const run = await world.sync('cs');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.created).toBeLessThan(10);
    expect(world.emulator.control.requestCounts().graphThrottled).toBeLessThanOrEqual(2);
    const waiting = (await world.services.store.meetings.listByFeed('cs')).filter(
      (r) => r.state !== 'active',
    );
    expect(waiting.length).toBeGreaterThan(0);
    const earliest = world.now().getTime() + 290_000;
    for (const row of waiting) expect(Date.parse(row.nextAttemptAt!)).toBeGreaterThanOrEqual(earliest);
  });
});
