// The sync triggers as the Functions host calls them: syncTimer fans out one queue message per enabled
// feed through its queue output binding; syncFeedQueue syncs the feed named in a message. Both use
// getServices() (settings from process.env), pointed here at the harness's Azurite and Graph emulator.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvocationContext, type Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { syncFeedQueue } from '../../functions/syncFeedQueue.js';
import { syncQueueOutput, syncTimer } from '../../functions/syncTimer.js';
import { uploadFeed } from '../../src/admin/feeds.js';
import { getServices } from '../../src/compose.js';
import { emulatorAppSettings } from '../../src/emulator/index.js';
import type { SyncMessage } from '../../src/storage/index.js';
import { utc, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const BOB = 'bob@uni.example';
let workDir = '';

beforeAll(async () => {
  const em = harness.emulator();
  workDir = await mkdtemp(path.join(tmpdir(), 'tts-functions-'));
  const caFile = path.join(workDir, 'ca.pem');
  await writeFile(caFile, em.caCertPem);
  // The app settings the Functions host would provide; set before the first getServices().
  Object.assign(process.env, {
    AzureWebJobsStorage: harness.azurite().connectionString,
    ...emulatorAppSettings(em, caFile),
  });
  em.control.reset({ everything: true });
  em.control.newPolicy('TimetableSync-OnlineMeetings', [em.clientId]);
  for (const user of em.control.seedUsers(
    [ADA, BOB].map((mail) => ({ displayName: mail, userPrincipalName: mail, mail })),
  )) {
    em.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: user.id }, { delayMs: 0 });
  }
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function collectingContext(functionName: string, extra: { triggerMetadata?: Record<string, unknown> } = {}) {
  const lines: Array<{ level: string; text: string }> = [];
  const context = new InvocationContext({
    functionName,
    invocationId: `test-${functionName}`,
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
    ...extra,
  });
  return { context, lines };
}

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: {
    last: new Date().toISOString(),
    next: new Date().toISOString(),
    lastUpdated: new Date().toISOString(),
  },
};

describe('sync triggers', () => {
  it('syncTimer enqueues one message per enabled feed; syncFeedQueue syncs the feed of each message', async () => {
    const services = await getServices();
    // Real clock here (the host's): sessions from tomorrow on.
    const tomorrow = new Date(Date.now() + 86_400_000);
    tomorrow.setUTCHours(9, 0, 0, 0);
    const at = (days: number, hour = 9) =>
      utc(tomorrow.getTime() + days * 86_400_000 + (hour - 9) * 3_600_000);
    await uploadFeed(
      services,
      'cs',
      calendar(
        vevent({
          uid: 'cs101@uni',
          organizer: ADA,
          summary: 'CS101',
          start: at(0),
          rrule: 'FREQ=WEEKLY;COUNT=3',
        }),
      ),
    );
    await uploadFeed(
      services,
      'ma',
      calendar(
        vevent({
          uid: 'ma101@uni',
          organizer: BOB,
          summary: 'MA101',
          start: at(1, 11),
          rrule: 'FREQ=WEEKLY;COUNT=2',
        }),
      ),
    );
    await uploadFeed(
      services,
      'old',
      calendar(vevent({ uid: 'old@uni', organizer: BOB, summary: 'Old', start: at(2) })),
      { enabled: false },
    );

    const fanOut = collectingContext('syncTimer');
    await syncTimer(timer, fanOut.context);
    const messages = fanOut.context.extraOutputs.get(syncQueueOutput) as SyncMessage[];
    expect(messages.map((m) => m.feedId).sort()).toEqual(['cs', 'ma']);
    expect(messages.every((m) => m.reason === 'schedule' && !Number.isNaN(Date.parse(m.requestedAt)))).toBe(
      true,
    );
    expect(
      fanOut.lines.some(
        (l) =>
          l.level === 'information' && l.text.startsWith('sync.fanout ') && l.text.includes('"enqueued":2'),
      ),
    ).toBe(true);

    for (const message of messages) {
      // The host hands the queue handler the decoded JSON object.
      const queue = collectingContext('syncFeedQueue', { triggerMetadata: { dequeueCount: 1 } });
      await syncFeedQueue(JSON.parse(JSON.stringify(message)), queue.context);
      const completed = queue.lines.find((l) => l.text.startsWith('sync.run.completed '));
      expect(completed?.level).toBe('information');
      expect(completed?.text).toContain(`"feedId":"${message.feedId}"`);
    }

    // While it synced, this instance reported the Graph rate it learned (none: no 429) for the app's other
    // instances, and once idle it said it left, so they may take its part of the ceiling.
    await vi.waitFor(
      async () =>
        expect(await services.store.graphRates.list()).toMatchObject([{ ceiling: null, left: true }]),
      { timeout: 10_000, interval: 200 },
    );

    const meetings = harness.emulator().control.meetings();
    expect(meetings.filter((m) => m.subject === 'CS101')).toHaveLength(3);
    expect(meetings.filter((m) => m.subject === 'MA101')).toHaveLength(2);
    expect(meetings.filter((m) => m.subject === 'Old')).toHaveLength(0);
    expect((await services.store.feeds.get('cs'))?.lastRun).toMatchObject({
      outcome: 'completed',
      created: 3,
    });

    // A redelivered message for an unchanged feed costs no Graph call.
    const before = harness.emulator().control.requestCounts().graph;
    await syncFeedQueue(
      { feedId: 'cs', reason: 'schedule', requestedAt: new Date().toISOString() },
      collectingContext('syncFeedQueue').context,
    );
    expect(harness.emulator().control.requestCounts().graph).toBe(before);
    expect(harness.emulator().control.meetings()).toHaveLength(5);
  });

  it('syncFeedQueue drops a malformed message and a message for an unknown feed without throwing', async () => {
    const bad = collectingContext('syncFeedQueue');
    await syncFeedQueue('not json', bad.context);
    expect(bad.lines.some((l) => l.level === 'error' && l.text.startsWith('sync.message.invalid '))).toBe(
      true,
    );

    const gone = collectingContext('syncFeedQueue');
    await syncFeedQueue(
      { feedId: 'nosuchfeed', reason: 'schedule', requestedAt: new Date().toISOString() },
      gone.context,
    );
    expect(gone.lines.some((l) => l.level === 'warning' && l.text.startsWith('sync.feed.gone '))).toBe(true);
  });
});
