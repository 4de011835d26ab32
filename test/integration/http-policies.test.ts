import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import {
  createFeedsRoutes,
  createPoliciesRoutes,
  createStatusRoutes,
  type RouteDefinition,
} from '../../src/http/index.js';
import { useAzurite } from '../support/azurite.js';
import { startTestEmulator, type TestEmulator } from '../support/graph-emulator.js';
import { FEED_ICS, KEY, NOW, call, expectProblem, makeServices, meetingRecord } from './http-support.js';

const azurite = useAzurite();
const JSON_TYPE = { 'content-type': 'application/json' };
const ADA_ID = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOB_ID = 'bbbbbbbb-0000-4000-8000-000000000002';

describe('policies API (object ids, no Graph)', () => {
  let services: AppServices;
  let routes: RouteDefinition[];

  beforeAll(async () => {
    services = await makeServices(azurite);
    routes = createPoliciesRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
    // Two organizers with blocked sessions, one already working.
    await services.store.feeds.create({
      id: 'maths',
      source: 'upload',
      url: null,
      defaultOrganizer: null,
      timeZone: null,
      horizonDays: null,
      enabled: true,
      httpEtag: null,
      httpLastModified: null,
      contentHash: null,
      bodyVersion: null,
      lastSyncedHash: 'h',
      lastSyncedHorizonDay: null,
      nextDueRetryAt: null,
      cancellationsConfirmedAt: null,
      guard: null,
      calendarToken: 'tok-maths-0123456789abcdefghij',
      lastRun: null,
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
    const blocked = {
      state: 'blocked' as const,
      meetingId: null,
      joinWebUrl: null,
      lastError: { code: 'policyMissing', message: 'no application access policy', at: NOW.toISOString() },
    };
    await services.store.meetings.put(
      meetingRecord('maths', { organizerId: ADA_ID, organizerEmail: 'ada@uni.example', ...blocked }),
    );
    await services.store.meetings.put(
      meetingRecord('maths', { organizerId: ADA_ID, organizerEmail: 'ada@uni.example', ...blocked }),
    );
    await services.store.meetings.put(
      meetingRecord('maths', { organizerId: BOB_ID, organizerEmail: 'bob@uni.example', ...blocked }),
    );
    await services.store.policies.put({
      objectId: ADA_ID,
      state: 'missing',
      grantedAt: null,
      verifiedAt: null,
      firstDeniedAt: '2026-08-30T10:00:00Z',
      lastDeniedAt: '2026-08-31T10:00:00Z',
      lastProbeAt: null,
    });
  });

  it('GET /api/policies lists every organizer with state, since when and what is blocked', async () => {
    const result = await call(routes, 'policiesList', 'GET', 'policies');
    expect(result.status, result.text).toBe(200);
    const body = result.json() as { policyName: string; organizers: Array<Record<string, unknown>> };
    expect(body.policyName).toBe('TimetableSync-OnlineMeetings');
    expect(body.organizers[0]).toMatchObject({
      objectId: ADA_ID,
      email: 'ada@uni.example',
      state: 'missing',
      since: '2026-08-30T10:00:00Z',
      blockedSessions: 2,
    });
    expect(body.organizers[0]?.grantCommand).toMatch(/Grant-CsApplicationAccessPolicy/);
    expect(body.organizers[1]).toMatchObject({ objectId: BOB_ID, state: 'unknown', blockedSessions: 1 });
    expect(result.text).not.toMatch(/etag/i);
  });

  it('GET /api/policies/script is the PowerShell text; ?format=json the data for grant-access-policy.ps1', async () => {
    const text = await call(routes, 'policiesScript', 'GET', 'policies/script');
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/#Requires -Modules MicrosoftTeams/);
    expect(text.text).toContain(ADA_ID);
    expect(text.text).toContain(BOB_ID);
    const json = await call(routes, 'policiesScript', 'GET', 'policies/script', {
      query: { format: 'json' },
    });
    expect(json.status).toBe(200);
    expect(json.json()).toEqual({
      policyName: 'TimetableSync-OnlineMeetings',
      appId: null,
      organizers: [
        { objectId: ADA_ID, email: 'ada@uni.example', blockedSessions: 2 },
        { objectId: BOB_ID, email: 'bob@uni.example', blockedSessions: 1 },
      ],
    });
    expectProblem(
      await call(routes, 'policiesScript', 'GET', 'policies/script', { query: { format: 'xml' } }),
      400,
      /format/,
    );
  });

  it('POST /api/policies/grants records a grant by object id and forces feeds past the fast path', async () => {
    const result = await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
      headers: JSON_TYPE,
      body: JSON.stringify({ user: ADA_ID.toUpperCase(), grantedAt: '2026-08-31T23:30:00Z' }),
    });
    expect(result.status, result.text).toBe(201);
    expect(result.json()).toMatchObject({
      objectId: ADA_ID,
      email: null,
      policy: { state: 'granted', grantedAt: '2026-08-31T23:30:00Z' },
    });
    expect((await services.store.policies.get(ADA_ID))?.state).toBe('granted');
    expect((await services.store.feeds.get('maths'))?.nextDueRetryAt).toBe('2026-09-01T00:00:00Z');
  });

  it('records a global grant', async () => {
    const result = await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
      headers: JSON_TYPE,
      body: JSON.stringify({ global: true }),
    });
    expect(result.status, result.text).toBe(201);
    expect((await services.store.policies.get('global'))?.grantedAt).toBe('2026-09-01T00:00:00Z');
  });

  it.each([
    ['{"user": ', /not valid JSON/],
    ['{}', /user .* or global/],
    [JSON.stringify({ user: ADA_ID, global: true }), /either user or global/],
    [JSON.stringify({ user: 'not-an-id' }), /neither an e-mail/],
    [JSON.stringify({ user: ADA_ID, grantedAt: 'yesterday' }), /grantedAt/],
    [JSON.stringify({ user: ADA_ID, grantedAt: '2027-01-01T00:00:00Z' }), /future/],
    [JSON.stringify({ user: 42 }), /user/],
    [JSON.stringify({ user: ADA_ID, extra: 1 }), /extra|unrecognized/i],
  ])('400 for %s', async (body, detail) => {
    const before = await services.store.policies.list();
    expectProblem(
      await call(routes, 'policiesGrant', 'POST', 'policies/grants', { headers: JSON_TYPE, body }),
      400,
      detail,
    );
    expect(await services.store.policies.list()).toEqual(before);
  });

  it('415 for a grant that is not JSON; 503 for an e-mail while Graph is not configured', async () => {
    expectProblem(
      await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
        headers: { 'content-type': 'text/plain' },
        body: 'user=ada',
      }),
      415,
    );
    expectProblem(
      await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
        headers: JSON_TYPE,
        body: JSON.stringify({ user: 'ada@uni.example' }),
      }),
      503,
      /object id/,
    );
  });
});

