import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTING_DEFAULTS, SETTINGS } from '../../src/config.js';
import { toGraphSettings } from '../../src/compose.js';
import { emulatorAppSettings } from '../../src/emulator/settings.js';
import { GRAPH_CLOUDS } from '../../src/graph/clouds.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.graph).toBeNull();
    expect(config.sync.horizonDays).toBe(120);
    expect(config.sync.maxCancelShare).toBe(0.2);
    expect(config.sync.cancelMode).toBe('delete');
    expect(config.policy.propagationMinutes).toBe(60);
    expect(config.policy.probeHours).toBe(6);
    expect(config.sync.schedule).toBe('0 */15 * * * *');
  });

  it('reports every problem at once, by setting name, without echoing secrets', () => {
    const problems = problemsOf({
      GRAPH_CLIENT_SECRET: 'hunter2-very-secret',
      HORIZON_DAYS: 'abc',
      POLICY_GLOBAL_GRANTED_AT: 'yesterday',
      GRAPH_BASE_URL: 'http://graph.example',
      CANCEL_MODE: 'shred',
    });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['HORIZON_DAYS', 'POLICY_GLOBAL_GRANTED_AT', 'GRAPH_BASE_URL', 'CANCEL_MODE']),
    );
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('requires tenant and client id once any Graph credential is given', () => {
    const problems = problemsOf({ GRAPH_CLIENT_SECRET: 'hunter2-very-secret' });
    expect(problems.some((p) => p.startsWith('GRAPH_TENANT_ID:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('GRAPH_CLIENT_ID:'))).toBe(true);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('rejects two credentials at once and a certificate without thumbprint', () => {
    const problems = problemsOf({
      GRAPH_TENANT_ID: 'contoso.onmicrosoft.com',
      GRAPH_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      GRAPH_CLIENT_SECRET: 'x',
      GRAPH_CERTIFICATE_PEM: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
    });
    expect(problems.some((p) => p.includes('exactly one credential'))).toBe(true);
    expect(problems.some((p) => p.startsWith('GRAPH_CERTIFICATE_THUMBPRINT_SHA256:'))).toBe(true);
  });

  it('builds a certificate credential and a managed-identity storage config', () => {
    const config = loadConfig({
      GRAPH_TENANT_ID: 'contoso.onmicrosoft.com',
      GRAPH_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      GRAPH_CERTIFICATE_PEM: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
      GRAPH_CERTIFICATE_THUMBPRINT_SHA256: 'a'.repeat(64),
      AzureWebJobsStorage__accountName: 'sttimetable',
      POLICY_GLOBAL_GRANTED_AT: '2026-09-01T08:00:00+02:00',
    });
    expect(config.graph?.credential.kind).toBe('certificate');
    expect(config.storage).toEqual({ kind: 'managedIdentity', accountName: 'sttimetable', clientId: null });
    expect(config.policy.globalGrantedAt).toBe('2026-09-01T06:00:00.000Z');
  });

  it("builds a federated credential from the managed identity (Azure), whose token is asked for the cloud's token-exchange audience", () => {
    const graph = {
      GRAPH_TENANT_ID: 'contoso.onmicrosoft.us',
      GRAPH_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      GRAPH_FEDERATED_IDENTITY_CLIENT_ID: '00000000-0000-0000-0000-0000000000aa',
    };
    expect(loadConfig(graph).graph?.credential).toEqual({
      kind: 'managedIdentity',
      clientId: '00000000-0000-0000-0000-0000000000aa',
    });
    expect(GRAPH_CLOUDS.global.tokenExchangeAudience).toBe('api://AzureADTokenExchange');
    expect(GRAPH_CLOUDS.usgov.tokenExchangeAudience).toBe('api://AzureADTokenExchangeUSGov');
    // The Graph client gets an assertion (asked for only when a token is needed: nothing is sent here).
    const config = loadConfig({ ...graph, GRAPH_CLOUD: 'usgov' });
    expect(toGraphSettings(config.graph!, config).credential.kind).toBe('assertion');
    expect(
      problemsOf({ ...graph, GRAPH_CLIENT_SECRET: 'x' }).some((p) => p.includes('exactly one credential')),
    ).toBe(true);
  });
});

describe('settings schema (each setting described once)', () => {
  it('gives every setting a description and derives the defaults from its rule', () => {
    expect(Object.keys(SETTINGS).length).toBeGreaterThan(30);
    for (const [name, description] of Object.entries(SETTINGS))
      expect(description.length, name).toBeGreaterThan(10);
    expect(Object.keys(SETTING_DEFAULTS)).toEqual(Object.keys(SETTINGS));
    expect(SETTING_DEFAULTS).toMatchObject({
      HORIZON_DAYS: '120',
      MAX_CANCEL_SHARE: '0.2',
      ALLOW_HTTP_FEEDS: 'false',
      GRAPH_CLOUD: 'global',
      GRAPH_BASE_URL: undefined, // the cloud's
      GRAPH_TENANT_ID: undefined,
      PUBLIC_BASE_URL: undefined,
    });
  });

  it('loading the defaults as settings gives the default configuration', () => {
    const env = Object.fromEntries(
      Object.entries(SETTING_DEFAULTS).map(([name, value]) => [name, value ?? '']),
    );
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('ignores names it does not know', () => {
    expect(loadConfig({ HORIZON_DAYZ: 'abc' })).toEqual(loadConfig({}));
  });

  it('the settings that point the daemon at the emulator are settings the schema knows', () => {
    const settings = emulatorAppSettings(
      {
        tenantId: 't',
        clientId: 'c',
        clientSecret: 's',
        authorityHost: 'https://a',
        graphBaseUrl: 'https://g',
      },
      '/ca.pem',
    );
    expect(Object.keys(settings).filter((name) => !(name in SETTINGS))).toEqual([]);
    expect(loadConfig(settings).graph?.caCertFile).toBe('/ca.pem');
  });
});

describe('GRAPH_CLOUD (national clouds)', () => {
  const app = {
    GRAPH_TENANT_ID: 'contoso.onmicrosoft.us',
    GRAPH_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
    GRAPH_CLIENT_SECRET: 'hunter2-very-secret',
  };

  it.each([
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com'],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'],
    ['usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
  ])('%s gives the authority and Graph hosts their defaults', (cloud, authority, graph) => {
    const config = loadConfig({ ...app, GRAPH_CLOUD: cloud });
    expect(config.graph).toMatchObject({ cloud, authorityHost: authority, graphBaseUrl: graph });
  });

  it('is global when unset or empty', () => {
    expect(loadConfig(app).graph).toMatchObject({
      cloud: 'global',
      authorityHost: 'https://login.microsoftonline.com',
      graphBaseUrl: 'https://graph.microsoft.com',
    });
    expect(loadConfig({ ...app, GRAPH_AUTHORITY_HOST: '', GRAPH_BASE_URL: '' })).toEqual(loadConfig(app));
  });

  it('explicit hosts win over the cloud (the emulator at 127.0.0.1 with a US Government scope)', () => {
    const config = loadConfig({
      ...app,
      GRAPH_CLOUD: 'usgov',
      GRAPH_AUTHORITY_HOST: 'https://127.0.0.1:8443/',
      GRAPH_BASE_URL: 'https://127.0.0.1:8443',
    });
    expect(config.graph).toMatchObject({
      cloud: 'usgov',
      authorityHost: 'https://127.0.0.1:8443',
      graphBaseUrl: 'https://127.0.0.1:8443',
    });
  });

  it('refuses china at start, and any cloud it does not know', () => {
    expect(problemsOf({ ...app, GRAPH_CLOUD: 'china' })).toEqual([
      'GRAPH_CLOUD: the onlineMeetings create/update/delete APIs are not offered in the China (21Vianet) cloud',
    ]);
    // Refused even before the other Graph settings are given.
    expect(problemsOf({ GRAPH_CLOUD: 'china' })).toEqual([
      'GRAPH_CLOUD: the onlineMeetings create/update/delete APIs are not offered in the China (21Vianet) cloud',
    ]);
    expect(problemsOf({ ...app, GRAPH_CLOUD: 'germany' })[0]).toMatch(/^GRAPH_CLOUD: must be one of global/);
  });

  describe('unset: inferred from the hosts', () => {
    it.each([
      ['https://graph.microsoft.com', 'global', 'https://login.microsoftonline.com'],
      ['https://graph.microsoft.us', 'usgov', 'https://login.microsoftonline.us'],
      ['https://dod-graph.microsoft.us/', 'usgovdod', 'https://login.microsoftonline.us'],
    ])('GRAPH_BASE_URL %s alone → %s (and its authority)', (graphBaseUrl, cloud, authority) => {
      const config = loadConfig({ ...app, GRAPH_BASE_URL: graphBaseUrl });
      expect(config.graph).toMatchObject({ cloud, authorityHost: authority });
    });

    it('GRAPH_AUTHORITY_HOST alone: login.microsoftonline.us → usgov, login.microsoftonline.com → global', () => {
      expect(
        loadConfig({ ...app, GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.us' }).graph,
      ).toMatchObject({
        cloud: 'usgov',
        graphBaseUrl: 'https://graph.microsoft.us',
      });
      expect(
        loadConfig({ ...app, GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.com' }).graph,
      ).toMatchObject({
        cloud: 'global',
        graphBaseUrl: 'https://graph.microsoft.com',
      });
    });

    it('the existing GCC High deployment (both US hosts, no GRAPH_CLOUD) asks for the US Government scope', () => {
      const env = {
        ...app,
        GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.us',
        GRAPH_BASE_URL: 'https://graph.microsoft.us',
      };
      expect(loadConfig(env).graph?.cloud).toBe('usgov');
      expect(loadConfig({ ...env, GRAPH_CLOUD: '' }).graph?.cloud).toBe('usgov');
      // The Graph URL tells L5 from L4 where the shared authority cannot.
      expect(loadConfig({ ...env, GRAPH_BASE_URL: 'https://dod-graph.microsoft.us' }).graph?.cloud).toBe(
        'usgovdod',
      );
    });

    it('refuses China by its hosts, even before the other Graph settings are given', () => {
      const refusal =
        'the onlineMeetings create/update/delete APIs are not offered in the China (21Vianet) cloud';
      expect(problemsOf({ ...app, GRAPH_BASE_URL: 'https://microsoftgraph.chinacloudapi.cn' })).toEqual([
        `GRAPH_BASE_URL: https://microsoftgraph.chinacloudapi.cn is in the China (21Vianet) cloud: ${refusal}`,
      ]);
      for (const authority of [
        'https://login.chinacloudapi.cn',
        'https://login.partner.microsoftonline.cn',
      ]) {
        expect(problemsOf({ ...app, GRAPH_AUTHORITY_HOST: authority })).toEqual([
          `GRAPH_AUTHORITY_HOST: ${authority} is in the China (21Vianet) cloud: ${refusal}`,
        ]);
        expect(problemsOf({ GRAPH_AUTHORITY_HOST: authority })).toHaveLength(1);
      }
      expect(
        problemsOf({
          ...app,
          GRAPH_AUTHORITY_HOST: 'https://login.chinacloudapi.cn',
          GRAPH_BASE_URL: 'https://microsoftgraph.chinacloudapi.cn',
        }),
      ).toEqual([
        `GRAPH_BASE_URL: https://microsoftgraph.chinacloudapi.cn is in the China (21Vianet) cloud: ${refusal}`,
      ]);
    });

    it('other hosts (the emulator at 127.0.0.1) keep global', () => {
      expect(
        loadConfig({
          ...app,
          GRAPH_AUTHORITY_HOST: 'https://127.0.0.1:8443',
          GRAPH_BASE_URL: 'https://127.0.0.1:8443',
        }).graph?.cloud,
      ).toBe('global');
      const settings = emulatorAppSettings(
        {
          tenantId: 't',
          clientId: 'c',
          clientSecret: 's',
          authorityHost: 'https://127.0.0.1:8443',
          graphBaseUrl: 'https://127.0.0.1:8443',
        },
        '/ca.pem',
      );
      expect(loadConfig(settings).graph?.cloud).toBe('global');
    });

    it('refuses a Graph host and an authority of two different clouds', () => {
      const problems = problemsOf({
        ...app,
        GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.com',
        GRAPH_BASE_URL: 'https://graph.microsoft.us',
      });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^GRAPH_AUTHORITY_HOST: https:\/\/login\.microsoftonline\.com is the authority of the global cloud but GRAPH_BASE_URL https:\/\/graph\.microsoft\.us is the usgov \(US Government L4, GCC High\) Graph/,
      );
    });
  });

  describe('set: a Microsoft host of another cloud is refused', () => {
    it('GRAPH_CLOUD=global with the US Government Graph names both settings and what each says', () => {
      const problems = problemsOf({
        ...app,
        GRAPH_CLOUD: 'global',
        GRAPH_BASE_URL: 'https://graph.microsoft.us',
      });
      expect(problems).toEqual([
        'GRAPH_BASE_URL: https://graph.microsoft.us is the Graph of the usgov (US Government L4, GCC High) cloud but GRAPH_CLOUD is global (token scope https://graph.microsoft.com/.default): tokens of one cloud are refused by the other; make GRAPH_CLOUD, GRAPH_BASE_URL and GRAPH_AUTHORITY_HOST name the same cloud',
      ]);
      expect(problems.join('\n')).not.toContain('hunter2');
    });

    it.each([
      ['usgovdod', 'GRAPH_BASE_URL', 'https://graph.microsoft.us'],
      ['usgov', 'GRAPH_BASE_URL', 'https://dod-graph.microsoft.us'],
      ['usgov', 'GRAPH_BASE_URL', 'https://graph.microsoft.com'],
      ['global', 'GRAPH_AUTHORITY_HOST', 'https://login.microsoftonline.us'],
      ['usgov', 'GRAPH_AUTHORITY_HOST', 'https://login.microsoftonline.com'],
      ['usgovdod', 'GRAPH_AUTHORITY_HOST', 'https://login.chinacloudapi.cn'],
    ])('GRAPH_CLOUD=%s with %s %s', (cloud, setting, host) => {
      const problems = problemsOf({ ...app, GRAPH_CLOUD: cloud, [setting]: host });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`${setting}: ${host} is the `);
      expect(problems[0]).toContain(`but GRAPH_CLOUD is ${cloud} (token scope `);
    });

    it('the same cloud, the shared US Government authority, and unknown hosts are accepted', () => {
      for (const cloud of ['usgov', 'usgovdod']) {
        expect(
          loadConfig({ ...app, GRAPH_CLOUD: cloud, GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.us' })
            .graph?.cloud,
        ).toBe(cloud);
      }
      expect(
        loadConfig({
          ...app,
          GRAPH_CLOUD: 'usgov',
          GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.us',
          GRAPH_BASE_URL: 'https://graph.microsoft.us',
        }).graph?.cloud,
      ).toBe('usgov');
      expect(
        loadConfig({ ...app, GRAPH_CLOUD: 'usgov', GRAPH_BASE_URL: 'https://graph.contoso.example' }).graph,
      ).toMatchObject({ cloud: 'usgov', graphBaseUrl: 'https://graph.contoso.example' });
    });
  });

  it('an http host is still refused', () => {
    expect(problemsOf({ ...app, GRAPH_BASE_URL: 'http://127.0.0.1' })).toEqual([
      'GRAPH_BASE_URL: must be an https URL',
    ]);
  });
});
