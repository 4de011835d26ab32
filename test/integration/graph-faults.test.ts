// Throttling and faults: the SDK's RetryHandler honours Retry-After; lost responses are repaired by
// repeating createOrGet (never a duplicate meeting).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphAccess } from '../../src/graph/client.js';
import { classifyGraphError, isGraphError } from '../../src/graph/errors.js';
import type { MeetingInput } from '../../src/graph/types.js';
import {
  meetingInput,
  rawClient,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

let t: TestEmulator;
let graph: GraphAccess;
let organizer: string;
beforeAll(async () => {
  t = await startTestEmulator();
  t.emulator.control.allowDefaultAppGlobally();
  graph = t.access();
  organizer = t.users[0]!.id;
  await graph.getToken();
});
beforeEach(() => t.emulator.control.reset());
afterAll(() => t.emulator.stop());

/** What the sync does with a transient failure: try again (bounded). */
async function createWithRetries(input: MeetingInput, attempts = 6) {
  for (let i = 1; ; i++) {
    try {
      return await graph.meetings.createOrGet(organizer, input);
    } catch (e) {
      if (classifyGraphError(e).kind !== 'transient' || i >= attempts) throw e;
    }
  }
}

describe('throttling', () => {
  it('429 is retried by the SDK after Retry-After and succeeds', async () => {
    t.emulator.control.setThrottle({ perAppPerSecond: 1, burst: 1, retryAfterSeconds: 1 });
    const before = graph.stats();
    const started = Date.now();
    await graph.meetings.createOrGet(organizer, meetingInput('one'));
    await graph.meetings.createOrGet(organizer, meetingInput('two'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graph.stats().throttled - before.throttled).toBe(1);
    expect(t.emulator.control.requestCounts().graphThrottled).toBe(1);
    expect(t.emulator.control.meetings()).toHaveLength(2);
  });

  it('a client that comes back before Retry-After gets another 429', async () => {
    t.emulator.control.setThrottle({ perOrganizerPerSecond: 1, burst: 1, retryAfterSeconds: 1 });
    const raw = await rawClient(t.emulator);
    const path = `/v1.0/users/${organizer}/onlineMeetings/createOrGet`;
    const post = () => raw(path, { method: 'POST', body: JSON.stringify(meetingInput()) });
    expect((await post()).status).toBe(201);
    const throttled = await post();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(((await throttled.json()) as { error: { code: string } }).error.code).toBe('TooManyRequests');
    expect((await post()).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await post()).status).toBe(201);
    // Another organizer has its own bucket.
    expect(
      (
        await raw(`/v1.0/users/${t.users[1]!.id}/onlineMeetings/createOrGet`, {
          method: 'POST',
          body: JSON.stringify(meetingInput()),
        })
      ).status,
    ).toBe(201);
  });

  it('429 left after the SDK retries is classified throttled with retryAfterSeconds', async () => {
    const impatient = t.access({ retry: { maxRetries: 0 } });
    t.emulator.control.setThrottle({ perAppPerSecond: 0.5, burst: 1, retryAfterSeconds: 7 });
    await impatient.meetings.createOrGet(organizer, meetingInput());
    const error = await rejectionOf(impatient.meetings.createOrGet(organizer, meetingInput()));
    expect(isGraphError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'throttled', status: 429, retryAfterSeconds: 7 });
  });
});

describe('faults', () => {
  it('fail after commit (connection reset): createOrGet again gives the same meeting, no duplicate', async () => {
    t.emulator.control.setFaults({ failAfterCommitNext: 1 });
    const input = meetingInput('Lost response');
    const error = await rejectionOf(graph.meetings.createOrGet(organizer, input));
    expect(classifyGraphError(error).kind).toBe('transient');
    expect(t.emulator.control.meetings()).toHaveLength(1); // committed although the caller saw a failure
    const again = await graph.meetings.createOrGet(organizer, input);
    expect(again.created).toBe(false);
    expect(t.emulator.control.meetings()).toHaveLength(1);
    expect(t.emulator.control.duplicates()).toBe(0);
  });

  it('fail after commit (504): the SDK retries the POST and createOrGet returns the existing meeting', async () => {
    t.emulator.control.setFaults({
      failAfterCommitNext: 1,
      failAfterCommitMode: '504',
      retryAfterSeconds: 0,
    });
    const result = await graph.meetings.createOrGet(organizer, meetingInput('504 after commit'));
    expect(result.created).toBe(false);
    expect(t.emulator.control.meetings()).toHaveLength(1);
    expect(
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet'],
    ).toEqual({ '504': 1, '200': 1 });
  });

  it('random 5xx, resets and lost responses (seeded) never produce duplicates', async () => {
    t.emulator.control.setFaults({
      errorRate: 0.2,
      resetRate: 0.1,
      failAfterCommitRate: 0.2,
      retryAfterSeconds: 0,
      seed: 7,
    });
    const inputs = Array.from({ length: 15 }, (_, i) =>
      meetingInput(
        `Session ${i}`,
        `2026-09-${String(10 + i).padStart(2, '0')}T08:00:00Z`,
        `2026-09-${String(10 + i).padStart(2, '0')}T09:00:00Z`,
      ),
    );
    for (const input of inputs) await createWithRetries(input, 10);
    expect(t.emulator.control.meetings()).toHaveLength(15);
    expect(t.emulator.control.duplicates()).toBe(0);
    const counts =
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet'] ?? {};
    expect(Object.keys(counts).some((status) => status === 'reset' || Number(status) >= 500)).toBe(true);
  });

  it('faults are deterministic for a seed', async () => {
    const run = async () => {
      t.emulator.control.reset();
      t.emulator.control.setFaults({ errorRate: 0.3, resetRate: 0.1, retryAfterSeconds: 0, seed: 99 });
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++) {
        try {
          await graph.users.resolveByEmail('ada@uni.example');
          outcomes.push('ok');
        } catch (e) {
          outcomes.push(classifyGraphError(e).kind);
        }
      }
      return { outcomes, counts: t.emulator.control.requestCounts().byRoute };
    };
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
  });

  it('a reset is transient; injected latency delays the response', async () => {
    t.emulator.control.setFaults({ resetRate: 1 });
    expect(classifyGraphError(await rejectionOf(graph.users.resolveByEmail('ada@uni.example'))).kind).toBe(
      'transient',
    );
    t.emulator.control.setFaults({ latencyMs: 200 });
    const started = Date.now();
    await graph.users.resolveByEmail('ada@uni.example');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