describe('routes that need Graph (emulator)', () => {
  let emulator: TestEmulator;
  let services: AppServices;
  let routes: RouteDefinition[];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    emulator.emulator.control.allowDefaultAppGlobally();
    services = await makeServices(azurite, { graph: emulator.access() });
    routes = createPoliciesRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
  });
  afterAll(async () => {
    await emulator?.emulator.stop();
  });

  it('grants by e-mail: the user is resolved to its object id', async () => {
    const ada = emulator.users.find((u) => u.mail === 'ada.lovelace@uni.example');
    const result = await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
      headers: JSON_TYPE,
      body: JSON.stringify({ user: 'Ada.Lovelace@uni.example' }),
    });
    expect(result.status, result.text).toBe(201);
    expect(result.json()).toMatchObject({ objectId: ada?.id, email: 'ada.lovelace@uni.example' });
    expect((await services.store.policies.get(ada?.id as string))?.state).toBe('granted');
  });

  it('404 for an e-mail nobody has', async () => {
    expectProblem(
      await call(routes, 'policiesGrant', 'POST', 'policies/grants', {
        headers: JSON_TYPE,
        body: JSON.stringify({ user: 'nobody@uni.example' }),
      }),
      404,
      /nobody@uni\.example/,
    );
  });

  it('the script names the app id from configuration', async () => {
    const configured = {
      ...services,
      config: {
        ...services.config,
        graph: {
          tenantId: 't',
          clientId: 'app-id-123',
          credential: { kind: 'secret' as const, secret: 's' },
          authorityHost: 'https://a',
          graphBaseUrl: 'https://g',
          caCertFile: null,
        },
      },
    };
    const r = createPoliciesRoutes({ services: () => Promise.resolve(configured), requireKey: KEY });
    const json = await call(r, 'policiesScript', 'GET', 'policies/script', { query: { format: 'json' } });
    expect(json.json().appId).toBe('app-id-123');
    const text = await call(r, 'policiesScript', 'GET', 'policies/script');
    expect(text.text).toContain("$appId = 'app-id-123'");
    expect(text.text).not.toContain("'s'");
  });

  it('DELETE /api/feeds/{id}?cancelMeetings=true deletes future meetings in Graph, keeps past ones, removes the feed', async () => {
    const feeds = createFeedsRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
    const put = await call(feeds, 'feedsPut', 'PUT', 'feeds/cancelling', {
      params: { id: 'cancelling' },
      body: FEED_ICS,
      headers: { 'content-type': 'text/calendar' },
    });
    expect(put.status).toBe(201);
    const ada = emulator.users[0];
    const graph = services.graph;
    if (!ada || !graph) throw new Error('setup');
    const future = await graph.meetings.createOrGet(ada.id, {
      externalId: 'tts-future-0',
      subject: 'Future',
      startDateTime: '2026-09-14T08:15:00Z',
      endDateTime: '2026-09-14T10:00:00Z',
    });
    const past = await graph.meetings.createOrGet(ada.id, {
      externalId: 'tts-past-0',
      subject: 'Past',
      startDateTime: '2026-08-14T08:15:00Z',
      endDateTime: '2026-08-14T10:00:00Z',
    });
    await services.store.meetings.put(
      meetingRecord('cancelling', {
        organizerId: ada.id,
        meetingId: future.id,
        joinWebUrl: future.joinWebUrl,
        start: '2026-09-14T08:15:00Z',
        end: '2026-09-14T10:00:00Z',
      }),
    );
    await services.store.meetings.put(
      meetingRecord('cancelling', {
        organizerId: ada.id,
        meetingId: past.id,
        joinWebUrl: past.joinWebUrl,
        start: '2026-08-14T08:15:00Z',
        end: '2026-08-14T10:00:00Z',
      }),
    );
    const live = () => emulator.emulator.control.meetings().map((m) => m.id);
    expect(live()).toEqual(expect.arrayContaining([future.id, past.id]));

    const result = await call(feeds, 'feedsDelete', 'DELETE', 'feeds/cancelling', {
      params: { id: 'cancelling' },
      query: { cancelMeetings: 'true' },
    });
    expect(result.status, result.text).toBe(200);
    expect(result.json()).toMatchObject({ cancelledMeetings: 1, keptMeetings: 0 });
    expect(live()).not.toContain(future.id);
    expect(live()).toContain(past.id);
    expect(await services.store.feeds.get('cancelling')).toBeNull();
    expect(await services.store.meetings.listByFeed('cancelling')).toEqual([]);
  });

  it('GET /api/health is 200 with storage and a Graph token; 503 when the token fails', async () => {
    const status = createStatusRoutes({ services: () => Promise.resolve(services) });
    const ok = await call(status, 'health', 'GET', 'health', { key: false });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json()).toEqual({ healthy: true, storage: 'ok', graph: 'ok' });
    const badSecret = {
      ...services,
      graph: emulator.access({ credential: { kind: 'secret', secret: 'wrong-secret' } }),
    };
    const failing = createStatusRoutes({ services: () => Promise.resolve(badSecret) });
    const down = await call(failing, 'health', 'GET', 'health', { key: false });
    expect(down.status).toBe(503);
    expect(down.json()).toEqual({ healthy: false, storage: 'ok', graph: 'failed' });
    expect(down.text).not.toMatch(/secret|invalid_client|AADSTS/i);
  });
});
