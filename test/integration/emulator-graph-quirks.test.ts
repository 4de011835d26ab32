// Microsoft Graph as it really behaves (its documentation and public issue threads), reproduced by the emulator
// by default: options ignored on create, per-user 403s, the monthly limit, deleted-but-joinable
// meetings, the cloud's token scope, end == start, PATCH 204 (optional) and the tenant's domain.
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { MONTHLY_LIMIT_MESSAGE } from '../../src/emulator/meetingRules.js';
import { isGraphError } from '../../src/graph/errors.js';
import { createGraphAccess } from '../../src/graph/client.js';
import {
  meetingInput,
  rawClient,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

type Raw = Awaited<ReturnType<typeof rawClient>>;
interface Meeting {
  id: string;
  joinWebUrl: string;
  subject: string;
  allowedPresenters: string;
  lobbyBypassSettings: { scope: string; isDialInBypassEnabled: boolean };
}
interface GraphErrorJson {
  error: { code: string; message: string; innerError: Record<string, string> };
}

let t: TestEmulator;
let raw: Raw;
let ada: string;
let dispatcher: Agent;
const TENANT_DEFAULTS = {
  lobbyBypassScope: 'organization',
  isDialInBypassEnabled: false,
  allowedPresenters: 'everyone',
};
const base = (user: string) => `/v1.0/users/${user}/onlineMeetings`;
const post = (path: string, body: unknown) => raw(path, { method: 'POST', body: JSON.stringify(body) });
const patch = (path: string, body: unknown) => raw(path, { method: 'PATCH', body: JSON.stringify(body) });
const control = (method: string, path: string, body?: unknown) =>
  raw(`/_emulator/${path}`, {
    token: null,
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const times = { startDateTime: '2026-09-14T08:00:00Z', endDateTime: '2026-09-14T09:00:00Z' };
let key = 0;
const createOrGet = (user: string, extra: Record<string, unknown> = {}) =>
  post(`${base(user)}/createOrGet`, { externalId: `q-${++key}`, subject: 'Quirk', ...times, ...extra });

beforeAll(async () => {
  t = await startTestEmulator();
  t.emulator.control.allowDefaultAppGlobally();
  raw = await rawClient(t.emulator);
  ada = t.users[0]!.id;
  dispatcher = new Agent({ connect: { ca: t.emulator.caCertPem } });
});
beforeEach(() => t.emulator.control.reset());
afterEach(() =>
  t.emulator.control.setBehaviour({
    meetingDefaults: TENANT_DEFAULTS,
    monthlyMeetingLimit: { perOrganizer: 2000, status: 403 },
    patchNoContent: false,
  }),
);
afterAll(async () => {
  await t.emulator.stop();
  await dispatcher.close();
});

/** A client-credentials token request against `emulator` (tenant segment and scope chosen). */
async function tokenRequest(emulator: EmulatorHandle, tenant: string, scope: string, agent = dispatcher) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    scope,
  });
  const response = await fetch(`${emulator.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    body: form,
    dispatcher: agent,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('1. createOrGet and POST ignore the options: a new meeting has the tenant defaults', () => {
  const options = {
    lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: true },
    allowedPresenters: 'organizer',
    isEntryExitAnnounced: false,
    allowMeetingChat: 'disabled',
  };

  it('createOrGet (201, then 200 unchanged), POST and GET show everyone / organization; PATCH applies them', async () => {
    const created = await createOrGet(ada, options);
    expect(created.status).toBe(201);
    const m = (await created.json()) as Meeting;
    expect(m).toMatchObject({
      allowedPresenters: 'everyone',
      lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false },
    });
    const plain = await post(base(ada), { subject: 'plain', ...times, ...options });
    expect(plain.status).toBe(201);
    expect((await plain.json()) as Meeting).toMatchObject({ allowedPresenters: 'everyone' });
    const path = `${base(ada)}/${encodeURIComponent(m.id)}`;
    const patched = await patch(path, {
      lobbyBypassSettings: { scope: 'organizer' },
      allowedPresenters: 'organizer',
    });
    expect(patched.status).toBe(200);
    expect((await patched.json()) as Meeting).toMatchObject({
      allowedPresenters: 'organizer',
      lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
    });
    const again = await post(`${base(ada)}/createOrGet`, {
      externalId: `q-${key}`,
      ...times,
      allowedPresenters: 'everyone',
    });
    expect(again.status).toBe(200);
    expect((await again.json()) as Meeting).toMatchObject({ allowedPresenters: 'organizer' });
    expect(((await (await raw(path)).json()) as Meeting).lobbyBypassSettings.scope).toBe('organizer');
  });

  it('the daemon createOrGet gets the tenant defaults whatever its meeting options say', async () => {
    const graph = t.access({
      meetingOptions: { lobbyBypass: 'organizer', allowedPresenters: 'organization' },
    });
    const m = await graph.meetings.createOrGet(ada, meetingInput('Defaults'));
    expect(m.created).toBe(true);
    expect(t.emulator.control.meetings()[0]).toMatchObject({
      lobbyBypassScope: 'organization',
      allowedPresenters: 'everyone',
      patchCount: 0,
    });
  });

  it('the tenant defaults are settable (control and /_emulator/settings); a name not on the type is 400', async () => {
    t.emulator.control.setBehaviour({ meetingDefaults: { allowedPresenters: 'organization' } });
    expect(((await (await createOrGet(ada)).json()) as Meeting).allowedPresenters).toBe('organization');
    const put = await control('PUT', 'settings', {
      meetingDefaults: { lobbyBypassScope: 'invited', isDialInBypassEnabled: true },
    });
    expect(((await put.json()) as { meetingDefaults: unknown }).meetingDefaults).toEqual({
      lobbyBypassScope: 'invited',
      isDialInBypassEnabled: true,
      allowedPresenters: 'organization',
    });
    expect(((await (await createOrGet(ada)).json()) as Meeting).lobbyBypassSettings).toEqual({
      scope: 'invited',
      isDialInBypassEnabled: true,
    });
    expect(
      (await control('PUT', 'settings', { meetingDefaults: { allowedPresenters: 'nobody' } })).status,
    ).toBe(400);
    const unknown = await createOrGet(ada, { lobbyBypass: 'organizer' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as GraphErrorJson).error.message).toContain(
      "'lobbyBypass' does not exist",
    );
  });
});

describe('2. per-user refusals: guests, disabled and unlicensed organizers get a bare 403', () => {
  it('403 Forbidden with an empty message (not the policy message) although the policy covers them', async () => {
    const seeded = t.emulator.control.seedUsers([
      {
        displayName: 'Guest',
        userPrincipalName: 'g_partner.example#EXT#@contoso.onmicrosoft.com',
        userType: 'Guest',
      },
      { displayName: 'Disabled', userPrincipalName: 'off@uni.example', accountEnabled: false },
      { displayName: 'Unlicensed', userPrincipalName: 'nolicence@uni.example', teamsLicensed: false },
    ]);
    for (const user of seeded) {
      const response = await createOrGet(user.id);
      expect(response.status).toBe(403);
      const { error } = (await response.json()) as GraphErrorJson;
      expect(error.code).toBe('Forbidden');
      expect(error.message).toBe('');
      expect(error.innerError['request-id']).toBe(response.headers.get('request-id'));
      expect(error.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect((await raw(`${base(user.id)}?$filter=${encodeURIComponent("JoinWebUrl eq 'x'")}`)).status).toBe(
        403,
      );
    }
    const error = await rejectionOf(t.access().meetings.createOrGet(seeded[0]!.id, meetingInput()));
    expect(isGraphError(error) && [error.status, error.kind]).toEqual([403, 'userForbidden']);
    expect(t.emulator.control.meetings()).toEqual([]);
  });

  it('a user disabled (and enabled again) through the control API', async () => {
    t.emulator.control.setUser(ada, { accountEnabled: false });
    expect((await createOrGet(ada)).status).toBe(403);
    const back = await control('PATCH', `users/${ada}`, { accountEnabled: true });
    expect(((await back.json()) as { accountEnabled: boolean }).accountEnabled).toBe(true);
    expect((await createOrGet(ada)).status).toBe(201);
    expect((await control('PATCH', `users/${ada}`, { userType: 'Visitor' })).status).toBe(400);
  });

  it('the directory returns userType and accountEnabled only when $select asks, and only what it asks', async () => {
    const full = (await (await raw(`/v1.0/users/${ada}`)).json()) as Record<string, unknown>;
    expect(full).toMatchObject({ id: ada, userPrincipalName: 'ada@uni.example', businessPhones: [] });
    expect(full).not.toHaveProperty('userType');
    expect(full).not.toHaveProperty('accountEnabled');
    const picked = await raw(`/v1.0/users/ada@uni.example?$select=id,USERTYPE,accountEnabled`);
    expect((await picked.json()) as Record<string, unknown>).toEqual({
      '@odata.context': `${t.emulator.url}/v1.0/$metadata#users(id,userType,accountEnabled)/$entity`,
      id: ada,
      userType: 'Member',
      accountEnabled: true,
    });
    const [guest] = t.emulator.control.seedUsers([
      {
        displayName: 'G',
        userPrincipalName: 'g#EXT#@contoso.onmicrosoft.com',
        mail: 'g@partner.example',
        userType: 'Guest',
      },
    ]);
    const filter = encodeURIComponent("mail eq 'g@partner.example'");
    const byMail = await raw(`/v1.0/users?$filter=${filter}&$select=id,userType,accountEnabled`);
    expect(((await byMail.json()) as { value: unknown[] }).value).toEqual([
      { id: guest!.id, userType: 'Guest', accountEnabled: true },
    ]);
    const unknown = await raw(`/v1.0/users/${ada}?$select=id,shoeSize`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as GraphErrorJson).error.message).toContain("'shoeSize'");
  });
});

