// Races: two instances (two buildServices on the same storage, as two queue messages on two Functions
// instances would be) sync the same feed at once, with seeded random interleavings (emulator latency
// jitter and a random head start). The feed's lease lets one run at a time hold it (the other is refused
// and deferred); never a duplicate meeting, never a meeting the state does not know, and the next
// ordinary run (no --force) leaves every session with its meeting: no lost update.
// Also: an admin uploads a new version while a sync of the old one is running.
import { describe, expect, it } from 'vitest';

import { buildServices, type AppServices } from '../../src/compose.js';
import { toDesiredSessions } from '../../src/core/desired.js';
import { externalIdFor } from '../../src/core/identity.js';
import type { MeetingRecord } from '../../src/core/state.js';
import { expandCalendar } from '../../src/ical/index.js';
import { createEventLogger, memorySink } from '../../src/events.js';
import { syncDepsFor } from '../../src/handlers/sync.js';
import type { RunSummary } from '../../src/storage/index.js';
import { FeedBusyError } from '../../src/sync/fence.js';
import { syncFeed, type SyncDeps } from '../../src/sync/syncFeed.js';
import { useSyncHarness, type World } from '../support/sync-harness.js';
import {
  baseSeed,
  checkInvariants,
  randomInt,
  reportFigures,
  rng,
  scaled,
  sleep,
  weeklyTimetable,
  withSeed,
} from '../support/reliability-env.js';

const harness = useSyncHarness();
const ORGANIZERS = ['ada@uni.example', 'brian@uni.example', 'chen@uni.example'];

/** A second instance: its own MSAL app, limiter and clients, on the world's storage names. */
async function secondInstance(world: World): Promise<AppServices> {
  const namePrefix = world.services.store.names.tables.feeds.replace(/feeds$/, '');
  const services = await buildServices(world.services.config, { namePrefix });
  return { ...services, now: () => world.now() };
}

function depsFor(services: AppServices): SyncDeps {
  return { ...syncDepsFor(services, createEventLogger(memorySink().sink)), policyRetryWaitsMs: [] };
}

describe('two syncs of one feed at the same time', () => {
  const TRIALS = scaled(4, 30);
  it(
    `never duplicates and loses no update over ${TRIALS} seeded interleavings`,
    { timeout: scaled(90_000, 900_000) },
    async () => {
      const seed0 = baseSeed(2_222_000);
      const figures = {
        trials: 0,
        sessions: 0,
        concurrentRuns: 0,
        rowConflicts: 0,
        deferred: 0,
        duplicates: 0,
        outcomes: {} as Record<string, number>,
      };
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = seed0 + trial;
        await withSeed(`race trial ${trial}`, seed, async () => {
          const random = rng(Math.imul(seed, 0x9e3779b1));
          const world = await harness.world();
          const users = world.seed(ORGANIZERS);
          // Half the trials record grants (policy known), half start unknown (each instance probes).
          if (random() < 0.5) for (const user of users.values()) await world.grant(user);
          else world.emulator.control.allowDefaultAppGlobally();
          const feedId = `race-${trial}`;
          const timetable = weeklyTimetable({
            tag: `race${seed}`,
            organizers: ORGANIZERS,
            courses: randomInt(random, 3, 8),
            weeks: randomInt(random, 2, 5),
          });
          await world.upload(feedId, timetable.ics);
          const other = await secondInstance(world);
          world.emulator.control.setFaults({
            latencyMs: randomInt(random, 0, 10),
            latencyJitterMs: randomInt(random, 10, 120),
            seed,
          });

          const headStart = randomInt(random, 0, 150);
          const [a, b] = await Promise.allSettled([
            syncFeed(world.deps(), feedId),
            sleep(headStart).then(() => syncFeed(depsFor(other), feedId)),
          ]);
          world.emulator.control.setFaults(null);
          const context = `head start ${headStart} ms: A ${describeSettled(a)}; B ${describeSettled(b)}`;
          // Fenced: while one run holds the feed the other is refused (FeedBusyError; the queue handler
          // defers it); one that starts after the first ended runs. Nothing else may go wrong.
          for (const r of [a, b]) {
            if (r.status === 'rejected') {
              expect(r.reason, context).toBeInstanceOf(FeedBusyError);
              figures.deferred++;
            } else figures.outcomes[r.value.outcome] = (figures.outcomes[r.value.outcome] ?? 0) + 1;
          }
          expect(a.status === 'fulfilled' || b.status === 'fulfilled', context).toBe(true);
          await checkInvariants(world.emulator, world.services.store, feedId, timetable.sessions, users, {
            complete: false,
          }).catch((e: unknown) => {
            throw new Error(`${context}\n${(e as Error).message}`);
          });
          figures.rowConflicts += world.events.filter((e) => e.name === 'meeting.write.conflict').length;

          // The next ordinary run (a later timer tick) finishes whatever the race left.
          world.advance(15 * 60_000);
          const next = await world.sync(feedId);
          const report = await checkInvariants(
            world.emulator,
            world.services.store,
            feedId,
            timetable.sessions,
            users,
            { complete: true },
          ).catch((e: unknown) => {
            throw new Error(`${context}; next run ${JSON.stringify(next)}\n${(e as Error).message}`);
          });
          expect(world.emulator.control.duplicates()).toBe(0);
          // Every run that held the feed is on record (the next run may take the unchanged fast path).
          const held = [a, b].filter((r) => r.status === 'fulfilled').length;
          expect((await world.services.store.runs.latest(feedId, 10)).length).toBeGreaterThanOrEqual(held);
          figures.trials++;
          figures.concurrentRuns += 2;
          figures.sessions += timetable.sessions.length;
          figures.duplicates += report.duplicates;
        });
      }
      reportFigures('races', { ...figures, outcomes: JSON.stringify(figures.outcomes) });
    },
  );
});

