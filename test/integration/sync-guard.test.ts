// The deletion guard end to end: a feed that suddenly empties or shrinks too far cancels nothing,
// says so (event, feed row, run summary), and cancels only after an admin confirms. And its mirror,
// the creation guard: an event whose recurrence runs away creates nothing until confirmed.
import { describe, expect, it } from 'vitest';

import { confirmCancellations, registerFeedUrl } from '../../src/admin/feeds.js';
import { createFeedsRoutes } from '../../src/http/index.js';
import { call, KEY } from './http-support.js';
import type { FeedFetcher } from '../../src/sync/syncFeed.js';
import { eventsNamed, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const lecture = (count: number) =>
  vevent({
    uid: 'cs101@uni',
    organizer: ADA,
    summary: 'CS101 Lecture',
    start: '2027-01-11T09:00:00Z',
    rrule: `FREQ=WEEKLY;COUNT=${count}`,
  });

async function grantedWorld(): Promise<World> {
  const world = await harness.world({ settings: { MAX_CANCEL_SHARE: '0.2' } });
  await world.grant(world.seed([ADA]).get(ADA)!);
  return world;
}

describe('deletion guard', () => {
  it('holds every cancel when a URL feed comes back as a valid but empty calendar, until confirmed', async () => {
    const world = await grantedWorld();
    let body = calendar(lecture(10));
    const fetchFeed: FeedFetcher = () =>
      Promise.resolve({ status: 'ok', body, etag: null, lastModified: null });
    await registerFeedUrl(world.services, 'cs', 'https://timetable.uni.example/cs.ics');
    expect(await world.sync('cs', { deps: { fetchFeed } })).toMatchObject({
      outcome: 'completed',
      created: 10,
    });

    body = calendar(); // VCALENDAR with no VEVENT at all
    const emptied = await world.sync('cs', { deps: { fetchFeed } });
    expect(emptied).toMatchObject({ cancelled: 0, held: 10, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(10);
    const held = eventsNamed(world.events, 'guard.cancellations.held');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      level: 'warning',
      properties: { feedId: 'cs', reason: 'feedEmptied', wouldCancel: 10, futureMeetings: 10 },
    });
    expect((await world.services.store.feeds.get('cs'))?.guard).toMatchObject({
      held: true,
      reason: 'feedEmptied',
      wouldCancel: 10,
    });

    // Still held on the next run without a confirmation.
    expect(await world.sync('cs', { deps: { fetchFeed } })).toMatchObject({ cancelled: 0, held: 10 });
    expect(world.emulator.control.meetings()).toHaveLength(10);

    await confirmCancellations(world.services, 'cs');
    const confirmed = await world.sync('cs', { deps: { fetchFeed } });
    expect(confirmed).toMatchObject({ outcome: 'completed', cancelled: 10, held: 0, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(0);
    const feed = await world.services.store.feeds.get('cs');
    expect(feed).toMatchObject({ guard: null, cancellationsConfirmedAt: null });
  });

  it('holds the cancels of an upload that shrinks the feed past MAX_CANCEL_SHARE, and cancels after confirmCancellations', async () => {
    const world = await grantedWorld();
    await world.upload('cs', calendar(lecture(10)));
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 10 });

    // 4 of 10 future meetings would go: 40 % > 20 %.
    await world.upload('cs', calendar(lecture(6)));
    const shrunk = await world.sync('cs');
    expect(shrunk).toMatchObject({ cancelled: 0, held: 4, failed: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(10);
    expect(eventsNamed(world.events, 'guard.cancellations.held').at(-1)?.properties).toMatchObject({
      reason: 'shareExceeded',
      wouldCancel: 4,
      futureMeetings: 10,
    });
    expect((await world.services.store.feeds.get('cs'))?.guard).toMatchObject({
      held: true,
      reason: 'shareExceeded',
      wouldCancel: 4,
    });

    // An unconfirmed rerun (and a forced one) still holds.
    expect(await world.sync('cs', { force: true })).toMatchObject({ cancelled: 0, held: 4 });
    expect(world.emulator.control.meetings()).toHaveLength(10);

    await confirmCancellations(world.services, 'cs');
    const confirmed = await world.sync('cs');
    expect(confirmed).toMatchObject({ outcome: 'completed', cancelled: 4, held: 0 });
    expect(world.emulator.control.meetings()).toHaveLength(6);
    expect(await world.services.store.feeds.get('cs')).toMatchObject({
      guard: null,
      cancellationsConfirmedAt: null,
    });

    // The confirmation is used up: the next big shrink is held again.
    await world.upload('cs', calendar(lecture(3)));
    expect(await world.sync('cs')).toMatchObject({ cancelled: 0, held: 3 });
    expect(world.emulator.control.meetings()).toHaveLength(6);
  });

  it('a timetable re-exported with new UIDs gets no second meeting per session: new meetings wait for the same confirmation', async () => {
    const world = await grantedWorld();
    await world.upload('cs', calendar(lecture(10)));
    expect(await world.sync('cs')).toMatchObject({ created: 10 });
    const before = world.emulator.control.meetings().map((m) => m.id);

    // The same ten sessions, exported again with a new UID.
    const reexported = vevent({
      uid: 'cs101-2027@uni',
      organizer: ADA,
      summary: 'CS101 Lecture',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=10',
    });
    await world.upload('cs', calendar(reexported));
    expect(await world.sync('cs')).toMatchObject({ created: 0, cancelled: 0, held: 20 });
    expect(world.emulator.control.meetings().map((m) => m.id)).toEqual(before);
    const creationsHeld = eventsNamed(world.events, 'guard.creations.held').at(-1)?.properties;
    expect(creationsHeld).toMatchObject({ reasons: ['cancellationsHeld'], heldCreates: 10 });
    expect(String(creationsHeld?.action)).toContain(
      'feeds confirm cs (or POST /api/feeds/cs/confirm-cancellations)',
    );

    await confirmCancellations(world.services, 'cs');
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 10, cancelled: 10 });
    const after = world.emulator.control.meetings();
    expect(after).toHaveLength(10);
    expect(after.some((m) => before.includes(m.id))).toBe(false);
  });
});

describe('creation guard', () => {
  const GRACE = 'grace@uni.example';
  const seminar = vevent({
    uid: 'cs102@uni',
    organizer: GRACE,
    summary: 'CS102 Seminar',
    start: '2027-01-12T14:00:00Z',
    rrule: 'FREQ=WEEKLY;COUNT=3',
  });
  // One typo: MINUTELY instead of WEEKLY. COUNT keeps the test small; the limit is set below it.
  const lab = vevent({
    uid: 'cs101-lab@uni',
    organizer: ADA,
    summary: 'CS101 Lab',
    start: '2027-01-13T10:00:00Z',
    rrule: 'FREQ=MINUTELY;COUNT=40',
  });
  const labMeetings = (world: World) =>
    world.emulator.control.meetings().filter((m) => m.subject === 'CS101 Lab');

  it('holds the sessions of a FREQ=MINUTELY typo (the upload warns, naming it), syncs the rest, and creates them after confirmation', async () => {
    const world = await harness.world({ settings: { GUARD_MAX_EVENT_SESSIONS: '30' } });
    const users = world.seed([ADA, GRACE]);
    await world.grant(users.get(ADA)!);
    await world.grant(users.get(GRACE)!);
    await world.upload('cs', calendar(lecture(10)));
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 10 });

    // The new version: the seminar is new, and the lab's rule has the typo.
    const text = calendar(lecture(10), seminar, lab);
    const labLine =
      text
        .split('\n')
        .findIndex(
          (line, i, all) => line.startsWith('BEGIN:VEVENT') && all[i + 2]?.startsWith('UID:cs101-lab@uni'),
        ) + 1;
    const uploaded = await world.upload('cs', text);
    expect(uploaded.creationGuard).toMatchObject({
      held: true,
      reasons: ['eventSessions'],
      wouldCreate: 43,
      heldCreates: 40,
      futureMeetings: 10,
      events: [{ uid: 'cs101-lab@uni', summary: 'CS101 Lab', line: labLine, sessions: 40 }],
    });
    expect(uploaded.creationGuard?.warning).toContain(
      `this version would create 43 meetings (the feed has 10 future meetings); 40 from event 'CS101 Lab' (UID cs101-lab@uni, line ${labLine})`,
    );

    const held = await world.sync('cs');
    expect(held).toMatchObject({ outcome: 'completed', created: 3, held: 40, failed: 0 });
    expect(labMeetings(world)).toHaveLength(0);
    expect(world.emulator.control.meetings()).toHaveLength(13);
    const events = eventsNamed(world.events, 'guard.creations.held');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      level: 'warning',
      properties: {
        feedId: 'cs',
        reasons: ['eventSessions'],
        heldCreates: 40,
        events: [{ uid: 'cs101-lab@uni', summary: 'CS101 Lab', sessions: 40 }],
      },
    });
    expect(String(events[0]?.properties.action)).toContain('timetable-sync feeds confirm cs --creations');
    expect((await world.services.store.feeds.get('cs'))?.creationGuard).toMatchObject({
      held: true,
      heldCreates: 40,
      scope: { all: false, uids: ['cs101-lab@uni'] },
    });

    // Sticky: a forced rerun without confirmation still creates nothing of the lab.
    expect(await world.sync('cs', { force: true })).toMatchObject({ created: 0, held: 40 });
    expect(labMeetings(world)).toHaveLength(0);

    // The admin confirms through the HTTP route; the next run creates the lab's sessions.
    const routes = createFeedsRoutes({ services: () => Promise.resolve(world.services), requireKey: KEY });
    const confirmed = await call(routes, 'feedsConfirmCreations', 'POST', 'feeds/cs/confirm-creations', {
      params: { id: 'cs' },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    // A run that was finishing meanwhile writes its fast-path fingerprint back over the confirmation's
    // reset: the confirmation must still be carried out by the next (unforced) run.
    const afterConfirm = (await world.services.store.feeds.get('cs'))!;
    await world.services.store.feeds.update({ ...afterConfirm, lastSyncedHash: afterConfirm.contentHash });
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 40, held: 0 });
    expect(labMeetings(world)).toHaveLength(40);
    const feed = await world.services.store.feeds.get('cs');
    expect(feed?.creationGuard ?? null).toBeNull();
    expect(feed?.creationsConfirmedAt ?? null).toBeNull();
  });
});