describe('3. the monthly creation limit per organizer (2,000 by default)', () => {
  const month = () => new Date(t.emulator.control.now()).toISOString().slice(0, 7);

  it('a 4th meeting in the month is a 403 without Retry-After; a createOrGet GET and other organizers are unaffected', async () => {
    expect(t.emulator.control.behaviour().monthlyMeetingLimit).toEqual({
      perOrganizer: 2000,
      status: 403,
      message: MONTHLY_LIMIT_MESSAGE,
    });
    t.emulator.control.setBehaviour({ monthlyMeetingLimit: { perOrganizer: 3 } });
    const first = await createOrGet(ada);
    const firstKey = `q-${key}`;
    expect(first.status).toBe(201);
    expect((await createOrGet(ada)).status).toBe(201);
    expect((await post(base(ada), { subject: 'plain', ...times })).status).toBe(201);
    const over = await createOrGet(ada);
    expect(over.status).toBe(403);
    expect(over.headers.get('retry-after')).toBeNull();
    expect(((await over.json()) as GraphErrorJson).error.message).toBe(
      'The user has exceeded the maximum number of meetings that can be created in a month.',
    );
    expect((await post(`${base(ada)}/createOrGet`, { externalId: firstKey, ...times })).status).toBe(200);
    const { id } = (await first.json()) as Meeting;
    expect((await raw(`${base(ada)}/${encodeURIComponent(id)}`, { method: 'DELETE' })).status).toBe(204);
    expect((await createOrGet(ada)).status).toBe(403); // a delete gives nothing back
    expect((await createOrGet(t.users[1]!.id)).status).toBe(201);
    expect(t.emulator.control.meetingsCreatedPerMonth()).toEqual({
      [ada]: { [month()]: 3 },
      [t.users[1]!.id]: { [month()]: 1 },
    });
    const view = (await (await control('GET', 'meetings')).json()) as { createdPerMonth: unknown };
    expect(view.createdPerMonth).toEqual(t.emulator.control.meetingsCreatedPerMonth());
  });

  it('429 mode: Retry-After runs to the end of the UTC month; the next month (emulator clock) is free again', async () => {
    const put = await control('PUT', 'settings', { monthlyMeetingLimit: { perOrganizer: 1, status: 429 } });
    expect(((await put.json()) as { monthlyMeetingLimit: unknown }).monthlyMeetingLimit).toEqual({
      perOrganizer: 1,
      status: 429,
      message: MONTHLY_LIMIT_MESSAGE,
    });
    expect((await createOrGet(ada)).status).toBe(201);
    const now = t.emulator.control.now();
    const d = new Date(now);
    const nextMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    const over = await createOrGet(ada);
    expect(over.status).toBe(429);
    expect(Math.abs(Number(over.headers.get('retry-after')) - (nextMonth - now) / 1000)).toBeLessThan(5);
    expect(((await over.json()) as GraphErrorJson).error.message).toContain('maximum number of meetings');
    const jump = nextMonth - now + 60_000;
    t.emulator.control.advanceTime(jump);
    try {
      const fresh = await rawClient(t.emulator); // the old token expired with the jump
      const body = JSON.stringify({ externalId: 'next-month', ...times });
      expect((await fresh(`${base(ada)}/createOrGet`, { method: 'POST', body })).status).toBe(201);
    } finally {
      t.emulator.control.advanceTime(-jump);
    }
  });
});

