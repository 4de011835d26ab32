// The emulator's /_emulator/* control API validates its JSON bodies: a bad body is a 400 naming the
// field and what is wrong, and changes nothing.
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type EmulatorHandle } from '../../src/emulator/index.js';

let emulator: EmulatorHandle;
let dispatcher: Agent;
beforeAll(async () => {
  emulator = await startGraphEmulator({ propagationDelayMs: 0 });
  dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
});
afterAll(async () => {
  await emulator.stop();
  await dispatcher.close();
});

interface ControlError {
  error: { code: string; message: string; details?: { target: string; message: string }[] };
}

async function control(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function refused(method: string, path: string, body: unknown): Promise<ControlError['error']> {
  const { status, json } = await control(method, path, body);
  expect(status).toBe(400);
  const { error } = json as ControlError;
  expect(error.code).toBe('BadRequest');
  return error;
}

describe('/_emulator control bodies', () => {
  it('a wrongly typed field is a 400 naming the field and the expected type', async () => {
    const error = await refused('POST', 'clock', { advanceMs: '5000' });
    expect(error.message).toMatch(/^invalid body for POST \/_emulator\/clock: advanceMs: .*expected number/);
    expect(error.details).toEqual([
      { target: 'advanceMs', message: expect.stringMatching(/expected number/) as unknown },
    ]);
  });

  it('a missing required field is named', async () => {
    const error = await refused('POST', 'clock', {});
    expect(error.details?.map((d) => d.target)).toEqual(['advanceMs']);
  });

  it('an unknown (misspelt) setting is refused by name instead of being ignored', async () => {
    const error = await refused('PUT', 'faults', { errorrate: 1 });
    expect(error.details).toEqual([{ target: 'errorrate', message: 'unknown field' }]);
    expect((await control('PUT', 'faults', {})).status).toBe(200);
  });

  it('out-of-range and wrong enum values name the field, and nothing changes', async () => {
    const before = emulator.control.policies();
    const faults = await refused('PUT', 'faults', { errorRate: 1.5, failAfterCommitMode: 'drop' });
    expect(faults.details?.map((d) => d.target).sort()).toEqual(['errorRate', 'failAfterCommitMode']);
    const settings = await refused('PUT', 'settings', { propagationDelayMs: -1 });
    expect(settings.details?.[0]?.target).toBe('propagationDelayMs');
    const throttle = await refused('PUT', 'throttle', { retryAfterSeconds: 1.5 });
    expect(throttle.details?.[0]?.target).toBe('retryAfterSeconds');
    expect(emulator.control.policies()).toEqual(before);
  });

  it('nested fields are named with their path', async () => {
    const error = await refused('POST', 'users', {
      users: [{ displayName: 'Ada', userPrincipalName: 'ada@uni.example' }, { displayName: 'Bo' }],
    });
    expect(error.details?.map((d) => d.target)).toEqual(['users.1.userPrincipalName']);
    expect(emulator.control.users()).toEqual([]);
  });

  it('policy bodies: name required, grant needs a user or global (not both), policyName present', async () => {
    expect((await refused('POST', 'policies', { appIds: [emulator.clientId] })).details?.[0]?.target).toBe(
      'name',
    );
    expect(
      (await refused('POST', 'policies', { name: 'p', appIds: 'not-a-list' })).details?.[0]?.target,
    ).toBe('appIds');
    expect((await refused('POST', 'policies/grant', { policyName: 'p' })).details?.[0]?.target).toBe(
      'userId',
    );
    expect(
      (await refused('POST', 'policies/grant', { policyName: 'p', global: true, userId: 'u' })).details?.[0]
        ?.target,
    ).toBe('global');
    expect((await refused('POST', 'policies/grant', { global: true })).details?.[0]?.target).toBe(
      'policyName',
    );
    expect((await refused('PATCH', 'policies/p', { add: [1] })).details?.[0]?.target).toBe('add.0');
  });

  it('an app with something that is not a PEM certificate is refused, not a 500', async () => {
    const error = await refused('POST', 'apps', { certificatePems: ['hello'] });
    expect(error.details).toEqual([{ target: 'certificatePems.0', message: 'expected a PEM certificate' }]);
  });

  it('valid bodies still work, and the policy store still answers its own errors', async () => {
    expect(
      (await control('POST', 'policies', { name: 'valid', appIds: [emulator.clientId], delayMs: 0 })).status,
    ).toBe(201);
    expect(
      (await control('POST', 'policies/grant', { policyName: 'valid', global: true, delayMs: 0 })).status,
    ).toBe(200);
    expect(
      (
        await control('POST', 'policies/grant', {
          policyName: null,
          identity: '00000000-0000-0000-0000-000000000001',
        })
      ).status,
    ).toBe(200);
    expect((await control('PUT', 'throttle', { perAppPerSecond: 5 })).json).toEqual({ perAppPerSecond: 5 });
    const duplicate = await control('POST', 'policies', { identity: 'VALID', appIds: [] });
    expect(duplicate).toEqual({
      status: 400,
      json: { error: { code: 'PolicyError', message: "a policy named 'VALID' already exists" } },
    });
    expect((await control('POST', 'clock', { advanceMs: 1000 })).status).toBe(200);
    expect((await control('POST', 'reset', undefined)).status).toBe(200);
  });
});
