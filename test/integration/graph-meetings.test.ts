// onlineMeetings gateway against the emulator: idempotent create, get, PATCH, lobby lock, delete,
// and Graph's request validation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isGraphError } from '../../src/graph/errors.js';
import type { GraphAccess } from '../../src/graph/client.js';
import {
  meetingInput,
  rawClient,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

let t: TestEmulator;
let graph: GraphAccess;
let organizer: string;
beforeAll(async () => {
  t = await startTestEmulator();
  t.emulator.control.allowDefaultAppGlobally();
  graph = t.access({ meetingOptions: { lobbyBypass: 'organization', allowedPresenters: 'organization' } });
  organizer = t.users[0]!.id;
});
beforeEach(() => t.emulator.control.reset());
afterAll(() => t.emulator.stop());

describe('meetings gateway', () => {
  it('createOrGet twice with one externalId gives one meeting (201 then 200)', async () => {
    const input = meetingInput('Databases');
    const first = await graph.meetings.createOrGet(organizer, input);
    const second = await graph.meetings.createOrGet(organizer, input);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.id).toBe(first.id);
    expect(first.joinWebUrl).toMatch(
      /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\/19%3ameeting_.+\/0\?context=/,
    );
    expect(t.emulator.control.meetings()).toHaveLength(1);
    expect(
      t.emulator.control.requestCounts().byRoute['POST /v1.0/users/{id}/onlineMeetings/createOrGet'],
    ).toEqual({ '201': 1, '200': 1 });
  });

  it('the same externalId under another organizer is another meeting', async () => {
    const input = meetingInput('Shared key');
    await graph.meetings.createOrGet(organizer, input);
    await graph.meetings.createOrGet(t.users[1]!.id, input);
    expect(t.emulator.control.meetings()).toHaveLength(2);
  });

  it('gets, updates (start, end and subject together) and reads back', async () => {
    const created = await graph.meetings.createOrGet(organizer, meetingInput('Old subject'));
    const updated = await graph.meetings.update(organizer, created.id, {
      subject: 'New subject',
      startDateTime: '2026-09-15T09:00:00Z',
      endDateTime: '2026-09-15T10:30:00Z',
    });
    expect(updated.subject).toBe('New subject');
    expect(Date.parse(updated.startDateTime)).toBe(Date.parse('2026-09-15T09:00:00Z'));
    const read = await graph.meetings.get(organizer, created.id);
    expect(read?.subject).toBe('New subject');
    expect(Date.parse(read!.endDateTime)).toBe(Date.parse('2026-09-15T10:30:00Z'));
    const [view] = t.emulator.control.meetings();
    expect(view).toMatchObject({
      lobbyBypassScope: 'organization',
      allowedPresenters: 'organization',
      lobbyLocked: false,
      patchCount: 1,
    });
  });

  it('lockLobby PATCH is visible in the inspection', async () => {
    const created = await graph.meetings.createOrGet(organizer, meetingInput('To be cancelled'));
    await graph.meetings.update(organizer, created.id, {
      subject: 'Cancelled: To be cancelled',
      startDateTime: '2026-09-14T08:15:00Z',
      endDateTime: '2026-09-14T10:00:00Z',
      lockLobby: true,
    });
    const [view] = t.emulator.control.meetings();
    expect(view).toMatchObject({
      lobbyLocked: true,
      lobbyBypassScope: 'organizer',
      allowedPresenters: 'organizer',
      subject: 'Cancelled: To be cancelled',
    });
  });

  it('delete returns true, then false for the deleted meeting; get gives null', async () => {
    const created = await graph.meetings.createOrGet(organizer, meetingInput());
    await expect(graph.meetings.delete(organizer, created.id)).resolves.toBe(true);
    await expect(graph.meetings.delete(organizer, created.id)).resolves.toBe(false);
    await expect(graph.meetings.get(organizer, created.id)).resolves.toBeNull();
    expect(t.emulator.control.meetings()).toHaveLength(0);
  });

  it('a UPN in the onlineMeetings path is a 404 (object id required)', async () => {
    const error = await rejectionOf(graph.meetings.createOrGet('ada@uni.example', meetingInput()));
    expect(isGraphError(error) && error.kind).toBe('notFound');
    expect(t.emulator.control.meetings()).toHaveLength(0);
  });

  it('end == start is accepted by Graph and passed through by the gateways (create and PATCH)', async () => {
    const at = '2026-09-14T10:00:00Z';
    const created = await graph.meetings.createOrGet(organizer, meetingInput('Zero length', at, at));
    expect(created.created).toBe(true);
    expect(Date.parse(created.startDateTime)).toBe(Date.parse(at));
    expect(Date.parse(created.endDateTime)).toBe(Date.parse(at));
    const later = '2026-09-15T10:00:00Z';
    const updated = await graph.meetings.update(organizer, created.id, {
      subject: 'Zero length',
      startDateTime: later,
      endDateTime: later,
    });
    expect(Date.parse(updated.startDateTime)).toBe(Date.parse(later));
    expect(Date.parse(updated.endDateTime)).toBe(Date.parse(later));
  });

  it('end < start is invalidRequest with Graph message, request-id and date', async () => {
    const error = await rejectionOf(
      graph.meetings.createOrGet(
        organizer,
        meetingInput('Backwards', '2026-09-14T10:00:00Z', '2026-09-14T09:59:59Z'),
      ),
    );
    expect(isGraphError(error)).toBe(true);
    if (!isGraphError(error)) return;
    expect(error.kind).toBe('invalidRequest');
    expect(error.status).toBe(400);
    expect(error.message).toContain('endDateTime must be later');
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(error.message).toContain(error.requestId);
  });

  it('malformed times are a 400', async () => {
    const error = await rejectionOf(
      graph.meetings.createOrGet(organizer, meetingInput('Bad', 'next monday', '2026-09-14T10:00:00Z')),
    );
    expect(isGraphError(error) && error.kind).toBe('invalidRequest');
  });

  it('error messages never contain join URLs or tokens', async () => {
    const created = await graph.meetings.createOrGet(organizer, meetingInput());
    const error = await rejectionOf(
      graph.meetings.update(organizer, created.id, {
        subject: 'x',
        startDateTime: '2026-09-14T10:00:00Z',
        endDateTime: '2026-09-14T09:00:00Z',
      }),
    );
    expect(String((error as Error).message)).not.toContain('meetup-join');
    expect(String((error as Error).message)).not.toMatch(/eyJ/);
  });
});

