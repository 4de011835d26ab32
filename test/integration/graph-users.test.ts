// Organizer resolution: UPN first, then mail, then SMTP proxy addresses; unknown → null.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GraphAccess } from '../../src/graph/client.js';
import { startTestEmulator, type TestEmulator } from '../support/graph-emulator.js';

let t: TestEmulator;
let graph: GraphAccess;
beforeAll(async () => {
  t = await startTestEmulator();
  graph = t.access();
});
afterAll(() => t.emulator.stop());

it('resolves by UPN', async () => {
  await expect(graph.users.resolveByEmail('ada@uni.example')).resolves.toEqual({
    objectId: t.users[0]!.id,
    displayName: 'Ada Lovelace',
    userPrincipalName: 'ada@uni.example',
    mail: 'ada.lovelace@uni.example',
    // The gateway selects them (Graph returns them only when selected): a seeded user's defaults.
    userType: 'Member',
    accountEnabled: true,
  });
});

it('falls back to mail (with a quote escaped in the filter)', async () => {
  const user = await graph.users.resolveByEmail("brian.o'neill@uni.example");
  expect(user?.objectId).toBe(t.users[1]!.id);
  const counts = t.emulator.control.requestCounts().byRoute;
  expect(counts['GET /v1.0/users/{id}']?.['404']).toBeGreaterThanOrEqual(1);
  expect(counts['GET /v1.0/users?$filter']?.['200']).toBeGreaterThanOrEqual(1);
});

it('falls back to an SMTP proxy address (alias)', async () => {
  const user = await graph.users.resolveByEmail('wei.chen@alias.example');
  expect(user?.objectId).toBe(t.users[2]!.id);
});

it('an unknown address is null, not an error', async () => {
  await expect(graph.users.resolveByEmail('nobody@uni.example')).resolves.toBeNull();
  await expect(graph.users.resolveByEmail('   ')).resolves.toBeNull();
});