describe('4. a deleted meeting is gone from Graph, but its link still opens it', () => {
  it('DELETE 204, then GET 404 and a second DELETE 404; joinable() tells whether the link admits anyone', async () => {
    const graph = t.access();
    const locked = await graph.meetings.createOrGet(ada, meetingInput('Locked then deleted'));
    await graph.meetings.update(ada, locked.id, { subject: 'Cancelled', ...times, lockLobby: true });
    const open = (await (await createOrGet(ada)).json()) as Meeting;
    for (const id of [locked.id, open.id]) {
      const path = `${base(ada)}/${encodeURIComponent(id)}`;
      expect((await raw(path, { method: 'DELETE' })).status).toBe(204);
      expect((await raw(path)).status).toBe(404);
      expect((await raw(path, { method: 'DELETE' })).status).toBe(404);
    }
    expect(t.emulator.control.meetings()).toEqual([]);
    expect(t.emulator.control.meetings({ includeDeleted: true }).map((m) => m.deleted)).toEqual([true, true]);
    expect(t.emulator.control.joinable(locked.joinWebUrl)).toMatchObject({
      deleted: true,
      subject: 'Cancelled',
      lobbyBypassScope: 'organizer',
      allowedPresenters: 'organizer',
      lobbyLocked: true,
      admitsAnyone: false,
    });
    const viaHttp = await control('GET', `joinable?joinWebUrl=${encodeURIComponent(open.joinWebUrl)}`);
    expect(await viaHttp.json()).toMatchObject({
      deleted: true,
      deletedDateTime: expect.stringMatching(/Z$/) as unknown,
      lobbyBypassScope: 'organization',
      allowedPresenters: 'everyone',
      lobbyLocked: false,
      admitsAnyone: true,
    });
    const listed = (await (await control('GET', 'meetings?includeDeleted=true')).json()) as {
      value: unknown[];
    };
    expect(listed.value).toHaveLength(2);
    expect(t.emulator.control.joinable('https://teams.microsoft.com/l/meetup-join/unknown')).toBeNull();
    expect((await control('GET', 'joinable?joinWebUrl=x')).status).toBe(404);
  });

  it("after someone joins through a deleted meeting's link, GET returns the meeting again (DELETE and lists do not)", async () => {
    const meeting = (await (await createOrGet(ada)).json()) as Meeting;
    const path = `${base(ada)}/${encodeURIComponent(meeting.id)}`;
    expect((await raw(path, { method: 'DELETE' })).status).toBe(204);
    expect((await raw(path)).status).toBe(404);
    const joined = await control('POST', 'join', { joinWebUrl: meeting.joinWebUrl });
    expect(await joined.json()).toMatchObject({ deleted: true, admitsAnyone: true });
    expect((await raw(path)).status).toBe(200);
    expect((await raw(path, { method: 'DELETE' })).status).toBe(404);
    expect(t.emulator.control.meetings()).toEqual([]);
    expect((await control('POST', 'join', { joinWebUrl: 'x' })).status).toBe(404);
  });
});

