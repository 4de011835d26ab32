// The published calendar after real syncs (Azurite + the Graph emulator): a lecturer without an access
// policy does not make their sessions vanish from the students' calendar (they appear without a link
// and gain it after the grant), and text from the timetable cannot add a property or an event.
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';

import { NO_MEETING_YET } from '../../src/calendar/render.js';
import { registerFeedUrl } from '../../src/admin/feeds.js';
import { createCalendarRoutes } from '../../src/http/index.js';
import type { FeedFetcher } from '../../src/sync/syncFeed.js';
import { vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { KEY, call } from './http-support.js';

const harness = useSyncHarness();
const ADA = 'ada@uni.example';
const CAROL = 'carol@uni.example';

async function publishedIcs(world: World, feedId: string): Promise<string> {
  const routes = createCalendarRoutes({ services: () => Promise.resolve(world.services), requireKey: KEY });
  const token = (await world.services.store.feeds.get(feedId))?.calendarToken ?? '';
  const result = await call(routes, 'calendarFeed', 'GET', `calendars/${feedId}.ics`, {
    key: false,
    params: { file: `${feedId}.ics` },
    query: { token },
  });
  expect(result.status, result.text).toBe(200);
  return result.text;
}

function events(ics: string): ICAL.Event[] {
  const root = new ICAL.Component(ICAL.parse(ics) as unknown[]);
  return root.getAllSubcomponents('vevent').map((e) => new ICAL.Event(e));
}

const joinUrl = (e: ICAL.Event) => e.component.getFirstPropertyValue('x-microsoft-skypeteamsmeetingurl');

describe('published calendar after a sync', () => {
  it("a blocked lecturer's sessions appear without a link, and gain it after the grant", async () => {
    const world = await harness.world();
    const users = world.seed([ADA, CAROL]);
    await world.grant(users.get(ADA)!);
    await world.upload(
      'cs',
      calendar(
        [
          ...vevent({
            uid: 'cs101@uni',
            organizer: ADA,
            summary: 'CS101',
            start: '2027-01-11T09:00:00Z',
            rrule: 'FREQ=WEEKLY;COUNT=3',
          }),
          'LOCATION:Room 1',
        ],
        [
          ...vevent({
            uid: 'ph101@uni',
            organizer: CAROL,
            summary: 'PH101',
            start: '2027-01-12T13:00:00Z',
            rrule: 'FREQ=WEEKLY;COUNT=3',
          }),
          'LOCATION:Lab 2',
          'DESCRIPTION:Bring your lab book.\\nSafety briefing first.',
        ],
      ),
    );
    expect(await world.sync('cs')).toMatchObject({ created: 3, blocked: 3 });

    const first = await publishedIcs(world, 'cs');
    // No X-WR-CALNAME in the timetable: the calendar is named after the feed.
    expect(new ICAL.Component(ICAL.parse(first) as unknown[]).getFirstPropertyValue('x-wr-calname')).toBe(
      'cs',
    );
    const before = events(first);
    expect(before).toHaveLength(6);
    const carol = before.filter((e) => e.summary === 'PH101');
    expect(carol).toHaveLength(3);
    for (const e of carol) {
      expect(joinUrl(e)).toBeNull();
      expect(e.component.hasProperty('url')).toBe(false);
      expect(e.location).toBe('Lab 2');
      // The timetable's own description and the lecturer (the directory's display name) come first.
      expect(e.description).toMatch(
        /^Bring your lab book\.\nSafety briefing first\.\n\nLecturer: carol\n\nOnline meeting not yet available\./,
      );
      expect(e.description).toContain(NO_MEETING_YET);
    }
    for (const e of before.filter((x) => x.summary === 'CS101')) expect(joinUrl(e)).toMatch(/^https:\/\//);

    await world.grant(users.get(CAROL)!);
    expect(await world.sync('cs')).toMatchObject({ created: 3, blocked: 0 });
    const after = events(await publishedIcs(world, 'cs'));
    // The same events (same UIDs), now each with its meeting's link.
    expect(after.map((e) => e.uid).sort()).toEqual(before.map((e) => e.uid).sort());
    const links = new Set(world.emulator.control.meetings().map((m) => m.joinWebUrl));
    for (const e of after) {
      expect(links.has(String(joinUrl(e)))).toBe(true);
      expect(e.description).not.toContain(NO_MEETING_YET);
    }
    expect(after.find((e) => e.summary === 'PH101')?.description).toMatch(
      /^Bring your lab book\.\nSafety briefing first\.\n\nLecturer: carol\n\nJoin the Microsoft Teams meeting:\nhttps:/,
    );
  });

  it('a SUMMARY with CR, VT or U+2028 cannot add a property or an event', async () => {
    const world = await harness.world();
    await world.grant(world.seed([ADA]).get(ADA)!);
    const injected = 'END:VEVENT{}BEGIN:VEVENT{}UID:fake{}URL:https://evil.example/join';
    const summaries = ['\r', '\u000b', '\u2028', '\u0085', '\\n'].map(
      (brk) => `Lab${brk}${injected.replaceAll('{}', brk)}`,
    );
    await world.upload(
      'cs',
      calendar(
        ...summaries.map((summary, i) =>
          vevent({ uid: `lab-${i}@uni`, organizer: ADA, summary, start: `2027-01-1${i + 1}T09:00:00Z` }),
        ),
      ),
    );
    const run = await world.sync('cs');
    const ics = await publishedIcs(world, 'cs');
    // The strict parser sees exactly the events that have rows, each with one UID and no evil link.
    const rows = await world.services.store.meetings.listByFeed('cs');
    expect(rows.length).toBe(run.created);
    expect(rows).toHaveLength(5);
    // The stored subjects still hold the raw characters: the calendar is what makes them safe.
    expect(rows.some((r) => r.subject.includes('\r'))).toBe(true);
    expect(rows.some((r) => r.subject.includes('\u000b'))).toBe(true);
    const parsed = events(ics);
    expect(parsed.map((e) => e.uid).sort()).toEqual(rows.map((r) => `${r.key}@timetable-sync`).sort());
    for (const e of parsed) {
      expect(e.component.getAllProperties('uid')).toHaveLength(1);
      expect(String(e.component.getFirstPropertyValue('url'))).not.toContain('evil');
    }
    // A reader that splits on every kind of line break sees the same events and no injected line.
    // eslint-disable-next-line no-control-regex
    const lines = ics.split(/\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/).filter((l) => l !== '');
    expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(rows.length);
    for (const line of lines) expect(line).toMatch(/^( |[A-Z-]+[;:])/);
    expect(lines.filter((l) => /^(UID:fake|URL:https:\/\/evil)/.test(l))).toEqual([]);
  });

  it("the published calendar takes the timetable's own name (X-WR-CALNAME)", async () => {
    const world = await harness.world();
    await world.grant(world.seed([ADA]).get(ADA)!);
    const named = (name: string) =>
      calendar(
        vevent({ uid: 'cs101@uni', organizer: ADA, summary: 'CS101', start: '2027-01-11T09:00:00Z' }),
      ).replace('VERSION:2.0\r\n', `VERSION:2.0\r\nX-WR-CALNAME:${name}\r\n`);
    await world.upload('cs', named('Computer Science\\, Year 1'));
    const name = async () =>
      new ICAL.Component(ICAL.parse(await publishedIcs(world, 'cs')) as unknown[]).getFirstPropertyValue(
        'x-wr-calname',
      );
    expect(await name()).toBe('Computer Science, Year 1');
    // A new version with another name renames the calendar.
    await world.upload('cs', named('CS Year 1 (Spring)'));
    expect(await name()).toBe('CS Year 1 (Spring)');

    // A URL feed takes its name when a sync reads the body.
    const fetchFeed: FeedFetcher = () =>
      Promise.resolve({ status: 'ok', body: named('Physics'), etag: null, lastModified: null });
    await registerFeedUrl(world.services, 'ph', 'https://timetable.uni.example/ph.ics');
    await world.sync('ph', { deps: { fetchFeed } });
    expect((await world.services.store.feeds.get('ph'))?.calendarName).toBe('Physics');
  });
});
