// Fencing: one run at a time per feed. A removal asked for while a sync is creating meetings is done by
// that sync (no meeting is left without a feed), a second sync of the same feed is deferred through the
// queue instead of running beside the first, and a lease whose holder is gone does not block the feed.
import { hostname } from 'node:os';

import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { removeFeed } from '../../src/admin/feedRemoval.js';
import { syncFeedFromMessage } from '../../src/handlers/sync.js';
import { decodeSyncMessage } from '../../src/storage/index.js';
import { vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';

async function feedOf(sessions: number, settings: Record<string, string> = {}): Promise<World> {
  const world = await harness.world({ settings });
  const users = world.seed([ADA]);
  await world.grant(users.get(ADA)!);
  const lectures = vevent({
    uid: 'cs101@uni',
    organizer: ADA,
    summary: 'CS101',
    start: '2027-01-11T09:00:00Z',
    rrule: `FREQ=DAILY;COUNT=${sessions}`,
  });
  await world.upload('cs', calendar(lectures));
  return world;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function queueContext(dequeueCount = 1): { context: InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName: 'syncFeedQueue',
    triggerMetadata: { dequeueCount },
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  return { context, lines };
}

describe('a feed removed while its first sync is creating meetings', () => {
  it('is removed by that sync: its meetings are cancelled, none is left without a feed', async () => {
    const world = await feedOf(60);
    world.emulator.control.setFaults({ latencyMs: 40 });
    const syncing = world.sync('cs', { deps: { leaseRenewMs: 100 } });
    await until(() => world.emulator.control.meetings().length >= 5, 'the first meetings');

    const removal = await removeFeed(world.services, 'cs', { cancelFutureMeetings: true });
    expect(removal).toMatchObject({ status: 'queued' });
    // The feed is still listed until the sync has removed it.
    expect(await world.services.store.feeds.get('cs')).not.toBeNull();

    const summary = await syncing;
    expect(summary.message).toMatch(/feed removed at an admin's request/);
    expect(summary.cancelled).toBeGreaterThanOrEqual(5);
    // It stopped creating once it saw the request, instead of first creating all 60.
    expect(summary.cancelled).toBeLessThan(60);
    expect(world.emulator.control.meetings()).toEqual([]);
    expect(await world.services.store.feeds.get('cs')).toBeNull();
    expect(await world.services.store.meetings.listByFeed('cs')).toEqual([]);
    expect(world.events.map((e) => e.name)).toContain('feed.removed');
    // A removal is not a sync: the queued message finds no feed and is dropped.
    const queued = await world.services.store.syncQueue.receive(32, 1);
    expect(queued.map((m) => decodeSyncMessage(m.text)?.reason)).toEqual(['removal']);
    const { context, lines } = queueContext();
    expect(await syncFeedFromMessage(queued[0]!.text, context, world.services)).toBeNull();
    expect(lines.join('\n')).toMatch(/sync\.feed\.gone/);
  });

  it('keeps the meetings when the removal said so, and still leaves no row behind', async () => {
    const world = await feedOf(30);
    world.emulator.control.setFaults({ latencyMs: 40 });
    const syncing = world.sync('cs');
    await until(() => world.emulator.control.meetings().length >= 3, 'the first meetings');
    expect(await removeFeed(world.services, 'cs', { cancelFutureMeetings: false })).toMatchObject({
      status: 'queued',
    });
    await syncing;
    expect(await world.services.store.feeds.get('cs')).toBeNull();
    expect(await world.services.store.meetings.listByFeed('cs')).toEqual([]);
    expect(world.emulator.control.meetings().length).toBeGreaterThanOrEqual(3);
  });
});

describe('two syncs of one feed at once', () => {
  it('defers the second through the queue; it runs once the first is done', async () => {
    const world = await feedOf(20);
    world.emulator.control.setFaults({ latencyMs: 40 });
    const first = world.sync('cs');
    await until(() => world.emulator.control.meetings().length >= 1, 'the first meeting');

    const { context, lines } = queueContext();
    const message = { feedId: 'cs', reason: 'schedule', requestedAt: world.now().toISOString() };
    expect(await syncFeedFromMessage(message, context, world.services)).toBeNull();
    expect(lines.join('\n')).toMatch(/sync\.run\.deferred/);
    // Sent again for later, not lost and not visible at once.
    expect(await world.services.store.syncQueue.receive(32, 1)).toEqual([]);

    expect(await first).toMatchObject({ outcome: 'completed', created: 20 });
    expect(world.emulator.control.meetings()).toHaveLength(20);
  });

  it('a busy feed whose request cannot be sent back to the queue fails the delivery, so the host redelivers it', async () => {
    const world = await feedOf(3);
    const store = world.services.store;
    await store.feedLeases.acquire('cs', `${hostname()}-elsewhere:4242:busy`, 'sync', 60_000);
    const queueDown = new Error('queue unavailable');
    const services = {
      ...world.services,
      store: { ...store, syncQueue: { ...store.syncQueue, enqueue: () => Promise.reject(queueDown) } },
    };
    const { context, lines } = queueContext();
    const message = { feedId: 'cs', reason: 'schedule', requestedAt: world.now().toISOString() };
    await expect(syncFeedFromMessage(message, context, services)).rejects.toBe(queueDown);
    const log = lines.join('\n');
    expect(log).toMatch(/sync\.run\.crashed.*could not be deferred through the queue.*queue unavailable/);
    expect(log).not.toMatch(/sync\.run\.deferred/);
    // On its last delivery it is the poison alert, as for any other failure.
    const last = queueContext(5);
    await expect(syncFeedFromMessage(message, last.context, services)).rejects.toBe(queueDown);
    expect(last.lines.join('\n')).toMatch(/sync\.poison.*could not be deferred/);
  });

  it('a sync refused by a live lease of another machine runs once that lease has lapsed', async () => {
    const world = await feedOf(3);
    const store = world.services.store;
    const foreign = `${hostname()}-elsewhere:4242:lease-of-another-instance`;
    const held = await store.feedLeases.acquire('cs', foreign, 'sync', 60_000);
    expect('lease' in held).toBe(true);
    await expect(world.sync('cs')).rejects.toThrow(/feed 'cs' is being synced by another run/);
    expect(world.emulator.control.meetings()).toEqual([]);

    // That instance died: once its lease has lapsed the feed is synced again.
    if ('lease' in held) await store.feedLeases.renew(held.lease, -1_000);
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 3 });
  });

  it('a lease left behind by a run of this process that died does not block the next run', async () => {
    const world = await feedOf(3);
    const store = world.services.store;
    // The run ends without releasing its lease (as when the process dies right after its work).
    const unreleasing = {
      ...store,
      feedLeases: { ...store.feedLeases, release: () => Promise.reject(new Error('process died')) },
    };
    expect(await world.sync('cs', { deps: { store: unreleasing } })).toMatchObject({ created: 3 });
    expect(world.events.map((e) => e.name)).toContain('feed.lease.unreleased');
    expect(await world.sync('cs', { force: true })).toMatchObject({ outcome: 'completed', unchanged: 3 });
  });
});