describe('an upload during a sync of the previous version', () => {
  const TRIALS = scaled(2, 10);
  it(
    `is not lost: the next run brings every meeting to the new version (${TRIALS} trials)`,
    { timeout: scaled(60_000, 600_000) },
    async () => {
      const seed0 = baseSeed(3_333_000);
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = seed0 + trial;
        await withSeed(`upload-during-sync trial ${trial}`, seed, async () => {
          const random = rng(Math.imul(seed, 0x9e3779b1));
          const world = await harness.world();
          const users = world.seed(ORGANIZERS);
          for (const user of users.values()) await world.grant(user);
          const feedId = `upload-race-${trial}`;
          const shape = { tag: `ur${seed}`, organizers: ORGANIZERS, courses: 6, weeks: 3 };
          await world.upload(feedId, weeklyTimetable(shape).ics);
          const v2 = weeklyTimetable({ ...shape, subjectSuffix: ' (room change)' });
          world.emulator.control.setFaults({ latencyMs: 20, latencyJitterMs: 60, seed });
          const running = syncFeed(world.deps(), feedId);
          const uploadAfter = randomInt(random, 1, 12);
          while (world.emulator.control.meetings().length < uploadAfter) await sleep(2);
          await world.upload(feedId, v2.ics);
          const first = await running;
          world.emulator.control.setFaults(null);
          world.advance(15 * 60_000);
          const second = await world.sync(feedId);
          await checkInvariants(world.emulator, world.services.store, feedId, v2.sessions, users, {
            complete: true,
          }).catch((e: unknown) => {
            throw new Error(
              `upload after ${uploadAfter} meetings; first ${JSON.stringify(first)}; second ${JSON.stringify(second)}\n${(e as Error).message}`,
            );
          });
        });
      }
    },
  );
});

describe('a run that loses a row to another instance, which then dies', () => {
  it('does not mark the feed synced: the next run (same day) creates the meeting the dead instance never did', async () => {
    const world = await harness.world();
    const users = world.seed(ORGANIZERS);
    for (const user of users.values()) await world.grant(user);
    const feedId = 'lost-race';
    const timetable = weeklyTimetable({ tag: 'lost', organizers: ORGANIZERS, courses: 3, weeks: 2 });
    await world.upload(feedId, timetable.ics);
    // The row instance B writes before its createOrGet; B is then killed (its createOrGet never sent).
    const nowMs = world.now().getTime();
    const expanded = expandCalendar(timetable.ics, {
      from: nowMs - 86_400_000,
      to: nowMs + 120 * 86_400_000,
    });
    const victim = toDesiredSessions(feedId, expanded.occurrences).sessions[0]!;
    const organizer = users.get(victim.organizerEmail)!;
    const rowOfB: MeetingRecord = {
      feedId,
      key: victim.key,
      uid: victim.uid,
      recurrenceId: victim.recurrenceId,
      organizerEmail: victim.organizerEmail,
      organizerId: organizer.id,
      externalId: externalIdFor(victim.key, 0),
      generation: 0,
      meetingId: null,
      joinWebUrl: null,
      subject: victim.subject,
      start: victim.start,
      end: victim.end,
      contentHash: victim.contentHash,
      state: 'creating',
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    };
    const store = world.services.store;
    // Instance A reads the partition before B's insert lands; A then loses the insert race for that row.
    const racedStore = {
      ...store,
      meetings: {
        ...store.meetings,
        listByFeed: async (id: string) => {
          const rows = await store.meetings.listByFeed(id);
          await store.meetings.put(rowOfB);
          return rows;
        },
      },
    };
    const a = await syncFeed(world.deps({ store: racedStore }), feedId);
    expect(a.created).toBe(timetable.sessions.length - 1);
    // B never comes back (killed; its queue message is redelivered later or not at all). The next
    // timer tick, 15 minutes later on the same day, must finish the session B left `creating`.
    world.advance(15 * 60_000);
    const next = await world.sync(feedId);
    await checkInvariants(world.emulator, store, feedId, timetable.sessions, users, { complete: true }).catch(
      (e: unknown) => {
        throw new Error(
          `run A: ${JSON.stringify(a)}\nnext run: ${JSON.stringify(next)}\n${(e as Error).message}`,
        );
      },
    );
  });
});

function describeSettled(r: PromiseSettledResult<RunSummary>): string {
  return r.status === 'fulfilled'
    ? `${r.value.outcome} created ${r.value.created} failed ${r.value.failed}`
    : `threw ${(r.reason as Error)?.stack ?? String(r.reason)}`;
}
