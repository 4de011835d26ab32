// What operators see: the structured events of a sync with a missing policy, an unresolved organizer
// and a throttled burst, their properties and levels, the same through a Functions InvocationContext,
// and that no secret, token, join URL or passcode reaches any logged string.
import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { contextSink, createEventLogger, memorySink, type LoggedEvent } from '../../src/events.js';
import { serveAdmin } from '../../src/web/serve.js';
import { eventsNamed, meetingPasscodes, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BOB = 'bob@uni.example';
const CAROL = 'carol@uni.example'; // in the directory, no access policy
const NOBODY = 'nobody@uni.example'; // not in the directory

function collectingContext() {
  const lines: Array<{ level: string; text: string }> = [];
  const context = new InvocationContext({
    functionName: 'syncFeedQueue',
    invocationId: 'logs-test',
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  return { context, lines };
}

/** Everything that must never be logged, given what the world knows. */
async function secretsOf(world: World): Promise<string[]> {
  const values = [world.emulator.clientSecret, 'meetup-join'];
  for (const m of world.emulator.control.meetings())
    values.push(m.joinWebUrl, decodeURIComponent(m.joinWebUrl));
  // Passcodes as Graph returns them (quoted in JSON: a 6-character code could occur inside an id).
  for (const passcode of await meetingPasscodes(world.emulator))
    values.push(`"${passcode}"`, `passcode ${passcode}`, `passcode: ${passcode}`);
  const key = /AccountKey=([^;]+)/.exec(harness.azurite().connectionString)?.[1];
  if (key) values.push(key);
  return values;
}

function expectNothingSecret(text: string, secrets: readonly string[]): void {
  expect(text).not.toMatch(/eyJ[\w-]{5,}\.eyJ[\w-]{5,}/); // a JWT
  expect(text).not.toMatch(/joinWebUrl"\s*:\s*"http/i);
  for (const secret of secrets)
    expect(text.includes(secret), `logged text contains ${secret.slice(0, 12)}…`).toBe(false);
}

describe('sync logs', () => {
  it('a run with a missing policy, an unresolved organizer and a throttled burst logs the right events, levels and properties, and no secret', async () => {
    const world = await harness.world();
    const users = world.seed([ADA, BOB, CAROL]);
    await world.grant(users.get(ADA)!);
    await world.grant(users.get(BOB)!);
    const carol = users.get(CAROL)!;
    await world.upload(
      'cs',
      calendar(
        vevent({
          uid: 'cs101@uni',
          organizer: ADA,
          summary: 'CS101',
          start: '2027-01-11T09:00:00Z',
          rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=16',
        }),
        vevent({
          uid: 'ma101@uni',
          organizer: BOB,
          summary: 'MA101',
          start: '2027-01-11T11:00:00Z',
          rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=16',
        }),
        vevent({
          uid: 'ph101@uni',
          organizer: CAROL,
          summary: 'PH101',
          start: '2027-01-12T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=4',
        }),
        vevent({
          uid: 'ghost@uni',
          organizer: NOBODY,
          summary: 'Ghost',
          start: '2027-01-13T09:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=3',
        }),
      ),
    );
    world.emulator.control.setThrottle({ perAppPerSecond: 10, burst: 5, retryAfterSeconds: 1 });

    const memory = memorySink();
    const host = collectingContext();
    const logger = createEventLogger(memory.sink, contextSink(host.context));
    const summary = await world.sync('cs', { deps: { logger } });
    const events: LoggedEvent[] = memory.events;
    const counts = world.emulator.control.requestCounts();

    expect(summary).toMatchObject({ outcome: 'completed', created: 32, blocked: 7, failed: 0 });
    expect(counts.graphThrottled).toBeGreaterThan(0);

    const completed = eventsNamed(events, 'sync.run.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.level).toBe('info');
    expect(completed[0]!.properties).toMatchObject({
      feedId: 'cs',
      created: 32,
      updated: 0,
      cancelled: 0,
      blocked: 7,
      failed: 0,
      graphCalls: counts.graph,
      throttled: counts.graphThrottled,
    });
    expect(completed[0]!.properties.durationMs).toEqual(expect.any(Number));

    const missing = eventsNamed(events, 'policy.missing');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({
      level: 'error',
      properties: {
        feedId: 'cs',
        // Whom to call (e-mail, name) and what to grant (object id).
        email: CAROL,
        displayName: 'carol',
        objectId: carol.id,
        grantCommand: `Grant-CsApplicationAccessPolicy -PolicyName TimetableSync-OnlineMeetings -Identity "${carol.id}"`,
      },
    });

    const unresolved = eventsNamed(events, 'organizer.unresolved');
    expect(unresolved).toHaveLength(1);
    expect(unresolved[0]).toMatchObject({
      level: 'error',
      properties: { feedId: 'cs', email: NOBODY, displayName: null, objectId: null },
    });
    expect(String(unresolved[0]!.properties.reason)).toContain(`no user with e-mail or UPN ${NOBODY}`);

    // Levels: errors only for what needs someone to act; a self-healed throttle is no warning.
    expect(
      events
        .filter((e) => e.level === 'error')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['organizer.unresolved', 'policy.missing']);
    expect(events.filter((e) => e.level === 'warning')).toEqual([]);
    expect(eventsNamed(events, 'sync.planned')[0]?.level).toBe('info');

    // The same events through the Functions context: one line per event at the matching level.
    const hostLevel = { debug: 'debug', info: 'information', warning: 'warning', error: 'error' } as const;
    expect(host.lines).toHaveLength(events.length);
    host.lines.forEach((line, i) => {
      const event = events[i]!;
      expect(line.level).toBe(hostLevel[event.level]);
      expect(line.text.startsWith(`${event.name} {`)).toBe(true);
      expect(JSON.parse(line.text.slice(event.name.length + 1))).toEqual({
        event: event.name,
        ...JSON.parse(JSON.stringify(event.properties)),
      });
    });

    world.emulator.control.setThrottle(null);
    const secrets = await secretsOf(world);
    expect(secrets.length).toBeGreaterThan(5 * 32); // the client secret, every join link and passcode
    expectNothingSecret(JSON.stringify(events), secrets);
    expectNothingSecret(host.lines.map((l) => l.text).join('\n'), secrets);
  });

  it('a Graph failure logs graph.error with status, code and request-id at warning level, and still no secret', async () => {
    const world = await harness.world();
    await world.grant(world.seed([ADA]).get(ADA)!);
    const lecture = {
      uid: 'cs101@uni',
      organizer: ADA,
      summary: 'CS101',
      start: '2027-01-11T09:00:00Z',
      rrule: 'FREQ=WEEKLY;COUNT=3',
    };
    await world.upload('cs', calendar(vevent(lecture)));
    expect(await world.sync('cs')).toMatchObject({ created: 3 });

    // One session moves; Graph answers 5xx to the PATCH (and to the SDK's retries of it).
    await world.upload(
      'cs',
      calendar(
        vevent(lecture),
        vevent({
          ...lecture,
          rrule: undefined,
          recurrenceId: '2027-01-18T09:00:00Z',
          start: '2027-01-18T10:00:00Z',
        }),
      ),
    );
    world.emulator.control.setFaults({ errorRate: 1, retryAfterSeconds: 1, seed: 3 });
    const host = collectingContext();
    const memory = memorySink();
    const summary = await world.sync('cs', {
      deps: { logger: createEventLogger(memory.sink, contextSink(host.context)) },
    });
    world.emulator.control.setFaults(null);
    expect(summary).toMatchObject({ updated: 0, failed: 1 });

    const errors = eventsNamed(memory.events, 'graph.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      level: 'warning',
      properties: { feedId: 'cs', operation: 'update', kind: 'transient' },
    });
    const { status, code, requestId } = errors[0]!.properties;
    expect(typeof status === 'number' && status >= 500 && status <= 504).toBe(true);
    expect(typeof code === 'string' && code.length > 0).toBe(true);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(eventsNamed(memory.events, 'sync.run.completed')[0]?.level).toBe('warning');
    expect(host.lines.some((l) => l.level === 'warning' && l.text.startsWith('graph.error '))).toBe(true);

    const secrets = await secretsOf(world);
    expectNothingSecret(JSON.stringify(memory.events), secrets);
    expectNothingSecret(host.lines.map((l) => l.text).join('\n'), secrets);
  });
});

describe('every run is visible', () => {
  it('a second sync of unchanged feeds logs exactly one info-level run summary per feed (outcome unchanged), and nothing else at info or above', async () => {
    const world = await harness.world();
    await world.grant(world.seed([ADA]).get(ADA)!);
    const lecture = (uid: string, start: string) =>
      vevent({ uid, organizer: ADA, summary: uid, start, rrule: 'FREQ=WEEKLY;COUNT=2' });
    await world.upload('cs', calendar(lecture('cs101@uni', '2027-01-11T09:00:00Z')));
    await world.upload('ma', calendar(lecture('ma101@uni', '2027-01-12T09:00:00Z')));
    expect(await world.sync('cs')).toMatchObject({ outcome: 'completed', created: 2 });
    expect(await world.sync('ma')).toMatchObject({ outcome: 'completed', created: 2 });

    const memory = memorySink();
    const logger = createEventLogger(memory.sink);
    world.advance(15 * 60_000);
    const graphBefore = world.emulator.control.requestCounts().graph;
    const runs = [await world.sync('cs', { deps: { logger } }), await world.sync('ma', { deps: { logger } })];
    expect(world.emulator.control.requestCounts().graph).toBe(graphBefore);
    expect(runs.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);

    const visible = memory.events.filter((e) => e.level !== 'debug');
    expect(visible.map((e) => [e.level, e.name, e.properties.feedId, e.properties.outcome])).toEqual([
      ['info', 'sync.run.completed', 'cs', 'unchanged'],
      ['info', 'sync.run.completed', 'ma', 'unchanged'],
    ]);
    // The summary still says what the feed has: its meetings, nothing done now.
    expect(visible[0]!.properties).toMatchObject({ created: 0, unchanged: 2, graphCalls: 0, failed: 0 });
  });
});

describe('one set of level names', () => {
  it('serve prints the CLI level names (info, not the host name information) for events and requests', async () => {
    const world = await harness.world();
    const lines: string[] = [];
    const server = await serveAdmin({
      services: world.services,
      adminKey: 'local-key',
      port: 0,
      runQueuedSyncs: false,
      verbose: true,
      log: (line) => lines.push(line),
    });
    try {
      const response = await fetch(`${server.origin}/api/feeds`, {
        headers: { 'x-functions-key': 'local-key' },
      });
      expect(response.status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(lines.some((line) => /^info {4}http\.admin \{/.test(line))).toBe(true);
    expect(lines.some((line) => /^info {4}GET \/api\/feeds → 200/.test(line))).toBe(true);
    expect(lines.filter((line) => !/^(debug|info|warning|error) +\S/.test(line))).toEqual([]);
  });
});
