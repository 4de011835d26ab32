import { beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import { createFeedsRoutes, type RouteDefinition } from '../../src/http/index.js';
import { useAzurite } from '../support/azurite.js';
import {
  FEED_ICS,
  KEY,
  MAX_FEED_BYTES,
  NOW,
  call,
  expectProblem,
  makeServices,
  meetingRecord,
  snapshotFeed,
} from './http-support.js';

const azurite = useAzurite();

const ICS = { 'content-type': 'text/calendar; charset=utf-8' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('feeds API', () => {
  let services: AppServices;
  let routes: RouteDefinition[];

  beforeAll(async () => {
    services = await makeServices(azurite, { env: { PUBLIC_BASE_URL: 'https://sync.uni.example/' } });
    routes = createFeedsRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
  });

  const put = (id: string, init: Parameters<typeof call>[4]) =>
    call(routes, 'feedsPut', 'PUT', `feeds/${id}`, { params: { id }, ...init });

  describe('upload (text/calendar)', () => {
    it('creates the feed, stores the body and reports sessions, skipped events and a queued sync', async () => {
      const result = await put('maths-y1', {
        body: FEED_ICS,
        headers: ICS,
        query: { timeZone: 'Europe/London', horizonDays: '60' },
      });
      expect(result.status, result.text).toBe(201);
      const body = result.json() as {
        feed: Record<string, unknown>;
        created: boolean;
        sessions: number;
        skipped: Array<{ uid: string; reason: string }>;
        syncQueued: boolean;
      };
      expect(body.created).toBe(true);
      expect(body.sessions).toBe(4); // 3 lectures + 1 seminar; office hours have no organizer
      expect(body.skipped).toEqual([
        expect.objectContaining({ uid: 'no-organizer@uni.example', reason: 'noOrganizer' }),
      ]);
      expect(body.feed).not.toHaveProperty('calendarToken');
      expect(body.feed).toMatchObject({
        id: 'maths-y1',
        source: 'upload',
        timeZone: 'Europe/London',
        horizonDays: 60,
      });
      expect(body.syncQueued).toBe(true);
      const stored = await services.store.feeds.get('maths-y1');
      expect(stored?.bodyVersion).toBeTruthy();
      expect(await services.store.feedBodies.get('maths-y1', stored?.bodyVersion as string)).toBe(FEED_ICS);
    });

    it('a second upload is a new version (200, created false)', async () => {
      await put('versions', { body: FEED_ICS, headers: ICS });
      const result = await put('versions', {
        body: FEED_ICS.replace('Databases seminar', 'Databases tutorial'),
        headers: ICS,
      });
      expect(result.status).toBe(200);
      expect(result.json().created).toBe(false);
      expect(await services.store.feedBodies.list('versions')).toHaveLength(2);
    });

    it('accepts a binary (bytes) body that is UTF-8 iCalendar', async () => {
      const result = await put('bytes-feed', {
        body: new TextEncoder().encode(FEED_ICS),
        headers: { 'content-type': 'text/calendar' },
      });
      expect(result.status, result.text).toBe(201);
    });

    it('413 when Content-Length is over MAX_FEED_BYTES (before reading)', async () => {
      const result = await put('big-declared', {
        body: FEED_ICS,
        headers: { ...ICS, 'content-length': String(MAX_FEED_BYTES + 1) },
      });
      expectProblem(result, 413, /Content-Length.*limit is 4096 bytes \(MAX_FEED_BYTES\)/);
      expect(await services.store.feeds.get('big-declared')).toBeNull();
    });

    it('413 when the body itself is over MAX_FEED_BYTES', async () => {
      const padding = Array.from({ length: 80 }, (_, i) => `X-PAD-${i}:${'y'.repeat(60)}`).join('\r\n');
      const big = FEED_ICS.replace(
        'PRODID:-//test//timetable//EN',
        `PRODID:-//test//timetable//EN\r\n${padding}`,
      );
      expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_FEED_BYTES);
      const result = await put('big-actual', { body: big, headers: ICS });
      expectProblem(result, 413, /limit is 4096 bytes \(MAX_FEED_BYTES\)/);
      expect(await services.store.feeds.get('big-actual')).toBeNull();
    });

    it('400 invalid-calendar for text that is not iCalendar', async () => {
      const result = await put('not-ical', { body: '<html><body>Timetable</body></html>', headers: ICS });
      const problem = expectProblem(result, 400);
      expect(problem.type).toMatch(/invalid-calendar$/);
      expect(await services.store.feeds.get('not-ical')).toBeNull();
    });

    it('400 for binary garbage (NUL bytes)', async () => {
      const garbage = new Uint8Array([0x42, 0x45, 0x00, 0xff, 0xfe, 0x00, 0x13, 0x37]);
      expectProblem(await put('garbage', { body: garbage, headers: ICS }), 400, /binary data/);
    });

    it('400 for bytes that are not UTF-8', async () => {
      expectProblem(
        await put('latin1', { body: new Uint8Array([0x42, 0x45, 0x47, 0xe9, 0x49, 0x4e]), headers: ICS }),
        400,
        /UTF-8/,
      );
    });

    it('400 for an empty body', async () => {
      expectProblem(await put('empty-body', { body: '', headers: ICS }), 400, /empty/);
    });

    it('400 for a calendar without any VEVENT', async () => {
      const empty = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nEND:VCALENDAR\r\n';
      expectProblem(await put('no-events', { body: empty, headers: ICS }), 400, /no VEVENT/);
      expect(await services.store.feeds.get('no-events')).toBeNull();
    });

    it('400 for a truncated calendar (no END:VCALENDAR)', async () => {
      const truncated = FEED_ICS.slice(0, FEED_ICS.indexOf('BEGIN:VEVENT\r\nUID:db-seminar'));
      expectProblem(await put('truncated', { body: truncated, headers: ICS }), 400, /truncated/);
      expect(await services.store.feeds.get('truncated')).toBeNull();
    });

    it('400 when every event is unusable, with the per-event warnings', async () => {
      const broken = [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'BEGIN:VEVENT',
        'UID:a@x',
        'DTSTART:garbage',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:b@x',
        'DTSTART:20260914T25',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n');
      const problem = expectProblem(
        await put('all-broken', { body: broken, headers: ICS }),
        400,
        /none of its 2 events/,
      );
      expect(problem.warnings).toEqual([
        expect.objectContaining({ line: 3 }),
        expect.objectContaining({ line: 7 }),
      ]);
      expect(await services.store.feeds.get('all-broken')).toBeNull();
    });

    it('accepts a calendar where only some events are broken and names them in warnings', async () => {
      const partly = FEED_ICS.replace(
        'END:VCALENDAR',
        'BEGIN:VEVENT\r\nUID:broken@uni.example\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR',
      );
      const result = await put('partly', { body: partly, headers: ICS });
      expect(result.status, result.text).toBe(201);
      expect(result.json().warnings).toEqual([
        expect.objectContaining({
          uid: 'broken@uni.example',
          reason: expect.stringMatching(/DTSTART/) as unknown,
        }),
      ]);
    });

    it('415 for another content type, and for none', async () => {
      expectProblem(
        await put('wrong-type', { body: FEED_ICS, headers: { 'content-type': 'text/plain' } }),
        415,
        /text\/calendar.*application\/json/,
      );
      expectProblem(
        await put('wrong-type', { body: FEED_ICS, headers: { 'content-type': 'application/octet-stream' } }),
        415,
      );
      expectProblem(
        await put('wrong-type', { body: new TextEncoder().encode(FEED_ICS) }),
        415,
        /no Content-Type/,
      );
      expect(await services.store.feeds.get('wrong-type')).toBeNull();
    });

    it('415 for a non-UTF-8 charset', async () => {
      expectProblem(
        await put('charset', {
          body: FEED_ICS,
          headers: { 'content-type': 'text/calendar; charset=iso-8859-1' },
        }),
        415,
        /charset/,
      );
    });

    it('400 for bad settings in the query and a bad feed id', async () => {
      expectProblem(
        await put('q1', { body: FEED_ICS, headers: ICS, query: { horizonDays: 'many' } }),
        400,
        /horizonDays/,
      );
      expectProblem(
        await put('q2', { body: FEED_ICS, headers: ICS, query: { horizonDays: '9999' } }),
        400,
        /horizonDays/,
      );
      expectProblem(
        await put('q3', { body: FEED_ICS, headers: ICS, query: { timeZone: 'Mars/Olympus' } }),
        400,
        /timeZone/,
      );
      expectProblem(
        await put('q4', { body: FEED_ICS, headers: ICS, query: { organizer: 'not an email' } }),
        400,
        /defaultOrganizer/,
      );
      expectProblem(await put('bad id!', { body: FEED_ICS, headers: ICS }), 400, /feed id/);
    });

    it('a rejected upload leaves the previous version, its record and its meetings untouched', async () => {
      expect((await put('stable', { body: FEED_ICS, headers: ICS })).status).toBe(201);
      await services.store.meetings.put(meetingRecord('stable'));
      await services.store.meetings.put(
        meetingRecord('stable', { state: 'blocked', meetingId: null, joinWebUrl: null }),
      );
      const before = await snapshotFeed(services, 'stable');
      expect(before.meetings).toHaveLength(2);

      const rejections = [
        await put('stable', { body: new Uint8Array([0, 1, 2, 3, 0xff]), headers: ICS }),
        await put('stable', { body: 'this is not a calendar', headers: ICS }),
        await put('stable', { body: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n', headers: ICS }),
        await put('stable', { body: 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage', headers: ICS }),
        await put('stable', { body: FEED_ICS.slice(0, FEED_ICS.indexOf('END:VCALENDAR')), headers: ICS }),
        await put('stable', {
          body: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
          headers: ICS,
        }),
        await put('stable', { body: FEED_ICS, headers: { ...ICS, 'content-length': '999999' } }),
        await put('stable', { body: FEED_ICS, headers: { 'content-type': 'image/png' } }),
        await put('stable', { body: '{"url": ', headers: JSON_TYPE }),
      ];
      expect(rejections.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 413, 415, 400]);
      for (const r of rejections) expect(r.headers['content-type']).toBe('application/problem+json');

      const after = await snapshotFeed(services, 'stable');
      expect(after.feed?.etag).toBe(before.feed?.etag);
      expect(after).toEqual(before);
    });
  });

  describe('register and change (application/json)', () => {
    it('registers an https URL feed (201) and re-points it (200)', async () => {
      const created = await put('remote', {
        body: JSON.stringify({
          url: 'https://timetable.example.org/maths.ics',
          defaultOrganizer: 'Ada.Lovelace@uni.example',
          timeZone: 'Europe/Berlin',
        }),
        headers: JSON_TYPE,
      });
      expect(created.status, created.text).toBe(201);
      expect(created.json().feed).toMatchObject({
        source: 'url',
        url: 'https://timetable.example.org/maths.ics',
        defaultOrganizer: 'ada.lovelace@uni.example',
      });
      const moved = await put('remote', {
        body: JSON.stringify({ url: 'https://timetable.example.org/maths-v2.ics' }),
        headers: JSON_TYPE,
      });
      expect(moved.status).toBe(200);
      expect((await services.store.feeds.get('remote'))?.url).toBe(
        'https://timetable.example.org/maths-v2.ics',
      );
    });

    it('changes settings of an existing feed without a url', async () => {
      await put('settings', { body: FEED_ICS, headers: ICS });
      const result = await put('settings', {
        body: JSON.stringify({ horizonDays: 30, enabled: false }),
        headers: JSON_TYPE,
      });
      expect(result.status, result.text).toBe(200);
      expect(result.json().feed).toMatchObject({ horizonDays: 30, enabled: false, source: 'upload' });
      expect(result.json().syncQueued).toBe(false); // disabled feeds are not queued
    });

    it('404 for settings of an unknown feed, 400 for a body that changes nothing', async () => {
      expectProblem(
        await put('settings', { body: JSON.stringify({ timeZone: 'Mars/Olympus' }), headers: JSON_TYPE }),
        400,
        /timeZone 'Mars\/Olympus'/,
      );
      expectProblem(
        await put('nobody-here', { body: JSON.stringify({ horizonDays: 30 }), headers: JSON_TYPE }),
        404,
        /not registered/,
      );
      expectProblem(await put('settings', { body: '{}', headers: JSON_TYPE }), 400, /changes nothing/);
    });

    it('400 for malformed JSON, wrong types and unknown fields', async () => {
      expectProblem(
        await put('j', { body: '{"url": "https://x.example/a.ics"', headers: JSON_TYPE }),
        400,
        /not valid JSON/,
      );
      const typed = expectProblem(
        await put('j', { body: JSON.stringify({ url: 42, enabled: 'yes' }), headers: JSON_TYPE }),
        400,
        /url/,
      );
      expect(typed.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'url' }),
          expect.objectContaining({ path: 'enabled' }),
        ]),
      );
      expectProblem(
        await put('j', {
          body: JSON.stringify({ url: 'https://x.example/a.ics', colour: 'red' }),
          headers: JSON_TYPE,
        }),
        400,
        /colour|unrecognized/i,
      );
      expectProblem(await put('j', { body: '[1,2]', headers: JSON_TYPE }), 400);
      expect(await services.store.feeds.get('j')).toBeNull();
    });

    it.each([
      ['https://127.0.0.1/feed.ics'],
      ['https://10.0.0.1/feed.ics'],
      ['https://169.254.169.254/latest/meta-data'],
      ['https://[::1]/feed.ics'],
      ['https://[::ffff:127.0.0.1]/feed.ics'],
      ['https://[fd00::1]/feed.ics'],
      ['https://192.168.1.10/feed.ics'],
      ['https://localhost/feed.ics'],
      ['https://intranet.localhost/feed.ics'],
    ])('refuses SSRF target %s with a 400 problem and stores nothing', async (url) => {
      const problem = expectProblem(
        await put('ssrf', { body: JSON.stringify({ url }), headers: JSON_TYPE }),
        400,
        /private or local|local name/,
      );
      expect(problem.code).toBe('blockedAddress');
      expect(await services.store.feeds.get('ssrf')).toBeNull();
    });

    it.each([
      ['http://timetable.example.org/feed.ics'],
      ['ftp://timetable.example.org/feed.ics'],
      ['https://user:pw@timetable.example.org/feed.ics'],
      ['not a url'],
    ])('refuses %s (scheme, credentials, syntax)', async (url) => {
      const problem = expectProblem(
        await put('badurl', { body: JSON.stringify({ url }), headers: JSON_TYPE }),
        400,
      );
      expect(problem.code).toBe('badUrl');
      expect(problem.detail).not.toContain('pw@');
    });
  });

  describe('read, list, sync, plan, confirm, token, delete', () => {
    it('lists feeds without calendar tokens; a single GET carries the calendar links (from PUBLIC_BASE_URL)', async () => {
      await put('listed', { body: FEED_ICS, headers: ICS });
      const list = await call(routes, 'feedsList', 'GET', 'feeds');
      expect(list.status).toBe(200);
      expect(list.text).not.toMatch(/calendarToken/);
      const stored = await services.store.feeds.get('listed');
      expect(list.text).not.toContain(stored?.calendarToken);
      expect((list.json().feeds as Array<{ id: string }>).map((f) => f.id)).toContain('listed');

      const one = await call(routes, 'feedsGet', 'GET', 'feeds/listed', { params: { id: 'listed' } });
      expect(one.status).toBe(200);
      expect(one.json().feed).not.toHaveProperty('calendarToken');
      const calendar = one.json().calendar as { ics: string; json: string; webcal: string };
      // The request came to localhost:7071; the links name PUBLIC_BASE_URL (without its trailing slash).
      expect(calendar.ics).toBe(
        `https://sync.uni.example/api/calendars/listed.ics?token=${stored?.calendarToken}`,
      );
      expect(calendar.json).toMatch(/\/api\/calendars\/listed\.json\?token=/);
      expect(calendar.webcal).toMatch(/^webcal:\/\/sync\.uni\.example\//);
    });

    it('404 problem for an unknown feed on every feed route', async () => {
      const id = 'no-such-feed';
      const params = { id };
      expectProblem(await call(routes, 'feedsGet', 'GET', `feeds/${id}`, { params }), 404, /no-such-feed/);
      expectProblem(await call(routes, 'feedsDelete', 'DELETE', `feeds/${id}`, { params }), 404);
      expectProblem(await call(routes, 'feedsSync', 'POST', `feeds/${id}/sync`, { params }), 404);
      expectProblem(await call(routes, 'feedsPlan', 'GET', `feeds/${id}/plan`, { params }), 404);
      expectProblem(
        await call(routes, 'feedsConfirmCancellations', 'POST', `feeds/${id}/confirm-cancellations`, {
          params,
        }),
        404,
      );
      expectProblem(
        await call(routes, 'feedsRotateCalendarToken', 'POST', `feeds/${id}/calendar-token`, { params }),
        404,
      );
    });

    it('POST sync enqueues a message and answers 202', async () => {
      await put('to-sync', { body: FEED_ICS, headers: ICS });
      const result = await call(routes, 'feedsSync', 'POST', 'feeds/to-sync/sync', {
        params: { id: 'to-sync' },
      });
      expect(result.status).toBe(202);
      expect(result.json()).toEqual({ feedId: 'to-sync', queued: true });
      const { names } = services.store;
      const { QueueClient } = await import('@azure/storage-queue');
      const queue = new QueueClient(azurite.connectionString, names.queue);
      const peeked = await queue.peekMessages({ numberOfMessages: 32 });
      const texts = peeked.peekedMessageItems.map(
        (m) => Buffer.from(m.messageText, 'base64').toString('utf8') + m.messageText,
      );
      expect(texts.some((t) => t.includes('to-sync') && t.includes('admin'))).toBe(true);
    });

    it('GET plan is a dry run: creates for every session, nothing written, no join URLs', async () => {
      await put('planned', { body: FEED_ICS, headers: ICS });
      await services.store.meetings.put(
        meetingRecord('planned', { start: '2026-10-01T08:00:00Z', end: '2026-10-01T09:00:00Z' }),
      );
      const before = await snapshotFeed(services, 'planned');
      const result = await call(routes, 'feedsPlan', 'GET', 'feeds/planned/plan', {
        params: { id: 'planned' },
      });
      expect(result.status, result.text).toBe(200);
      const plan = result.json() as {
        counts: Record<string, number>;
        operations: Array<{ kind: string }>;
        skipped: unknown[];
      };
      expect(plan.counts.create).toBe(4);
      expect(plan.counts.cancel).toBe(1); // the stored row is no longer in the feed
      expect(plan.skipped).toHaveLength(1);
      expect(result.text).not.toMatch(/teams\.microsoft\.com|joinWebUrl|externalId/);
      expect(await snapshotFeed(services, 'planned')).toEqual(before);
    });

    it('409 on plan of a URL feed with no body yet', async () => {
      await put('url-only', {
        body: JSON.stringify({ url: 'https://timetable.example.org/x.ics' }),
        headers: JSON_TYPE,
      });
      expectProblem(
        await call(routes, 'feedsPlan', 'GET', 'feeds/url-only/plan', { params: { id: 'url-only' } }),
        409,
        /no accepted body/,
      );
    });

    it('confirm-cancellations: 409 with nothing held, 200 when the guard holds', async () => {
      await put('guarded', { body: FEED_ICS, headers: ICS });
      expectProblem(
        await call(routes, 'feedsConfirmCancellations', 'POST', 'feeds/guarded/confirm-cancellations', {
          params: { id: 'guarded' },
        }),
        409,
        /no cancellations held/,
      );
      const feed = await services.store.feeds.get('guarded');
      await services.store.feeds.update({
        ...(feed as NonNullable<typeof feed>),
        guard: {
          held: true,
          reason: 'feedEmptied',
          wouldCancel: 12,
          futureMeetings: 12,
          at: '2026-08-31T00:00:00Z',
        },
      });
      const result = await call(
        routes,
        'feedsConfirmCancellations',
        'POST',
        'feeds/guarded/confirm-cancellations',
        { params: { id: 'guarded' } },
      );
      expect(result.status, result.text).toBe(200);
      expect((await services.store.feeds.get('guarded'))?.cancellationsConfirmedAt).toBe(NOW.toISOString());
    });

    it('rotates the calendar token: new link, old token gone', async () => {
      await put('rotating', { body: FEED_ICS, headers: ICS });
      const old = (await services.store.feeds.get('rotating'))?.calendarToken as string;
      const result = await call(routes, 'feedsRotateCalendarToken', 'POST', 'feeds/rotating/calendar-token', {
        params: { id: 'rotating' },
      });
      expect(result.status).toBe(200);
      const fresh = (await services.store.feeds.get('rotating'))?.calendarToken as string;
      expect(fresh).not.toBe(old);
      expect(fresh.length).toBeGreaterThanOrEqual(32);
      expect((result.json().calendar as { ics: string }).ics).toContain(`token=${fresh}`);
    });

    it('DELETE keeps meetings by default and removes the feed, its bodies and rows', async () => {
      await put('doomed', { body: FEED_ICS, headers: ICS });
      await services.store.meetings.put(
        meetingRecord('doomed', { start: '2026-09-20T08:00:00Z', end: '2026-09-20T09:00:00Z' }),
      );
      const result = await call(routes, 'feedsDelete', 'DELETE', 'feeds/doomed', {
        params: { id: 'doomed' },
      });
      expect(result.status, result.text).toBe(200);
      expect(result.json()).toMatchObject({ deleted: true, cancelledMeetings: 0, keptMeetings: 1 });
      expect(await services.store.feeds.get('doomed')).toBeNull();
      expect(await services.store.meetings.listByFeed('doomed')).toEqual([]);
      expect(await services.store.feedBodies.list('doomed')).toEqual([]);
    });

    it('DELETE with cancelMeetings=true without Graph is a 503 and deletes nothing; a bad flag is a 400', async () => {
      await put('kept', { body: FEED_ICS, headers: ICS });
      await services.store.meetings.put(
        meetingRecord('kept', { start: '2026-09-20T08:00:00Z', end: '2026-09-20T09:00:00Z' }),
      );
      expectProblem(
        await call(routes, 'feedsDelete', 'DELETE', 'feeds/kept', {
          params: { id: 'kept' },
          query: { cancelMeetings: 'yes' },
        }),
        400,
        /cancelMeetings/,
      );
      expectProblem(
        await call(routes, 'feedsDelete', 'DELETE', 'feeds/kept', {
          params: { id: 'kept' },
          query: { cancelMeetings: 'true' },
        }),
        503,
        /Graph is not configured/,
      );
      expect(await services.store.feeds.get('kept')).not.toBeNull();
      expect(await services.store.meetings.listByFeed('kept')).toHaveLength(1);
    });
  });
});
