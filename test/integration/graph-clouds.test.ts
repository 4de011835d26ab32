// National clouds through the real MSAL + SDK path: the token scope is the configured cloud's Graph, a
// US Government tenant refuses a global scope (AADSTS500011), and a China configuration never starts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { toGraphSettings } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { emulatorAppSettings, startGraphEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { createGraphAccess } from '../../src/graph/index.js';

let gov: EmulatorHandle;
let dir: string;
let settings: Record<string, string>;
beforeAll(async () => {
  gov = await startGraphEmulator({ cloud: 'usgov', propagationDelayMs: 0 });
  dir = await mkdtemp(path.join(tmpdir(), 'tts-clouds-'));
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, gov.caCertPem);
  settings = emulatorAppSettings(gov, caFile);
});
afterAll(async () => {
  await gov.stop();
  await rm(dir, { recursive: true, force: true });
});

function graphFor(cloud: string) {
  const config = loadConfig({ ...settings, GRAPH_CLOUD: cloud });
  return createGraphAccess(toGraphSettings(config.graph!, config));
}

describe('national clouds', () => {
  it('a US Government configuration asks for the US Government Graph scope and gets to work', async () => {
    const graph = graphFor('usgov');
    const [ada] = gov.control.seedUsers([{ displayName: 'Ada', userPrincipalName: 'ada@agency.example' }]);
    expect((await graph.users.resolveByEmail('ada@agency.example'))?.objectId).toBe(ada!.id);
    expect(gov.control.behaviour().lastTokenScope).toBe('https://graph.microsoft.us/.default');
  });

  it("a global configuration against a US Government tenant fails on the token, naming Entra's error", async () => {
    const graph = graphFor('global');
    await expect(graph.getToken()).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(graph.getToken()).rejects.toThrow(/500011|invalid_resource/);
  });

  it('a China configuration is refused at start with a clear message', () => {
    expect(() => loadConfig({ ...settings, GRAPH_CLOUD: 'china' })).toThrow(
      /GRAPH_CLOUD: the onlineMeetings create\/update\/delete APIs are not offered in the China \(21Vianet\) cloud/,
    );
  });
});
