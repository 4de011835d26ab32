// Hostile and broken input: the shared malformed fixtures plus generated files (truncated, 50 MB, deeply
// nested, a 10 MB line, invalid UTF-8, unknown TZIDs, endless FREQ=SECONDLY, 100,000 EXDATEs, an HTML
// error page). Each upload ends in a clear 4xx problem or is accepted with warnings naming the bad
// events, within a bounded time and memory; a rejected upload leaves the feed row, its body version,
// the meeting rows and the meetings exactly as they were. An HTML page served for a URL feed fails the
// sync run and changes nothing either.
// (Admin routes without credentials → 401, changing nothing: test/integration/http-* covers them.)
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { ProblemError } from '../../src/admin/problems.js';
import { uploadFeed, type UploadResult } from '../../src/admin/feeds.js';
import { fetchFeedUrl } from '../../src/feeds/fetch.js';
import { useSyncHarness, type World } from '../support/sync-harness.js';
import { baseSeed, randomInt, reportFigures, repoRoot, rng, weeklyTimetable } from '../support/reliability-env.js';

const harness = useSyncHarness();
const MALFORMED_DIR = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'ical-conformance', 'malformed');
const TIME_BOUND_MS = 20_000;
/** Peak resident memory of the test process after all cases (generous: Node + vitest + 50 MB strings). */
const MEMORY_BOUND_BYTES = 2.5 * 1024 ** 3;
const ORGANIZER = 'ada@uni.example';

type Expectation = 'reject' | 'warn' | 'rejectOrWarn' | 'any';
interface Case {
  name: string;
  body: () => string | Uint8Array;
  expect: Expectation;
  /** A phrase the error or a warning must contain (case-insensitive). */
  mentions?: RegExp;
}