describe('5 and 8. the token endpoint: the cloud Graph scope, the tenant id or its domain', () => {
  const GLOBAL = 'https://graph.microsoft.com/.default';
  const USGOV = 'https://graph.microsoft.us/.default';

  it('global by default: another cloud’s Graph is AADSTS500011 invalid_resource; the last scope is recorded', async () => {
    const wrong = await tokenRequest(t.emulator, t.emulator.tenantId, USGOV);
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ error: 'invalid_resource', error_codes: [500011] });
    expect(String(wrong.json.error_description)).toMatch(
      /^AADSTS500011: The resource principal named https:\/\/graph\.microsoft\.us was not found in the tenant/,
    );
    expect(t.emulator.control.behaviour().lastTokenScope).toBe(USGOV);
    expect((await tokenRequest(t.emulator, t.emulator.tenantId, GLOBAL)).status).toBe(200);
    await createGraphAccess(t.emulator.settings()).getToken();
    expect(t.emulator.control.behaviour()).toMatchObject({ cloud: 'global', lastTokenScope: GLOBAL });
    const view = (await (await control('GET', '')).json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      cloud: 'global',
      lastTokenScope: GLOBAL,
      tenantDomain: 'contoso.onmicrosoft.com',
    });
  });

  it('the tenant domain (any case) works like the id; unknown tenants are AADSTS90002 / 900023', async () => {
    expect(t.emulator.tenantDomain).toBe('contoso.onmicrosoft.com');
    expect((await tokenRequest(t.emulator, 'Contoso.OnMicrosoft.com', GLOBAL)).status).toBe(200);
    const unknown = await tokenRequest(t.emulator, 'fabrikam.onmicrosoft.com', GLOBAL);
    expect([unknown.status, unknown.json.error, unknown.json.error_codes]).toEqual([
      400,
      'invalid_request',
      [90002],
    ]);
    const garbage = await tokenRequest(t.emulator, 'not_a_tenant', GLOBAL);
    expect([garbage.status, garbage.json.error_codes]).toEqual([400, [900023]]);
    const metadataOf = (tenant: string) =>
      fetch(`${t.emulator.url}/${tenant}/v2.0/.well-known/openid-configuration`, { dispatcher });
    const metadata = await metadataOf('contoso.onmicrosoft.com');
    expect(((await metadata.json()) as { token_endpoint: string }).token_endpoint).toBe(
      `${t.emulator.url}/${t.emulator.tenantId}/oauth2/v2.0/token`,
    );
    const noMetadata = await metadataOf('fabrikam.onmicrosoft.com');
    expect([noMetadata.status, ((await noMetadata.json()) as { error: string }).error]).toEqual([
      400,
      'invalid_tenant',
    ]);
    // The daemon configured with the domain (GRAPH_TENANT_ID may be one) gets a token and resolves users.
    const graph = createGraphAccess(t.emulator.settings({ tenantId: 'contoso.onmicrosoft.com' }));
    expect((await graph.users.resolveByEmail('ada@uni.example'))?.objectId).toBe(ada);
  });

  it('usgov / usgovdod emulators want their own Graph host; options set the domain and the behaviours', async () => {
    const gov = await startGraphEmulator({
      cloud: 'usgov',
      tenantDomain: 'agency.onmicrosoft.us',
      meetingDefaults: { allowedPresenters: 'organizer' },
      monthlyMeetingLimit: { perOrganizer: 5, status: 429 },
      patchNoContent: true,
      propagationDelayMs: 0,
    });
    const dod = await startGraphEmulator({ cloud: 'usgovdod' });
    const govAgent = new Agent({ connect: { ca: gov.caCertPem } });
    const dodAgent = new Agent({ connect: { ca: dod.caCertPem } });
    try {
      expect((await tokenRequest(gov, gov.tenantId, GLOBAL, govAgent)).json.error_codes).toEqual([500011]);
      const token = await tokenRequest(gov, 'agency.onmicrosoft.us', USGOV, govAgent);
      expect(token.status).toBe(200);
      const [user] = gov.control.seedUsers([{ displayName: 'Gov', userPrincipalName: 'gov@agency.example' }]);
      const me = await fetch(`${gov.url}/v1.0/users/${user!.id}`, {
        headers: { authorization: `Bearer ${String(token.json.access_token)}` },
        dispatcher: govAgent,
      });
      expect(me.status).toBe(200); // the token's audience is the cloud's Graph
      expect((await tokenRequest(dod, dod.tenantId, USGOV, dodAgent)).json.error_codes).toEqual([500011]);
      const dodScope = 'https://dod-graph.microsoft.us/.default';
      expect((await tokenRequest(dod, dod.tenantId, dodScope, dodAgent)).status).toBe(200);
      expect(dod.control.behaviour()).toMatchObject({ cloud: 'usgovdod', lastTokenScope: dodScope });
      expect(gov.control.behaviour()).toMatchObject({
        cloud: 'usgov',
        tenantDomain: 'agency.onmicrosoft.us',
        meetingDefaults: { allowedPresenters: 'organizer' },
        monthlyMeetingLimit: { perOrganizer: 5, status: 429 },
        patchNoContent: true,
        lastTokenScope: USGOV,
      });
    } finally {
      await Promise.all([gov.stop(), dod.stop(), govAgent.close(), dodAgent.close()]);
    }
  });
});

