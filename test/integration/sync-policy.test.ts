// The application access policy gate through a real sync: a propagating grant gets its meetings in
// the same run or the next; a missing one costs one 403 probe, is reported with the exact cmdlet,
// blocks only its own organizer, and is not probed again before POLICY_PROBE_HOURS.
import { describe, expect, it } from 'vitest';

import { countStatus, eventsNamed, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BOB = 'bob@uni.example';
const CAROL = 'carol@uni.example';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const series = (uid: string, organizer: string, start: string, count = 5) =>
  vevent({ uid, organizer, summary: `${uid} lecture`, start, rrule: `FREQ=WEEKLY;COUNT=${count}` });

/** Moves the sync clock and the emulator's policy clock together. */
function advanceBoth(world: World, ms: number): void {
  world.advance(ms);
  world.emulator.control.advanceTime(ms);
}

describe('policy propagation', () => {
  it('granted 3 s ago with 5 s propagation: the meetings appear within the same run after short waits', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada, { delayMs: 5_000 });
    advanceBoth(world, 3_000);
    await world.upload('cs', calendar(series('cs101', ADA, '2027-01-11T09:00:00Z')));

    const waits: number[] = [];
    const run = await world.sync('cs', {
      deps: {
        policyRetryWaitsMs: [1_000, 2_000, 4_000],
        // Emulated waiting: both clocks move, no wall time passes.
        sleep: (ms) => {
          waits.push(ms);
          advanceBoth(world, ms);
          return Promise.resolve();
        },
      },
    });
    expect(run).toMatchObject({ outcome: 'completed', created: 5, blocked: 0, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(5);
    // 403 at +3 s and +4 s, through at +6 s: two probes, not five.
    expect(waits).toEqual([1_000, 2_000]);
    expect(countStatus(world.emulator, 403)).toBe(2);
    expect(eventsNamed(world.events, 'policy.propagating')[0]).toMatchObject({
      level: 'warning',
      properties: { objectId: ada.id },
    });
    expect(eventsNamed(world.events, 'policy.missing')).toHaveLength(0);
    expect(await world.services.store.policies.get(ada.id)).toMatchObject({ state: 'active' });
  });

  it('granted 3 s ago with 5 s propagation and no in-run waits: blocked as propagating, created by the next run', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada, { delayMs: 5_000 });
    advanceBoth(world, 3_000);
    await world.upload('cs', calendar(series('cs101', ADA, '2027-01-11T09:00:00Z')));

    const first = await world.sync('cs');
    expect(first).toMatchObject({ created: 0, blocked: 5, failed: 0 });
    expect(countStatus(world.emulator, 403)).toBe(1);
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(rows.every((r) => r.state === 'blocked' && r.lastError?.code === 'policyPropagating')).toBe(true);
    expect(eventsNamed(world.events, 'policy.missing')).toHaveLength(0);

    // The gate's first back-off step is one minute after the denial.
    advanceBoth(world, MINUTE);
    const second = await world.sync('cs');
    expect(second).toMatchObject({ outcome: 'completed', created: 5, blocked: 0, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(5);
    expect(world.emulator.control.duplicates()).toBe(0);
  });
});

describe('missing policy', () => {
  it('reports the exact Grant cmdlet, blocks only that organizer after one 403, and probes again only after POLICY_PROBE_HOURS', async () => {
    const world = await harness.world({ settings: { POLICY_PROBE_HOURS: '6' } });
    const users = world.seed([ADA, BOB, CAROL]);
    const carol = users.get(CAROL)!;
    await world.grant(users.get(ADA)!);
    await world.grant(users.get(BOB)!);
    await world.upload(
      'cs',
      calendar(
        series('cs101', ADA, '2027-01-11T09:00:00Z'),
        series('ma101', BOB, '2027-01-11T11:00:00Z'),
        series('ph101', CAROL, '2027-01-11T13:00:00Z'),
      ),
    );

    const first = await world.sync('cs', { deps: { policyRetryWaitsMs: [1_000, 2_000] } });
    expect(first).toMatchObject({ outcome: 'completed', created: 10, blocked: 5, failed: 0 });
    // The other lecturers got all their meetings in the same run.
    const byOrganizer = (id: string) =>
      world.emulator.control.meetings().filter((m) => m.organizerId === id).length;
    expect(byOrganizer(users.get(ADA)!.id)).toBe(5);
    expect(byOrganizer(users.get(BOB)!.id)).toBe(5);
    expect(byOrganizer(carol.id)).toBe(0);
    // One probe for Carol, no retries (no grant recorded, so nothing is propagating).
    expect(countStatus(world.emulator, 403)).toBe(1);

    const missing = eventsNamed(world.events, 'policy.missing');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({
      level: 'error',
      properties: {
        objectId: carol.id,
        grantCommand: `Grant-CsApplicationAccessPolicy -PolicyName TimetableSync-OnlineMeetings -Identity "${carol.id}"`,
      },
    });
    const rows = (await world.services.store.meetings.listByFeed('cs')).filter(
      (r) => r.organizerEmail === CAROL,
    );
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.state === 'blocked' && r.lastError?.code === 'policyMissing')).toBe(true);
    expect(rows[0]?.lastError?.message).toContain(`-Identity "${carol.id}"`);

    // Forced runs inside the probe interval do not call Graph for Carol. (Only the sync clock moves:
    // the emulator's clock also ages its access tokens, and MSAL's cache runs on wall time.)
    world.advance(HOUR);
    expect(await world.sync('cs', { force: true })).toMatchObject({ blocked: 5, created: 0 });
    world.advance(4 * HOUR + 59 * MINUTE);
    expect(await world.sync('cs', { force: true })).toMatchObject({ blocked: 5, created: 0 });
    expect(countStatus(world.emulator, 403)).toBe(1);

    // Six hours after the denial: exactly one new probe.
    world.advance(MINUTE);
    expect(await world.sync('cs')).toMatchObject({ blocked: 5, created: 0 });
    expect(countStatus(world.emulator, 403)).toBe(2);

    // Granted and recorded: the next run creates her meetings at once.
    await world.grant(carol);
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 5, blocked: 0 });
    expect(byOrganizer(carol.id)).toBe(5);
    expect(world.emulator.control.duplicates()).toBe(0);
  });

  it('a policy removed from an organizer who worked before is reported as revoked; only the requests already in flight get a 403; the meetings stay as they were', async () => {
    const world = await harness.world();
    const ada = world.seed([ADA]).get(ADA)!;
    await world.grant(ada);
    const lecture = {
      uid: 'cs101',
      organizer: ADA,
      summary: 'CS101',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=12',
    };
    await world.upload('cs', calendar(vevent(lecture)));
    expect(await world.sync('cs')).toMatchObject({ created: 12 });

    // Hours later someone grants Ada another (empty) policy; the timetable renames the course.
    world.advance(3 * HOUR);
    world.emulator.control.grantPolicy(null, { userId: ada.id }, { delayMs: 0 });
    await world.upload('cs', calendar(vevent({ ...lecture, summary: 'CS101 (new room)' })));
    const run = await world.sync('cs', { deps: { policyRetryWaitsMs: [1_000] } });
    expect(run).toMatchObject({ updated: 0, blocked: 12, failed: 0 });
    // Ada was known to work, so her updates went out together: at most PER_ORGANIZER_CONCURRENCY (4)
    // of them meet the 403; the queued rest is blocked without a call.
    expect(countStatus(world.emulator, 403)).toBeGreaterThanOrEqual(1);
    expect(countStatus(world.emulator, 403)).toBeLessThanOrEqual(4);
    const missing = eventsNamed(world.events, 'policy.missing');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({
      level: 'error',
      properties: { objectId: ada.id, outcome: 'revoked' },
    });
    expect(world.emulator.control.meetings().every((m) => m.subject === 'CS101')).toBe(true);
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(
      rows.every(
        (r) => r.state === 'active' && r.meetingId !== null && r.lastError?.code === 'policyMissing',
      ),
    ).toBe(true);
  });
});
