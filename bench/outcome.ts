// What a sync left in Graph, counted from the emulator's own meeting list (not from the meetings
// table): every session the feeds ask for should have exactly one live meeting (same organizer,
// subject, start and end), and no other live meeting should exist. The same three numbers as the
// convergence suite (test/support/convergence.ts); here the expected sessions are the feeds' desired
// sessions at the bench's clock.
import type { AppConfig } from '../src/config.js';
import type { EmulatorHandle } from '../src/emulator/index.js';
import { expandFeedBody, feedWindow } from '../src/sync/loadFeed.js';

export interface Outcome {
  expected: number;
  live: number;
  /** Live meetings beyond the first for one expected session. */
  duplicates: number;
  /** Expected sessions without a live meeting. */
  missing: number;
  /** Live meetings that no expected session owns. */
  orphans: number;
}

export function countOutcome(
  emulator: EmulatorHandle,
  feeds: ReadonlyArray<{ feedId: string; text: string }>,
  config: Pick<AppConfig, 'sync' | 'meeting'>,
  nowMs: number,
): Outcome {
  const userIds = new Map<string, string>();
  for (const u of emulator.control.users()) userIds.set(u.userPrincipalName.toLowerCase(), u.id);
  const key = (organizerId: string, subject: string, start: string, end: string): string =>
    `${organizerId}|${subject}|${new Date(start).toISOString()}|${new Date(end).toISOString()}`;
  const wanted = new Map<string, number>();
  const window = feedWindow(nowMs, config.sync.horizonDays);
  let expected = 0;
  for (const feed of feeds) {
    const { desired } = expandFeedBody(
      feed.text,
      { id: feed.feedId, timeZone: null, defaultOrganizer: null },
      window,
      config,
    );
    for (const s of desired.sessions) {
      if (s.cancelled) continue;
      const k = key(userIds.get(s.organizerEmail) ?? s.organizerEmail, s.subject, s.start, s.end);
      wanted.set(k, (wanted.get(k) ?? 0) + 1);
      expected++;
    }
  }
  const liveByKey = new Map<string, number>();
  const live = emulator.control.meetings();
  for (const m of live) {
    const k = key(m.organizerId, m.subject, m.startDateTime, m.endDateTime);
    liveByKey.set(k, (liveByKey.get(k) ?? 0) + 1);
  }
  const outcome: Outcome = { expected, live: live.length, duplicates: 0, missing: 0, orphans: 0 };
  for (const [k, n] of wanted) {
    const found = liveByKey.get(k) ?? 0;
    if (found < n) outcome.missing += n - found;
    else outcome.duplicates += found - n;
  }
  for (const [k, n] of liveByKey) if (!wanted.has(k)) outcome.orphans += n;
  return outcome;
}