describe('6 and 7. end == start is accepted; PATCH may answer 204 without a body', () => {
  const at = { startDateTime: '2026-09-14T10:00:00Z', endDateTime: '2026-09-14T10:00:00Z' };
  const backwards = { startDateTime: '2026-09-14T10:00:00Z', endDateTime: '2026-09-14T09:59:59Z' };

  it('equal times pass on createOrGet, POST and PATCH; an earlier end is still a 400', async () => {
    const created = await createOrGet(ada, at);
    expect(created.status).toBe(201);
    expect((await post(base(ada), { subject: 'zero', ...at })).status).toBe(201);
    expect((await post(base(ada), { subject: 'back', ...backwards })).status).toBe(400);
    expect((await createOrGet(ada, backwards)).status).toBe(400);
    const path = `${base(ada)}/${encodeURIComponent(((await created.json()) as Meeting).id)}`;
    const later = { startDateTime: '2026-09-15T10:00:00Z', endDateTime: '2026-09-15T10:00:00Z' };
    expect((await patch(path, later)).status).toBe(200);
    expect((await patch(path, backwards)).status).toBe(400);
  });

  it('patchNoContent: 204 with an empty body, the change applied (read back with GET)', async () => {
    const m = (await (await createOrGet(ada)).json()) as Meeting;
    const path = `${base(ada)}/${encodeURIComponent(m.id)}`;
    t.emulator.control.setBehaviour({ patchNoContent: true });
    const response = await patch(path, { subject: 'Renamed', allowedPresenters: 'organizer' });
    expect([response.status, await response.text()]).toEqual([204, '']);
    expect((await (await raw(path)).json()) as Meeting).toMatchObject({
      subject: 'Renamed',
      allowedPresenters: 'organizer',
    });
    expect(t.emulator.control.meetings()[0]).toMatchObject({ subject: 'Renamed', patchCount: 1 });
    expect(
      (
        (await (await control('PUT', 'settings', { patchNoContent: false })).json()) as {
          patchNoContent: boolean;
        }
      ).patchNoContent,
    ).toBe(false);
    expect((await patch(path, { subject: 'Again' })).status).toBe(200);
  });
});
