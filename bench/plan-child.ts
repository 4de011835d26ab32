// Part 3, one size in its own process (so its peak RSS is its own): a semester of about N occurrences
// through expandCalendar → toDesiredSessions → planSync against stored-state records built in memory
// (what listByFeed would return after an earlier sync: 98 % unchanged, 1 % changed, 1 % not created
// yet, plus 0.5 % of records whose session left the feed). Prints one JSON line.
//
//   node dist/bench/plan-child.js <occurrences>
import { performance } from 'node:perf_hooks';

import { toDesiredSessions } from '../src/core/desired.js';
import { externalIdFor } from '../src/core/identity.js';
import { planSync } from '../src/core/plan.js';
import type { MeetingRecord } from '../src/core/state.js';
import { expandCalendar } from '../src/ical/index.js';
import { departmentFeed } from './university.js';

/** Occurrences per series of the university generator (weekly and fortnightly mix, 15 weeks). */
const OCCURRENCES_PER_SERIES = 12.7;

export interface PlanChildReport {
  target: number;
  series: number;
  occurrences: number;
  sessions: number;
  operations: number;
  expandMs: number;
  desiredMs: number;
  planMs: number;
  /** expand + desired + plan (the product's work; building the records is the bench's). */
  totalMs: number;
  baseRssMb: number;
  peakRssMb: number;
}

function main(): void {
  const target = Number(process.argv[2] ?? 25_000);
  const series = Math.round(target / OCCURRENCES_PER_SERIES);
  const feed = departmentFeed(0, { departments: 1, seriesPerDepartment: series, lecturers: 300, start: '2027-01-11', seed: 11 });
  const window = { from: Date.parse('2027-01-04T00:00:00Z'), to: Date.parse('2027-05-10T00:00:00Z') };
  const now = '2027-01-04T08:00:00Z';
  if (global.gc) global.gc();
  const baseRssMb = process.memoryUsage().rss / 1024 / 1024;

  const t0 = performance.now();
  // maxOccurrences: the product's default (200,000) would refuse the 225k semester; see docs/performance.md.
  const expanded = expandCalendar(feed.text, window, { maxOccurrences: 1_000_000 });
  const t1 = performance.now();
  const { sessions, skipped } = toDesiredSessions(feed.feedId, expanded.occurrences, {});
  const t2 = performance.now();
  const records: MeetingRecord[] = [];
  sessions.forEach((s, i) => {
    if (s.cancelled || i % 100 === 1) return; // 1 % not created yet
    records.push({
      feedId: feed.feedId,
      key: s.key,
      uid: s.uid,
      recurrenceId: s.recurrenceId,
      organizerEmail: s.organizerEmail,
      organizerId: `00000000-0000-4000-8000-${String(i % 300).padStart(12, '0')}`,
      externalId: externalIdFor(s.key, 0),
      generation: 0,
      meetingId: `MSo${s.key}`,
      joinWebUrl: `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${s.key}%40thread.v2/0`,
      subject: s.subject,
      start: s.start,
      end: s.end,
      contentHash: i % 100 === 2 ? 'changed' : s.contentHash, // 1 % changed
      state: 'active',
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
      etag: `W/"datetime'2027-01-01T00%3A00%3A00.0000000Z'"`,
    });
  });
  // 0.5 % removed from the feed since: their records are cancels (under the guard's share).
  const removed = Math.floor(records.length / 200);
  for (let i = 0; i < removed; i++) records.push({ ...(records[i] as MeetingRecord), key: `gone${i}`, externalId: externalIdFor(`gone${i}`, 0) });
  const t3 = performance.now();
  const plan = planSync({
    desired: sessions,
    records,
    now,
    windowEnd: new Date(window.to).toISOString().replace('.000', ''),
    skippedKeys: skipped.map((s) => s.key),
    settings: { maxCancelShare: 0.2, guardMinCancels: 10, cancellationsConfirmed: false },
  });
  const t4 = performance.now();
  const report: PlanChildReport = {
    target,
    series,
    occurrences: expanded.occurrences.length,
    sessions: sessions.length,
    operations: plan.operations.length,
    expandMs: t1 - t0,
    desiredMs: t2 - t1,
    planMs: t4 - t3,
    totalMs: t1 - t0 + (t2 - t1) + (t4 - t3),
    baseRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main();
