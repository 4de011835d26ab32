// Token acquisition through real msal-node against the emulator's Entra endpoint, over https.
import { createHash, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphAccess } from '../../src/graph/client.js';
import { isGraphError } from '../../src/graph/errors.js';
import {
  meetingInput,
  rejectionOf,
  startTestEmulator,
  type TestEmulator,
} from '../support/graph-emulator.js';

let t: TestEmulator;
beforeAll(async () => {
  t = await startTestEmulator();
  t.emulator.control.allowDefaultAppGlobally();
});
afterAll(() => t.emulator.stop());

describe('token provider', () => {
  it('acquires the token once and reuses it from the MSAL cache across many calls', async () => {
    const before = t.emulator.control.requestCounts().token;
    const graph = t.access();
    const organizer = t.users[0]!.id;
    for (let i = 0; i < 10; i++) await graph.meetings.createOrGet(organizer, meetingInput(`cached ${i}`));
    await graph.users.resolveByEmail('ada@uni.example');
    await graph.getToken();
    expect(t.emulator.control.requestCounts().token - before).toBe(1);
    expect(graph.stats().requests).toBe(11);
  });

  it('a wrong secret is an unauthorized GraphError naming GRAPH_CLIENT_SECRET, without the secret', async () => {
    const secret = 'wrong-secret-value-1234567890';
    const graph = t.access({ credential: { kind: 'secret', secret } });
    const error = await rejectionOf(graph.getToken());
    expect(isGraphError(error)).toBe(true);
    if (!isGraphError(error)) return;
    expect(error.kind).toBe('unauthorized');
    expect(error.graphCode).toBe('invalid_client');
    expect(error.message).toContain('GRAPH_CLIENT_SECRET');
    expect(error.message).toContain('AADSTS7000215');
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    // A gateway call fails the same way.
    const viaGateway = await rejectionOf(graph.users.resolveByEmail('ada@uni.example'));
    expect(isGraphError(viaGateway) && viaGateway.kind).toBe('unauthorized');
  });

  it('an unknown client id names GRAPH_CLIENT_ID', async () => {
    const graph = t.access({ clientId: '11111111-2222-3333-4444-555555555555' });
    const error = await rejectionOf(graph.getToken());
    expect(isGraphError(error) && error.kind).toBe('unauthorized');
    expect((error as Error).message).toMatch(/AADSTS700016.*GRAPH_CLIENT_ID/s);
  });

  it('authenticates with a certificate (client assertion verified against the registered certificate)', async () => {
    const cert = await generate([{ name: 'commonName', value: 'timetable-sync app' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    const app = t.emulator.control.registerApp({ certificatePems: [cert.cert] });
    const thumbprintSha256 = createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('hex');
    const graph = createGraphAccess(
      t.emulator.settings({
        clientId: app.clientId,
        credential: { kind: 'certificate', privateKeyPem: cert.private, thumbprintSha256 },
      }),
    );
    await expect(graph.getToken()).resolves.toBeUndefined();

    const other = await generate([{ name: 'commonName', value: 'not registered' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    const otherThumb = createHash('sha256').update(new X509Certificate(other.cert).raw).digest('hex');
    const bad = createGraphAccess(
      t.emulator.settings({
        clientId: app.clientId,
        credential: { kind: 'certificate', privateKeyPem: other.private, thumbprintSha256: otherThumb },
      }),
    );
    const error = await rejectionOf(bad.getToken());
    expect(isGraphError(error) && error.kind).toBe('unauthorized');
    expect((error as Error).message).toContain('GRAPH_CERTIFICATE_PEM');
  });

  it('authenticates with a client assertion callback (managed identity as federated credential)', async () => {
    let calls = 0;
    const graph = createGraphAccess(
      t.emulator.settings({
        credential: {
          kind: 'assertion',
          getAssertion: () => {
            calls++;
            return Promise.resolve(t.emulator.control.mintManagedIdentityAssertion());
          },
        },
      }),
    );
    const user = await graph.users.resolveByEmail('ada@uni.example');
    expect(user?.objectId).toBe(t.users[0]!.id);
    expect(calls).toBe(1);
  });

  it('an app without OnlineMeetings.ReadWrite.All gets forbidden (not policyMissing)', async () => {
    const app = t.emulator.control.registerApp({ roles: ['User.Read.All'] });
    const graph = createGraphAccess(
      t.emulator.settings({ clientId: app.clientId, credential: { kind: 'secret', secret: app.secret! } }),
    );
    const error = await rejectionOf(graph.meetings.createOrGet(t.users[0]!.id, meetingInput()));
    expect(isGraphError(error) && error.kind).toBe('forbidden');
    expect(isGraphError(error) && error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a token the emulator considers expired gives unauthorized (401 InvalidAuthenticationToken)', async () => {
    const graph = t.access();
    await graph.getToken();
    t.emulator.control.advanceTime(2 * 3600_000); // MSAL still trusts its cached token; Graph does not.
    try {
      const error = await rejectionOf(graph.users.resolveByEmail('ada@uni.example'));
      expect(isGraphError(error) && error.kind).toBe('unauthorized');
      expect(isGraphError(error) && error.graphCode).toBe('InvalidAuthenticationToken');
    } finally {
      t.emulator.control.advanceTime(-2 * 3600_000);
    }
  });

  it('refuses to talk to the emulator when its CA is not trusted (no TLS bypass)', async () => {
    const graph = t.access({ caCertPem: undefined });
    const error = await rejectionOf(graph.getToken());
    expect(isGraphError(error) && error.kind).toBe('unauthorized');
    expect((error as Error).message).toContain('GRAPH_CA_CERT_FILE');
  });
});