const wrap = (...vevent: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//hostile//EN', 'BEGIN:VEVENT', 'DTSTAMP:20261201T000000Z', `ORGANIZER:mailto:${ORGANIZER}`, ...vevent, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

function generatedCases(goodIcs: string): Case[] {
  const random = rng(baseSeed(404));
  const truncations = [0.1, 0.35, 0.6, 0.9].map((share) => Math.floor(goodIcs.length * share) + randomInt(random, 0, 40));
  return [
    ...truncations.map<Case>((at) => ({ name: `truncated at byte ${at} of ${goodIcs.length}`, body: () => goodIcs.slice(0, at), expect: 'rejectOrWarn' })),
    {
      name: '50 MB file',
      body: () => wrap('UID:big@x', 'SUMMARY:Big', 'DTSTART:20270111T090000Z', 'DTEND:20270111T100000Z', `DESCRIPTION:${'x'.repeat(50 * 1024 * 1024)}`),
      expect: 'reject',
      mentions: /limit|large/i,
    },
    {
      name: 'deeply nested components (100,000 levels)',
      body: () => ['BEGIN:VCALENDAR', 'VERSION:2.0', ...Array.from({ length: 100_000 }, () => 'BEGIN:X-NEST'), ...Array.from({ length: 100_000 }, () => 'END:X-NEST'), 'END:VCALENDAR', ''].join('\r\n'),
      expect: 'reject',
      mentions: /VEVENT|event/i,
    },
    {
      name: 'deeply nested components around a VEVENT',
      body: () =>
        ['BEGIN:VCALENDAR', 'VERSION:2.0', ...Array.from({ length: 50_000 }, () => 'BEGIN:X-NEST'), 'BEGIN:VEVENT', 'UID:n@x', 'DTSTART:20270111T090000Z', 'END:VEVENT', ...Array.from({ length: 50_000 }, () => 'END:X-NEST'), 'END:VCALENDAR', ''].join('\r\n'),
      expect: 'any',
    },
    {
      name: '10 MB single line (no line break at all)',
      body: () => `BEGIN:VCALENDAR${'A'.repeat(10 * 1024 * 1024 - 100)}`,
      expect: 'reject',
    },
    {
      name: '10 MB single content line inside a valid event',
      body: () => wrap('UID:long@x', 'SUMMARY:Long', 'DTSTART:20270111T090000Z', 'DTEND:20270111T100000Z', `DESCRIPTION:${'y'.repeat(10 * 1024 * 1024 - 400)}`),
      expect: 'any',
    },
    {
      name: 'invalid UTF-8',
      body: () => Buffer.concat([Buffer.from(wrap('UID:utf@x', 'SUMMARY:Caf', 'DTSTART:20270111T090000Z')), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]),
      expect: 'reject',
      mentions: /UTF-8/i,
    },
    {
      name: 'NUL bytes (binary)',
      body: () => new Uint8Array([...Buffer.from('BEGIN:VCALENDAR\r\n'), 0, 1, 2, 0]),
      expect: 'reject',
      mentions: /binary|NUL/i,
    },
    {
      name: 'unknown TZID',
      body: () => wrap('UID:tz@x', 'SUMMARY:Mars', 'DTSTART;TZID=Mars/Olympus_Mons:20270111T090000', 'DTEND;TZID=Mars/Olympus_Mons:20270111T100000'),
      expect: 'rejectOrWarn',
      mentions: /Mars\/Olympus_Mons|time zone|TZID/i,
    },
    {
      name: 'RRULE:FREQ=SECONDLY with no end',
      body: () => wrap('UID:sec@x', 'SUMMARY:Every second', 'DTSTART:20270111T090000Z', 'DTEND:20270111T090001Z', 'RRULE:FREQ=SECONDLY'),
      expect: 'rejectOrWarn',
    },
    {
      name: '100,000 EXDATEs',
      body: () =>
        wrap(
          'UID:ex@x',
          'SUMMARY:Daily',
          'DTSTART:20270111T090000Z',
          'DTEND:20270111T100000Z',
          'RRULE:FREQ=DAILY;COUNT=200',
          ...Array.from({ length: 100_000 }, (_, i) => `EXDATE:${new Date(Date.parse('2027-01-12T09:00:00Z') + i * 86_400_000).toISOString().replace(/[-:]/g, '').replace('.000', '')}`),
        ),
      expect: 'any',
    },
    {
      name: 'HTML error page',
      body: () => '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n',
      expect: 'reject',
      mentions: /iCalendar|BEGIN:VCALENDAR/i,
    },
  ];
}

function malformedFixtureCases(): Case[] {
  const files = readdirSync(MALFORMED_DIR).filter((f) => f.endsWith('.ics'));
  expect(files.length, `no fixtures in ${MALFORMED_DIR}`).toBeGreaterThan(0);
  return files.map((file) => ({ name: `fixture malformed/${file}`, body: () => readFileSync(path.join(MALFORMED_DIR, file)), expect: 'rejectOrWarn' as const }));
}


async function runCases(world: World, feedId: string, goodIcs: string, cases: Case[]) {
  const failures: string[] = [];
  const figures = { cases: cases.length, rejected: 0, acceptedWithWarnings: 0, acceptedClean: 0, slowestMs: 0 };
    for (const c of cases) {
      const before = await snapshot(world, feedId);
      const body = c.body();
      const started = performance.now();
      let outcome: { rejected: ProblemError } | { accepted: UploadResult };
      try {
        outcome = { accepted: await uploadFeed(world.services, feedId, body) };
      } catch (error) {
        if (!(error instanceof ProblemError)) {
          failures.push(`${c.name}: threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error)} instead of a 4xx problem`);
          continue;
        }
        outcome = { rejected: error };
      }
      const elapsed = performance.now() - started;
      figures.slowestMs = Math.max(figures.slowestMs, Math.round(elapsed));
      if (elapsed > TIME_BOUND_MS) failures.push(`${c.name}: took ${Math.round(elapsed)} ms (bound ${TIME_BOUND_MS})`);
      const after = await snapshot(world, feedId);
      // Uploads never touch meetings, accepted or not.
      if (JSON.stringify(after.rows) !== JSON.stringify(before.rows)) failures.push(`${c.name}: meeting rows changed`);
      if (JSON.stringify(after.meetings) !== JSON.stringify(before.meetings)) failures.push(`${c.name}: meetings changed`);
      if ('rejected' in outcome) {
        figures.rejected++;
        const problem = outcome.rejected;
        if (!(problem.status >= 400 && problem.status < 500)) failures.push(`${c.name}: status ${problem.status}`);
        if (problem.message.length === 0 || problem.message.length > 500) failures.push(`${c.name}: unclear message (${problem.message.length} chars)`);
        if (c.expect === 'warn') failures.push(`${c.name}: rejected (${problem.message}) but should be accepted with warnings`);
        if (c.mentions && !c.mentions.test(problem.message)) failures.push(`${c.name}: message "${problem.message}" does not say ${c.mentions}`);
        if (JSON.stringify(after.feed) !== JSON.stringify(before.feed)) failures.push(`${c.name}: rejected, yet the feed row changed`);
      } else {
        const { warnings, skipped } = outcome.accepted;
        const said = [...warnings.map((w) => `${w.uid} ${w.reason}`), ...skipped.map((s) => `${s.uid} ${s.reason} ${s.detail ?? ''}`)].join(' | ');
        if (said === '') figures.acceptedClean++;
        else figures.acceptedWithWarnings++;
        if (c.expect === 'reject') failures.push(`${c.name}: accepted (${outcome.accepted.sessions} sessions) but should be refused`);
        if ((c.expect === 'warn' || c.expect === 'rejectOrWarn') && said === '') failures.push(`${c.name}: accepted ${outcome.accepted.sessions} sessions without any warning`);
        if (c.mentions && said !== '' && !c.mentions.test(said)) failures.push(`${c.name}: warnings "${said.slice(0, 300)}" do not say ${c.mentions}`);
        // Put the good timetable back for the next case.
        await world.upload(feedId, goodIcs);
      }
    }
  return { ...figures, failures };
}

async function snapshot(world: World, feedId: string) {
  const feed = await world.services.store.feeds.get(feedId);
  const rows = await world.services.store.meetings.listByFeed(feedId);
  return { feed, rows, meetings: world.emulator.control.meetings() };
}

describe('hostile and broken uploads', () => {
  it('each is refused clearly or accepted with warnings, in bounded time and memory; a refusal changes nothing', { timeout: 240_000 }, async () => {
    const world = await harness.world();
    const users = world.seed([ORGANIZER]);
    await world.grant(users.get(ORGANIZER)!);
    const good = weeklyTimetable({ tag: 'victim', organizers: [ORGANIZER], courses: 3, weeks: 3 });
    await world.upload('victim', good.ics);
    expect((await world.sync('victim')).created).toBe(good.sessions.length);

    const cases = generatedCases(good.ics);
    const figures = await runCases(world, 'victim', good.ics, cases);
    const peakRss = process.resourceUsage().maxRSS * 1024;
    reportFigures('hostile-input', { ...figures, failures: figures.failures.length, peakRssMB: Math.round(peakRss / 1024 ** 2) });
    expect(peakRss).toBeLessThan(MEMORY_BOUND_BYTES);
    expect(figures.failures, figures.failures.join('\n')).toEqual([]);
  });

  it('the shared malformed fixtures, each uploaded at its own date (so its events fall in the horizon)', { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    let count = 0;
    for (const c of malformedFixtureCases()) {
      const raw = c.body();
      const text = typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8");
      const firstEventStart = /BEGIN:VEVENT[\s\S]*?DTSTART[^:\r\n]*:(\d{4})(\d{2})(\d{2})/.exec(text);
      if (!firstEventStart) throw new Error(`${c.name}: no VEVENT DTSTART found`);
      const day = Date.UTC(Number(firstEventStart[1]), Number(firstEventStart[2]) - 1, Number(firstEventStart[3]));
      const world = await harness.world({ start: new Date(day - 86_400_000).toISOString() });
      const users = world.seed([ORGANIZER]);
      await world.grant(users.get(ORGANIZER)!);
      const good = weeklyTimetable({ tag: 'victim', organizers: [ORGANIZER], courses: 2, weeks: 2, firstDay: new Date(day + 7 * 86_400_000).toISOString() });
      await world.upload('victim', good.ics);
      expect((await world.sync('victim')).created).toBe(good.sessions.length);
      const result = await runCases(world, 'victim', good.ics, [c]);
      failures.push(...result.failures);
      count++;
    }
    reportFigures('hostile-fixtures', { fixtures: count, failures: failures.length });
    expect(failures, failures.join('\n')).toEqual([]);
  });
});

describe('an HTML error page served for a URL feed', () => {
  it('fails the run with a clear reason and leaves the feed body, meeting rows and meetings as they were', async () => {
    const world = await harness.world();
    const users = world.seed([ORGANIZER]);
    await world.grant(users.get(ORGANIZER)!);
    const good = weeklyTimetable({ tag: 'urlfeed', organizers: [ORGANIZER], courses: 2, weeks: 3 });
    let serveHtml = false;
    const server: Server = createServer((_req, res) => {
      if (serveHtml) {
        // A misconfigured proxy: 200 with an HTML error page.
        res.writeHead(200, { 'content-type': 'text/html', etag: '"html"' });
        res.end('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>');
      } else {
        res.writeHead(200, { 'content-type': 'text/calendar', etag: '"v1"' });
        res.end(good.ics);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/timetable.ics`;
      const template = (await world.upload('template', good.ics)).feed;
      const { etag: _etag, ...fields } = template as typeof template & { etag?: string };
      await world.services.store.feeds.create({ ...fields, id: 'url-feed', source: 'url', url, contentHash: null, bodyVersion: null, lastRun: null });
      // The real fetcher, only allowed to reach this loopback test server over http.
      const fetchFeed = (u: string, v: { etag: string | null; lastModified: string | null }) => fetchFeedUrl(u, v, { maxBytes: 1024 * 1024, allowHttp: true, isAllowedAddress: () => true });
      const first = await world.sync('url-feed', { deps: { fetchFeed } });
      expect(first.created).toBe(good.sessions.length);

      serveHtml = true;
      const before = await snapshot(world, 'url-feed');
      world.advance(15 * 60_000);
      const run = await world.sync('url-feed', { deps: { fetchFeed } });
      const after = await snapshot(world, 'url-feed');
      expect(run.outcome).toBe('failed');
      expect(run.message).toMatch(/iCalendar|BEGIN:VCALENDAR/);
      expect(world.events.some((e) => e.name === 'feed.rejected' && e.properties.feedId === 'url-feed')).toBe(true);
      expect(after.rows).toEqual(before.rows);
      expect(after.meetings).toEqual(before.meetings);
      // ARCHITECTURE.md: "a rejected one leaves the current version in place".
      expect({ contentHash: after.feed?.contentHash, bodyVersion: after.feed?.bodyVersion }).toEqual({ contentHash: before.feed?.contentHash, bodyVersion: before.feed?.bodyVersion });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a truncated download (no END:VCALENDAR) is refused like a truncated upload: the run fails, meetings stay', async () => {
    // uploadFeed refuses a body that ends before END:VCALENDAR; a URL feed's body goes through syncFeed.
    const world = await harness.world();
    const users = world.seed([ORGANIZER]);
    await world.grant(users.get(ORGANIZER)!);
    const good = weeklyTimetable({ tag: 'cutfeed', organizers: [ORGANIZER], courses: 2, weeks: 3 });
    let cut = false;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/calendar', etag: cut ? '"cut"' : '"v1"' });
      res.end(cut ? good.ics.slice(0, good.ics.indexOf('RRULE', good.ics.indexOf('course 1'))) : good.ics);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/timetable.ics`;
      const template = (await world.upload('template', good.ics)).feed;
      const { etag: _etag, ...fields } = template as typeof template & { etag?: string };
      await world.services.store.feeds.create({ ...fields, id: 'cut-feed', source: 'url', url, contentHash: null, bodyVersion: null, lastRun: null });
      const fetchFeed = (u: string, v: { etag: string | null; lastModified: string | null }) => fetchFeedUrl(u, v, { maxBytes: 1024 * 1024, allowHttp: true, isAllowedAddress: () => true });
      expect((await world.sync('cut-feed', { deps: { fetchFeed } })).created).toBe(good.sessions.length);
      cut = true;
      const before = await snapshot(world, 'cut-feed');
      world.advance(15 * 60_000);
      const run = await world.sync('cut-feed', { deps: { fetchFeed } });
      const after = await snapshot(world, 'cut-feed');
      expect(after.meetings).toEqual(before.meetings);
      expect(run.outcome, JSON.stringify(run)).toBe('failed');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
