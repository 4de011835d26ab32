// 429 storms: the emulator throttles the app (token bucket); the sync backs off (Retry-After + AIMD),
// completes over one or more runs, keeps 429s under a tenth of its requests and makes no duplicates.
import { describe, expect, it } from 'vitest';

import { vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const LECTURERS = ['ada@uni.example', 'bob@uni.example', 'carol@uni.example', 'dan@uni.example'];

describe('throttling', () => {
  it('completes under 20 requests/s per app with few 429s and no duplicates', async () => {
    const world = await harness.world();
    const users = world.seed(LECTURERS);
    for (const user of users.values()) await world.grant(user);
    // 4 lecturers × 30 sessions (Mondays and Thursdays, all inside the 120-day horizon) = 120 creates.
    await world.upload(
      'cs',
      calendar(
        ...LECTURERS.map((email, i) =>
          vevent({
            uid: `course-${i}@uni`,
            organizer: email,
            summary: `Course ${i}`,
            start: `2027-01-11T0${i + 6}:00:00Z`,
            rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=30',
          }),
        ),
      ),
    );
    world.emulator.control.setThrottle({ perAppPerSecond: 20, burst: 10, retryAfterSeconds: 1 });

    const summaries = [];
    for (let run = 0; run < 4; run++) {
      const summary = await world.sync('cs');
      summaries.push(summary);
      if (summary.outcome === 'completed' && summary.failed === 0 && summary.blocked === 0) break;
      world.advance(7 * 3_600_000); // past any retry back-off
    }
    const last = summaries.at(-1)!;
    expect(last).toMatchObject({ outcome: 'completed', failed: 0, blocked: 0 });
    expect(summaries.reduce((n, s) => n + s.created, 0)).toBe(120);

    const counts = world.emulator.control.requestCounts();
    expect(world.emulator.control.meetings()).toHaveLength(120);
    expect(world.emulator.control.duplicates()).toBe(0);
    // The storm really happened, and the client backed off instead of hammering. (The first storm costs
    // about one 429 per request in flight: nothing tells the client the limit before Graph does.)
    expect(counts.graphThrottled).toBeGreaterThan(0);
    expect(counts.graphThrottled).toBeLessThan(counts.graph / 10);
    // What the runs report matches what the emulator saw.
    expect(summaries.reduce((n, s) => n + s.throttled, 0)).toBe(counts.graphThrottled);
    expect(summaries.reduce((n, s) => n + s.graphCalls, 0)).toBe(counts.graph);
  });
});
