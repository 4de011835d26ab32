// Retry-After longer than the cap, against the emulator: the real MSAL + SDK path does not sleep 300 s,
// it fails fast as `throttled` with the pause to wait, and later calls fail without reaching Graph.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGraphError } from '../../src/graph/errors.js';
import {
  meetingInput,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
  t.emulator.control.allowDefaultAppGlobally();
});
afterAll(() => t.emulator.stop());

describe('Retry-After above maxRetryAfterSeconds', () => {
  it('a 300 s Retry-After makes the call fail fast as throttled instead of sleeping', async () => {
    const graph = t.access(); // default cap: 30 s
    const organizer = t.users[0]!.id;
    await graph.getToken();
    t.emulator.control.setThrottle({ perAppPerSecond: 0.01, burst: 1, retryAfterSeconds: 300 });
    await graph.meetings.createOrGet(organizer, meetingInput('first'));

    const started = Date.now();
    const error = await rejectionOf(graph.meetings.createOrGet(organizer, meetingInput('second')));
    expect(isGraphError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'throttled', status: 429, retryAfterSeconds: 300 });

    // The pause still holds: the next call is refused without a request to Graph.
    const graphRequests = t.emulator.control.requestCounts().graph;
    const next = await rejectionOf(graph.users.resolveByEmail('ada@uni.example'));
    expect(next).toMatchObject({ kind: 'throttled' });
    expect((next as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(290);
    expect(t.emulator.control.requestCounts().graph).toBe(graphRequests);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(t.emulator.control.requestCounts().graphThrottled).toBe(1); // the SDK did not retry the 429
  });
});
