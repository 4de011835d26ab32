import { request as httpRequest } from 'node:http';

import ICAL from 'ical.js';
import { beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import {
  createCalendarRoutes,
  createFeedsRoutes,
  createStatusRoutes,
  type RouteDefinition,
} from '../../src/http/index.js';
import { NO_MEETING_YET } from '../../src/calendar/render.js';
import { serveAdmin } from '../../src/web/serve.js';
import { useAzurite } from '../support/azurite.js';
import { feedRecord } from '../support/records.js';
import { FEED_ICS, KEY, call, expectProblem, makeServices, meetingRecord } from './http-support.js';

const azurite = useAzurite();
const BASE = 'https://sync.uni.example';

describe('published calendars', () => {
  let services: AppServices;
  let routes: RouteDefinition[];
  let token: string;
  const joinUrls: string[] = [];

  beforeAll(async () => {
    services = await makeServices(azurite, { env: { PUBLIC_BASE_URL: BASE } });
    const options = { services: () => Promise.resolve(services), requireKey: KEY };
    routes = [
      ...createFeedsRoutes(options),
      ...createCalendarRoutes(options),
      ...createStatusRoutes(options),
    ];
    expect(
      (
        await call(routes, 'feedsPut', 'PUT', 'feeds/maths', {
          params: { id: 'maths' },
          body: FEED_ICS,
          headers: { 'content-type': 'text/calendar' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(routes, 'feedsPut', 'PUT', 'feeds/physics', {
          params: { id: 'physics' },
          body: FEED_ICS,
          headers: { 'content-type': 'text/calendar' },
        })
      ).status,
    ).toBe(201);
    token = (await services.store.feeds.get('maths'))?.calendarToken as string;
    const active = [
      meetingRecord('maths', {
        subject: 'Algorithms lecture — week 1 (ÜBUNG, Raum 1.01; bring laptops)',
        start: '2026-09-14T08:15:00Z',
        end: '2026-09-14T10:00:00Z',
      }),
      meetingRecord('maths', {
        subject: 'Algorithms lecture',
        start: '2026-09-21T08:15:00Z',
        end: '2026-09-21T10:00:00Z',
        recurrenceId: '2026-09-21T08:15:00Z',
      }),
      meetingRecord('maths', {
        subject: 'Databases seminar',
        organizerEmail: 'chen.wei@uni.example',
        start: '2026-09-15T12:00:00Z',
        end: '2026-09-15T13:30:00Z',
      }),
    ];
    for (const r of active) {
      joinUrls.push(r.joinWebUrl as string);
      await services.store.meetings.put(r);
    }
    await services.store.meetings.put(
      meetingRecord('maths', { subject: 'Cancelled one', state: 'cancelled' }),
    );
    await services.store.meetings.put(
      meetingRecord('maths', { subject: 'Being cancelled', state: 'cancelling' }),
    );
    await services.store.meetings.put(
      meetingRecord('maths', { subject: 'Blocked', state: 'blocked', meetingId: null, joinWebUrl: null }),
    );
    await services.store.meetings.put(
      meetingRecord('maths', {
        subject: 'Long ago',
        start: '2026-06-01T08:00:00Z',
        end: '2026-06-01T09:00:00Z',
      }),
    );
    await services.store.meetings.put(
      meetingRecord('physics', {
        subject: 'Physics with Ada',
        start: '2026-09-16T08:00:00Z',
        end: '2026-09-16T09:00:00Z',
      }),
    );
  });

  const feedIcs = (init: Parameters<typeof call>[4] = {}) =>
    call(routes, 'calendarFeed', 'GET', 'calendars/maths.ics', {
      key: false,
      params: { file: 'maths.ics' },
      query: { token },
      ...init,
    });

  it('serves an .ics that parses back with ical.js: one VEVENT per session, with its join URL once it has a meeting', async () => {
    const result = await feedIcs();
    expect(result.status, result.text).toBe(200);
    expect(result.headers['content-type']).toBe('text/calendar; charset=utf-8');
    expect(result.headers['cache-control']).toBe('private, max-age=300');
    const calendar = new ICAL.Component(ICAL.parse(result.text) as unknown[]);
    const events = calendar.getAllSubcomponents('vevent');
    expect(events).toHaveLength(4);
    const linked = events.filter((e) => e.hasProperty('url'));
    const byUrl = new Map(linked.map((e) => [String(e.getFirstPropertyValue('url')), e]));
    expect([...byUrl.keys()].sort()).toEqual([...joinUrls].sort());
    for (const [url, event] of byUrl) {
      expect(event.getFirstPropertyValue('x-microsoft-skypeteamsmeetingurl')).toBe(url);
      expect(String(event.getFirstPropertyValue('location'))).toContain(url);
      expect(String(event.getFirstPropertyValue('description'))).toContain(url);
      expect(String(event.getFirstPropertyValue('uid'))).toMatch(/^[0-9a-f]{32}@timetable-sync$/);
      const start = event.getFirstPropertyValue('dtstart') as ICAL.Time;
      expect(start.zone?.tzid).toBe('UTC');
    }
    const first = new ICAL.Event(events[0]);
    expect(first.summary).toBe('Algorithms lecture — week 1 (ÜBUNG, Raum 1.01; bring laptops)');
    expect(first.startDate.toJSDate().toISOString()).toBe('2026-09-14T08:15:00.000Z');
    expect(first.endDate.toJSDate().toISOString()).toBe('2026-09-14T10:00:00.000Z');
    // The blocked session is there, with its time and the status instead of a link.
    const [blocked] = events.filter((e) => !e.hasProperty('url')).map((e) => new ICAL.Event(e));
    expect(blocked?.summary).toBe('Blocked');
    expect(blocked?.description).toContain(NO_MEETING_YET);
    expect(blocked?.component.hasProperty('x-microsoft-skypeteamsmeetingurl')).toBe(false);
    expect(result.text).not.toMatch(/Cancelled one|Being cancelled|Long ago|Physics/);
  });

  it('folds lines at 75 octets with CRLF', async () => {
    const { text } = await feedIcs();
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = text.split('\r\n');
    expect(lines.some((l) => l.startsWith(' '))).toBe(true);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
  });

  it('UIDs are stable across requests and the body is byte-identical (same ETag)', async () => {
    const a = await feedIcs();
    const b = await feedIcs();
    expect(a.text).toBe(b.text);
    expect(a.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(a.headers.etag).toBe(b.headers.etag);
  });

  it('If-None-Match with the ETag gives 304 without a body; a changed calendar gets a new ETag', async () => {
    const first = await feedIcs();
    const etag = first.headers.etag as string;
    const notModified = await feedIcs({ headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    expect(notModified.headers['cache-control']).toBe('private, max-age=300');
    await services.store.meetings.put(
      meetingRecord('maths', {
        subject: 'Extra session',
        start: '2026-09-30T08:00:00Z',
        end: '2026-09-30T09:00:00Z',
      }),
    );
    const changed = await feedIcs({ headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.text).toContain('Extra session');
  });

  it('serves the JSON variant', async () => {
    const result = await call(routes, 'calendarFeed', 'GET', 'calendars/maths.json', {
      key: false,
      params: { file: 'maths.json' },
      query: { token },
    });
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = result.json() as {
      name: string;
      events: Array<{ uid: string; joinUrl: string; start: string }>;
    };
    expect(body.name).toBe('maths');
    expect(body.events.map((e) => e.joinUrl)).toEqual(expect.arrayContaining(joinUrls));
    expect(body.events.map((e) => e.start)).toEqual([...body.events.map((e) => e.start)].sort());
    expect(result.headers.etag).toBeTruthy();
  });

  it('404 (same body) for a wrong, missing or other feed’s token, an unknown feed, a bad id or extension', async () => {
    const physicsToken = (await services.store.feeds.get('physics'))?.calendarToken as string;
    const cases: Array<[string, Record<string, string>]> = [
      ['maths.ics', { token: `${token}x` }],
      ['maths.ics', {}],
      ['maths.ics', { token: '' }],
      ['maths.ics', { token: physicsToken }],
      ['nosuchfeed.ics', { token }],
      ['bad id!.ics', { token }],
      ['maths.pdf', { token }],
      ['maths', { token }],
    ];
    const bodies = new Set<string>();
    for (const [file, query] of cases) {
      const result = await call(routes, 'calendarFeed', 'GET', `calendars/${file}`, {
        key: false,
        params: { file },
        query,
      });
      const problem = expectProblem(result, 404);
      bodies.add(JSON.stringify(problem));
      expect(result.text).not.toContain(token);
    }
    expect(bodies.size).toBe(1);
  });

  it('a rotated feed token stops the old link', async () => {
    const rotated = await call(routes, 'feedsRotateCalendarToken', 'POST', 'feeds/physics/calendar-token', {
      params: { id: 'physics' },
    });
    const fresh = new URL((rotated.json().calendar as { ics: string }).ics).searchParams.get(
      'token',
    ) as string;
    const old = 'irrelevant';
    expect(
      (
        await call(routes, 'calendarFeed', 'GET', 'calendars/physics.ics', {
          key: false,
          params: { file: 'physics.ics' },
          query: { token: fresh },
        })
      ).status,
    ).toBe(200);
    expectProblem(
      await call(routes, 'calendarFeed', 'GET', 'calendars/physics.ics', {
        key: false,
        params: { file: 'physics.ics' },
        query: { token: old },
      }),
      404,
    );
  });

  it('a Host header cannot change a link: every link is built from PUBLIC_BASE_URL', async () => {
    const evil = { origin: 'http://evil.example', headers: { host: 'evil.example' } };
    const feed = await call(routes, 'feedsGet', 'GET', 'feeds/maths', { params: { id: 'maths' }, ...evil });
    const links = Object.values(feed.json().calendar as Record<string, string>);
    expect(links).toHaveLength(3);
    for (const link of links)
      expect(link).toMatch(/^(https|webcal):\/\/sync\.uni\.example\/api\/calendars\//);
    const lecturer = await call(
      routes,
      'calendarOrganizerLinks',
      'GET',
      'calendar-links/organizers/ada@uni.example',
      {
        params: { email: 'ada@uni.example' },
        ...evil,
      },
    );
    expect(JSON.stringify(lecturer.json())).not.toContain('evil');
    expect((lecturer.json().calendar as { ics: string }).ics.startsWith(`${BASE}/api/`)).toBe(true);
  });

  it('without PUBLIC_BASE_URL no link is made from the request: a 503 names the setting, and the token is not rotated', async () => {
    const bare = await makeServices(azurite);
    const options = { services: () => Promise.resolve(bare), requireKey: KEY };
    const r = [...createFeedsRoutes(options), ...createCalendarRoutes(options)];
    await call(r, 'feedsPut', 'PUT', 'feeds/bare', {
      params: { id: 'bare' },
      body: FEED_ICS,
      headers: { 'content-type': 'text/calendar' },
    });
    const before = (await bare.store.feeds.get('bare'))?.calendarToken;
    expectProblem(
      await call(r, 'feedsGet', 'GET', 'feeds/bare', { params: { id: 'bare' } }),
      503,
      /PUBLIC_BASE_URL/,
    );
    expectProblem(
      await call(r, 'feedsRotateCalendarToken', 'POST', 'feeds/bare/calendar-token', {
        params: { id: 'bare' },
      }),
      503,
      /PUBLIC_BASE_URL/,
    );
    expect((await bare.store.feeds.get('bare'))?.calendarToken).toBe(before);
    expectProblem(
      await call(r, 'calendarOrganizerLinks', 'GET', 'calendar-links/organizers/ada@uni.example', {
        params: { email: 'ada@uni.example' },
      }),
      503,
      /PUBLIC_BASE_URL/,
    );
  });

  it('the local server links to its own listen address, whatever Host the request names', async () => {
    const bare = await makeServices(azurite);
    await bare.store.feeds.create(feedRecord({ id: 'local', calendarToken: 'local-token-0123456789abcdef' }));
    const server = await serveAdmin({ services: bare, adminKey: KEY, port: 0, runQueuedSyncs: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const url = new URL(`${server.origin}/api/feeds/local`);
        const req = httpRequest(url, { headers: { host: 'evil.example', 'x-functions-key': KEY } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      const links = (JSON.parse(body) as { calendar: Record<string, string> }).calendar;
      expect(links.ics).toBe(`${server.origin}/api/calendars/local.ics?token=local-token-0123456789abcdef`);
      expect(body).not.toContain('evil');
    } finally {
      await server.stop();
    }
  });

  describe('organizer calendars', () => {
    const email = 'ada.lovelace@uni.example';
    let links: { ics: string; json: string };

    beforeAll(async () => {
      const result = await call(
        routes,
        'calendarOrganizerLinks',
        'GET',
        `calendar-links/organizers/${email}`,
        { params: { email: 'Ada.Lovelace@UNI.example' } },
      );
      expect(result.status, result.text).toBe(200);
      links = result.json().calendar as { ics: string; json: string };
    });

    const organizerCall = (file: string, organizerToken: string | null) =>
      call(routes, 'calendarOrganizer', 'GET', `calendars/organizers/${file}`, {
        key: false,
        params: { file },
        query: organizerToken === null ? {} : { token: organizerToken },
      });

    it('the admin gets a link whose token opens that organizer’s sessions across feeds', async () => {
      expect(links.ics).toMatch(
        /\/api\/calendars\/organizers\/ada\.lovelace%40uni\.example\.ics\?token=[\w-]{43}$/,
      );
      const organizerToken = new URL(links.ics).searchParams.get('token') as string;
      const result = await organizerCall(`${email}.ics`, organizerToken);
      expect(result.status, result.text).toBe(200);
      const events = new ICAL.Component(ICAL.parse(result.text) as unknown[]).getAllSubcomponents('vevent');
      const summaries = events.map((e) => String(e.getFirstPropertyValue('summary')));
      expect(summaries).toContain('Physics with Ada');
      expect(summaries).not.toContain('Databases seminar'); // Chen's
      expect(summaries.filter((s) => s.startsWith('Algorithms'))).toHaveLength(2);
      const json = await organizerCall(`${email}.json`, organizerToken);
      expect(json.status).toBe(200);
    });

    it('404 for a token of another organizer, a feed token, or none', async () => {
      const organizerToken = new URL(links.ics).searchParams.get('token') as string;
      expectProblem(await organizerCall('chen.wei@uni.example.ics', organizerToken), 404);
      expectProblem(await organizerCall(`${email}.ics`, token), 404);
      expectProblem(await organizerCall(`${email}.ics`, null), 404);
      expectProblem(await organizerCall(`not-an-email.ics`, organizerToken), 404);
    });

    it('rotating the organizer key invalidates every organizer link', async () => {
      const organizerToken = new URL(links.ics).searchParams.get('token') as string;
      expect((await organizerCall(`${email}.ics`, organizerToken)).status).toBe(200);
      const rotated = await call(
        routes,
        'calendarRotateOrganizerKey',
        'POST',
        'calendar-links/organizer-key',
      );
      expect(rotated.status).toBe(200);
      expectProblem(await organizerCall(`${email}.ics`, organizerToken), 404);
      const renewed = await call(
        routes,
        'calendarOrganizerLinks',
        'GET',
        `calendar-links/organizers/${email}`,
        { params: { email } },
      );
      const newToken = new URL((renewed.json().calendar as { ics: string }).ics).searchParams.get(
        'token',
      ) as string;
      expect(newToken).not.toBe(organizerToken);
      expect((await organizerCall(`${email}.ics`, newToken)).status).toBe(200);
    });

    it('organizer links are admin-only', async () => {
      expectProblem(
        await call(routes, 'calendarOrganizerLinks', 'GET', `calendar-links/organizers/${email}`, {
          params: { email },
          key: false,
        }),
        401,
      );
      expectProblem(
        await call(routes, 'calendarOrganizerLinks', 'GET', 'calendar-links/organizers/x', {
          params: { email: 'not an email' },
        }),
        400,
      );
    });
  });

  describe('status', () => {
    it('GET /api/health without Graph configured is healthy (admin routes work) and tells only healthy/storage/graph', async () => {
      const result = await call(routes, 'health', 'GET', 'health', { key: false });
      expect(result.status).toBe(200);
      expect(result.json()).toEqual({ healthy: true, storage: 'ok', graph: 'not configured' });
    });

    it('GET /api/health is 503 (no detail) when services cannot be built', async () => {
      const broken = createStatusRoutes({
        services: () => Promise.reject(new Error('AccountKey=abc; storage down')),
      });
      const result = await call(broken, 'health', 'GET', 'health', { key: false });
      expect(result.status).toBe(503);
      expect(result.json()).toEqual({ healthy: false, storage: 'failed', graph: 'failed' });
      const status = await call(
        createStatusRoutes({ services: () => Promise.reject(new Error('AccountKey=abc')), requireKey: KEY }),
        'status',
        'GET',
        'status',
      );
      expectProblem(status, 503);
      expect(status.text).not.toContain('AccountKey');
    });

    it('GET /api/status is the admin report', async () => {
      const result = await call(routes, 'status', 'GET', 'status');
      expect(result.status).toBe(200);
      const report = result.json() as {
        feeds: Array<{ id: string; meetings: Record<string, number> }>;
        poison: { count: number };
      };
      expect(report.feeds.find((f) => f.id === 'maths')?.meetings.active).toBeGreaterThanOrEqual(4);
      expect(report.poison.count).toBe(0);
      expect(result.text).not.toMatch(/teams\.microsoft\.com|calendarToken/);
    });
  });
});
