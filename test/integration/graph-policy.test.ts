// Teams application access policies: the 403 before propagation, success after, per-user vs global
// grants. The emulator clock is advanced instead of waiting (default 30-minute propagation).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphAccess } from '../../src/graph/client.js';
import { classifyGraphError, isGraphError } from '../../src/graph/errors.js';
import {
  meetingInput,
  rawClient,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

const MINUTE = 60_000;
let t: TestEmulator;
let graph: GraphAccess;
beforeAll(async () => {
  // Tokens outlive the clock jumps below (MSAL caches by its own clock; see graph-auth for expiry).
  t = await startTestEmulator({ propagationDelayMs: 30 * MINUTE, tokenLifetimeSeconds: 30 * 24 * 3600 });
  graph = t.access();
});
beforeEach(() => {
  t.emulator.control.reset({ everything: true });
  t.users = t.emulator.control.seedUsers([
    { displayName: 'Ada', userPrincipalName: 'ada@uni.example', mail: 'ada@uni.example' },
    { displayName: 'Ben', userPrincipalName: 'ben@uni.example', mail: 'ben@uni.example' },
  ]);
  t.emulator.control.setPolicyErrorStyle('current');
});
afterAll(() => t.emulator.stop());

async function kindOfCreate(organizerId: string): Promise<string> {
  try {
    await graph.meetings.createOrGet(organizerId, meetingInput());
    return 'ok';
  } catch (e) {
    return classifyGraphError(e).kind;
  }
}

describe('application access policy', () => {
  it('no policy: 403 classified policyMissing, with the exact current body', async () => {
    const error = await rejectionOf(graph.meetings.createOrGet(t.users[0]!.id, meetingInput()));
    expect(isGraphError(error)).toBe(true);
    if (!isGraphError(error)) return;
    expect(error).toMatchObject({ kind: 'policyMissing', status: 403, graphCode: 'Forbidden' });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const raw = await rawClient(t.emulator);
    const body = (await (
      await raw(`/v1.0/users/${t.users[0]!.id}/onlineMeetings/createOrGet`, {
        method: 'POST',
        body: JSON.stringify(meetingInput()),
      })
    ).json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe('Forbidden');
    expect(body.error.message).toBe('No application access policy found for this app.');
    expect(Object.keys(body.error.innerError).sort()).toEqual(['client-request-id', 'date', 'request-id']);
  });

  it('a per-user grant is policyMissing until propagated, then succeeds', async () => {
    const { control } = t.emulator;
    control.newPolicy('timetable-sync', [t.emulator.clientId]);
    control.grantPolicy('timetable-sync', { userId: t.users[0]!.id });
    expect(await kindOfCreate(t.users[0]!.id)).toBe('policyMissing');
    control.advanceTime(29 * MINUTE);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('policyMissing');
    control.advanceTime(1 * MINUTE);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
    // Ben has no grant and there is no global one.
    expect(await kindOfCreate(t.users[1]!.id)).toBe('policyMissing');
  });

  it('the legacy body (Unauthorized / App … is not authorized to Create meeting …) is also policyMissing', async () => {
    t.emulator.control.setPolicyErrorStyle('legacy');
    const error = await rejectionOf(graph.meetings.createOrGet(t.users[0]!.id, meetingInput()));
    expect(error).toMatchObject({ kind: 'policyMissing', status: 403, graphCode: 'Unauthorized' });
    expect((error as Error).message).toContain(
      `App ${t.emulator.clientId} is not authorized to Create meeting on behalf of user ${t.users[0]!.id}`,
    );
  });

  it('the policy applies to every onlineMeetings route of that user (get, update, delete)', async () => {
    const { control } = t.emulator;
    control.newPolicy('p', [t.emulator.clientId], '', { delayMs: 0 });
    control.grantPolicy('p', 'global', { delayMs: 0 });
    const created = await graph.meetings.createOrGet(t.users[0]!.id, meetingInput());
    control.grantPolicy(null, 'global'); // removal propagates too
    control.advanceTime(30 * MINUTE);
    for (const call of [
      graph.meetings.get(t.users[0]!.id, created.id),
      graph.meetings.delete(t.users[0]!.id, created.id),
    ]) {
      expect(classifyGraphError(await rejectionOf(call)).kind).toBe('policyMissing');
    }
  });

  it("global grant covers everyone without their own; a user's own grant overrides it", async () => {
    const { control } = t.emulator;
    control.newPolicy('with-app', [t.emulator.clientId]);
    control.newPolicy('other-apps', ['99999999-0000-0000-0000-000000000000']);
    control.grantPolicy('with-app', 'global');
    control.grantPolicy('other-apps', { userId: t.users[1]!.id });
    control.advanceTime(30 * MINUTE);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
    // Ben's own policy (without our app) wins over the global one.
    expect(await kindOfCreate(t.users[1]!.id)).toBe('policyMissing');
    // Removing Ben's own grant ($null) falls back to global, after propagation.
    control.grantPolicy(null, { userId: t.users[1]!.id });
    expect(await kindOfCreate(t.users[1]!.id)).toBe('policyMissing');
    control.advanceTime(30 * MINUTE);
    expect(await kindOfCreate(t.users[1]!.id)).toBe('ok');
  });

  it('a new grant replaces the old one (one policy per user); the old stays in force until the new propagates', async () => {
    const { control } = t.emulator;
    control.newPolicy('with-app', [t.emulator.clientId], '', { delayMs: 0 });
    control.newPolicy('other-apps', ['99999999-0000-0000-0000-000000000000'], '', { delayMs: 0 });
    control.grantPolicy('with-app', { userId: t.users[0]!.id }, { delayMs: 0 });
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
    control.grantPolicy('other-apps', { userId: t.users[0]!.id });
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
    control.advanceTime(30 * MINUTE);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('policyMissing');
    // Set-CsApplicationAccessPolicy -AppIds @{Add=...}: keep every app in the one policy.
    control.setPolicy('other-apps', { add: [t.emulator.clientId] });
    control.advanceTime(30 * MINUTE);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
  });

  it('policies are drivable over /_emulator/policies with a real (short) propagation delay', async () => {
    const raw = await rawClient(t.emulator);
    const json = { token: null, method: 'POST' } as const;
    expect(
      (
        await raw('/_emulator/settings', {
          ...json,
          method: 'PUT',
          body: JSON.stringify({ propagationDelayMs: 1000 }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await raw('/_emulator/policies', {
          ...json,
          body: JSON.stringify({ name: 'http-policy', appIds: [t.emulator.clientId] }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await raw('/_emulator/policies/grant', {
          ...json,
          body: JSON.stringify({ policyName: 'http-policy', userId: t.users[0]!.id }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await raw('/_emulator/policies/grant', {
          ...json,
          body: JSON.stringify({ policyName: 'missing', global: true }),
        })
      ).status,
    ).toBe(400);
    expect(await kindOfCreate(t.users[0]!.id)).toBe('policyMissing');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await kindOfCreate(t.users[0]!.id)).toBe('ok');
    const listed = (await (await raw('/_emulator/policies', { token: null })).json()) as {
      grants: { target: string; effective: boolean }[];
    };
    expect(listed.grants).toEqual([expect.objectContaining({ target: t.users[0]!.id, effective: true })]);
    t.emulator.control.setPropagationDelay(30 * MINUTE);
  });
});
