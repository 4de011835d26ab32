import { beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import {
  createCalendarRoutes,
  createFeedsRoutes,
  createPoliciesRoutes,
  createStatusRoutes,
  type RouteDefinition,
} from '../../src/http/index.js';
import { useAzurite } from '../support/azurite.js';
import {
  FEED_ICS,
  KEY,
  call,
  expectProblem,
  makeServices,
  principalHeader,
  snapshotFeed,
} from './http-support.js';

const azurite = useAzurite();
const ICS = { 'content-type': 'text/calendar' };
const ROLE = 'TimetableSync.Admin';

describe('admin authorization', () => {
  let services: AppServices;
  let routes: RouteDefinition[];

  beforeAll(async () => {
    services = await makeServices(azurite);
    const options = { services: () => Promise.resolve(services), requireKey: KEY };
    routes = [
      ...createFeedsRoutes(options),
      ...createPoliciesRoutes(options),
      ...createStatusRoutes(options),
      ...createCalendarRoutes(options),
    ];
    const created = await call(routes, 'feedsPut', 'PUT', 'feeds/secured', {
      params: { id: 'secured' },
      body: FEED_ICS,
      headers: ICS,
    });
    expect(created.status).toBe(201);
  });

  it('every admin route is authLevel function; only health and the published calendars are anonymous', () => {
    const anonymous = routes
      .filter((r) => r.authLevel === 'anonymous')
      .map((r) => r.name)
      .sort();
    expect(anonymous).toEqual(['calendarFeed', 'calendarOrganizer', 'health']);
    expect(routes.filter((r) => r.authLevel === 'function')).toHaveLength(routes.length - 3);
  });

  it('401 without a key, on every admin route, and nothing changes', async () => {
    const before = await snapshotFeed(services, 'secured');
    const params = { id: 'secured', email: 'ada@uni.example' };
    for (const route of routes.filter((r) => r.authLevel === 'function')) {
      const method = route.methods[0] as string;
      const result = await call(routes, route.name, method, route.route, {
        params,
        key: false,
        body: FEED_ICS,
        headers: ICS,
      });
      expectProblem(result, 401, /function key/);
    }
    expect(await snapshotFeed(services, 'secured')).toEqual(before);
    expect(await services.store.feeds.list()).toHaveLength(1);
  });

  it('401 with a wrong key (header or code query), and a rejected upload stores nothing', async () => {
    const before = await snapshotFeed(services, 'secured');
    expectProblem(
      await call(routes, 'feedsList', 'GET', 'feeds', {
        key: false,
        headers: { 'x-functions-key': 'wrong' },
      }),
      401,
      /not valid/,
    );
    expectProblem(
      await call(routes, 'feedsList', 'GET', 'feeds', { key: false, query: { code: `${KEY}x` } }),
      401,
      /not valid/,
    );
    const upload = await call(routes, 'feedsPut', 'PUT', 'feeds/secured', {
      params: { id: 'secured' },
      key: false,
      headers: { ...ICS, 'x-functions-key': KEY.slice(1) },
      body: FEED_ICS.replace('Algorithms', 'Hacked'),
    });
    expectProblem(upload, 401);
    expect(await snapshotFeed(services, 'secured')).toEqual(before);
  });

  it('accepts the key as the code query parameter', async () => {
    const result = await call(routes, 'feedsList', 'GET', 'feeds', { key: false, query: { code: KEY } });
    expect(result.status).toBe(200);
  });

  it('403 when an Easy Auth principal lacks the admin role, even with the key', async () => {
    const before = await snapshotFeed(services, 'secured');
    const principal = principalHeader([
      { typ: 'name', val: 'Student' },
      { typ: 'roles', val: 'TimetableSync.Reader' },
    ]);
    const list = await call(routes, 'feedsList', 'GET', 'feeds', {
      headers: { 'x-ms-client-principal': principal },
    });
    expectProblem(list, 403, /TimetableSync\.Admin/);
    const remove = await call(routes, 'feedsDelete', 'DELETE', 'feeds/secured', {
      params: { id: 'secured' },
      headers: { 'x-ms-client-principal': principal },
    });
    expectProblem(remove, 403);
    expectProblem(
      await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
        headers: { 'x-ms-client-principal': principalHeader([]), 'content-type': 'application/json' },
        body: '{"global":true}',
      }),
      403,
    );
    expect(await services.store.policies.list()).toEqual([]);
    expect(await snapshotFeed(services, 'secured')).toEqual(before);
  });

  it.each([['roles'], ['http://schemas.microsoft.com/ws/2008/06/identity/claims/role']])(
    '200 with the admin role in a %s claim',
    async (typ) => {
      const principal = principalHeader([
        {
          typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
          val: '0f0f0f0f-0000-4000-8000-000000000001',
        },
        { typ, val: 'Other.Role' },
        { typ, val: ROLE },
      ]);
      const result = await call(routes, 'status', 'GET', 'status', {
        headers: { 'x-ms-client-principal': principal },
      });
      expect(result.status, result.text).toBe(200);
    },
  );

  it('uses the configured ADMIN_ROLE', async () => {
    const custom = { ...services, config: { ...services.config, adminRole: 'Timetables.Operator' } };
    const r = createStatusRoutes({ services: () => Promise.resolve(custom), requireKey: KEY });
    const withDefault = principalHeader([{ typ: 'roles', val: ROLE }]);
    expectProblem(
      await call(r, 'status', 'GET', 'status', { headers: { 'x-ms-client-principal': withDefault } }),
      403,
      /Timetables\.Operator/,
    );
    const withCustom = principalHeader([{ typ: 'roles', val: 'Timetables.Operator' }]);
    expect(
      (await call(r, 'status', 'GET', 'status', { headers: { 'x-ms-client-principal': withCustom } })).status,
    ).toBe(200);
  });

  it('401 for an unreadable principal header', async () => {
    expectProblem(
      await call(routes, 'feedsList', 'GET', 'feeds', {
        headers: { 'x-ms-client-principal': 'not-base64-json!!' },
      }),
      401,
      /client principal/,
    );
    const noClaims = Buffer.from(JSON.stringify({ auth_typ: 'aad' })).toString('base64');
    expectProblem(
      await call(routes, 'feedsList', 'GET', 'feeds', { headers: { 'x-ms-client-principal': noClaims } }),
      401,
    );
  });

  it('without requireKey (under the Functions host) the key is the host’s job; the role check still applies', async () => {
    const hosted = createFeedsRoutes({ services: () => Promise.resolve(services) });
    expect((await call(hosted, 'feedsList', 'GET', 'feeds', { key: false })).status).toBe(200);
    const principal = principalHeader([{ typ: 'roles', val: 'Nope' }]);
    expectProblem(
      await call(hosted, 'feedsList', 'GET', 'feeds', {
        key: false,
        headers: { 'x-ms-client-principal': principal },
      }),
      403,
    );
  });

  it('never echoes the presented key', async () => {
    const result = await call(routes, 'feedsList', 'GET', 'feeds', {
      key: false,
      headers: { 'x-functions-key': 'supersecret-guess' },
    });
    expect(result.text).not.toContain('supersecret-guess');
  });
});