describe('emulator Graph rules the gateways do not exercise', () => {
  it('plain POST rejects externalId, PATCH needs start and end together, JoinWebUrl filter finds the meeting, no list API', async () => {
    const raw = await rawClient(t.emulator);
    const base = `/v1.0/users/${organizer}/onlineMeetings`;
    const plainWithKey = await raw(base, {
      method: 'POST',
      body: JSON.stringify({ subject: 'x', externalId: 'k' }),
    });
    expect(plainWithKey.status).toBe(400);
    const plain = await raw(base, {
      method: 'POST',
      body: JSON.stringify({
        subject: 'plain',
        startDateTime: '2026-09-14T08:00:00Z',
        endDateTime: '2026-09-14T09:00:00Z',
      }),
    });
    expect(plain.status).toBe(201);
    const meeting = (await plain.json()) as {
      id: string;
      joinWebUrl: string;
      joinMeetingIdSettings: { joinMeetingId: string; passcode: string };
      participants: { organizer: { identity: { user: { id: string } } } };
    };
    expect(meeting.joinMeetingIdSettings.joinMeetingId).toMatch(/^\d{12}$/);
    expect(meeting.participants.organizer.identity.user.id).toBe(organizer);
    const onlyStart = await raw(`${base}/${encodeURIComponent(meeting.id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ startDateTime: '2026-09-14T08:30:00Z' }),
    });
    expect(onlyStart.status).toBe(400);
    const filter = encodeURIComponent(`JoinWebUrl eq '${meeting.joinWebUrl}'`);
    const found = (await (await raw(`${base}?$filter=${filter}`)).json()) as { value: { id: string }[] };
    expect(found.value.map((m) => m.id)).toEqual([meeting.id]);
    expect((await raw(base)).status).toBe(400);
    // createOrGet accepts the options and ignores them (the tenant's defaults); see emulator-graph-quirks.
    const createOrGetExtra = await raw(`${base}/createOrGet`, {
      method: 'POST',
      body: JSON.stringify({ externalId: 'k2', lobbyBypassSettings: { scope: 'organizer' } }),
    });
    expect(createOrGetExtra.status).toBe(201);
    const extra = (await createOrGetExtra.json()) as { lobbyBypassSettings: { scope: string } };
    expect(extra.lobbyBypassSettings.scope).toBe('organization');
  });

  it('401 InvalidAuthenticationToken without or with a bad token; every response has request-id', async () => {
    const raw = await rawClient(t.emulator);
    for (const token of [null, 'not-a-jwt', 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln']) {
      const response = await raw(`/v1.0/users/${organizer}`, { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const body = (await response.json()) as { error: { code: string; innerError: Record<string, string> } };
      expect(body.error.code).toBe('InvalidAuthenticationToken');
      expect(body.error.innerError['request-id']).toBe(response.headers.get('request-id'));
    }
  });

  it('the /_emulator API mirrors the control object', async () => {
    await graph.meetings.createOrGet(organizer, meetingInput());
    const raw = await rawClient(t.emulator);
    const meetings = (await (await raw('/_emulator/meetings', { token: null })).json()) as {
      value: unknown[];
      duplicates: number;
    };
    expect(meetings.value).toHaveLength(1);
    expect(meetings.duplicates).toBe(0);
    const requests = (await (await raw('/_emulator/requests', { token: null })).json()) as { graph: number };
    expect(requests.graph).toBeGreaterThan(0);
  });
});
