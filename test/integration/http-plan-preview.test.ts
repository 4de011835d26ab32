// POST /api/feeds/{id}/plan: a file previewed as the feed's next upload, before anything is stored.
import { beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import { createFeedsRoutes, type RouteDefinition } from '../../src/http/index.js';
import { useAzurite } from '../support/azurite.js';
import { FEED_ICS, KEY, call, expectProblem, makeServices, snapshotFeed } from './http-support.js';

const azurite = useAzurite();
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };

interface PlanView {
  counts: Record<string, number>;
  guard: { held: boolean; wouldCancel: number };
  operations: Array<{ kind: string; subject: string; start: string; organizerEmail: string }>;
  held: Array<{ kind: string; subject: string }>;
  skipped: Array<{ uid: string; reason: string }>;
}

describe('POST /api/feeds/{id}/plan (preview of a file)', () => {
  let services: AppServices;
  let routes: RouteDefinition[];
  const preview = (id: string, body: string, query: Record<string, string> = {}) =>
    call(routes, 'feedsPlan', 'POST', `feeds/${id}/plan`, { params: { id }, body, headers: ICS, query });

  beforeAll(async () => {
    services = await makeServices(azurite);
    routes = createFeedsRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
  });

  it('plans a feed that is not registered from nothing, and stores nothing', async () => {
    const result = await preview('not-yet', FEED_ICS, { organizer: 'office@uni.example' });
    expect(result.status, result.text).toBe(200);
    const plan = result.json() as unknown as PlanView;
    // The default organizer from the query gives the office hours a lecturer, as the upload would.
    expect(plan.operations.map((o) => [o.kind, o.subject, o.organizerEmail])).toEqual([
      ['create', 'Algorithms lecture', 'ada.lovelace@uni.example'],
      ['create', 'Databases seminar', 'chen.wei@uni.example'],
      ['create', 'Office hours', 'office@uni.example'],
      ['create', 'Algorithms lecture', 'ada.lovelace@uni.example'],
      ['create', 'Algorithms lecture', 'ada.lovelace@uni.example'],
    ]);
    expect(await snapshotFeed(services, 'not-yet')).toEqual({
      feed: null,
      body: null,
      versions: [],
      meetings: [],
    });
  });

  it('plans the next version of a stored feed against its meetings, changing nothing', async () => {
    const put = await call(routes, 'feedsPut', 'PUT', 'feeds/stored/', {
      params: { id: 'stored' },
      body: FEED_ICS,
      headers: ICS,
    });
    expect(put.status, put.text).toBe(201);
    const before = await snapshotFeed(services, 'stored');
    const withoutSeminar = FEED_ICS.replace(/BEGIN:VEVENT\r\nUID:db-seminar[\s\S]*?END:VEVENT\r\n/, '');
    const result = await preview('stored', withoutSeminar);
    expect(result.status, result.text).toBe(200);
    const plan = result.json() as unknown as PlanView;
    expect(plan.counts.create).toBe(3);
    expect(plan.operations.some((o) => o.subject === 'Databases seminar')).toBe(false);
    expect(await snapshotFeed(services, 'stored')).toEqual(before);
  });

  it('refuses what an upload refuses, naming it', async () => {
    expectProblem(
      await call(routes, 'feedsPlan', 'POST', 'feeds/x/plan', {
        params: { id: 'x' },
        body: FEED_ICS,
        headers: { 'content-type': 'application/json' },
      }),
      415,
    );
    expectProblem(await preview('x', 'A'.repeat(5000)), 413, /MAX_FEED_BYTES/);
    expectProblem(await preview('bad id', FEED_ICS), 400, /feed id/);
  });
});
