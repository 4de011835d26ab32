// SETTINGS in src/config.ts (derived from its settings schema) is the one list of app settings. This test keeps the two other places that
// name them in step: local.settings.sample.json (every setting, with the code's default or empty) and the
// Bicep app settings (every setting except the local-only ones named in main.bicep), and it catches stale
// names in either. The checks are pure functions, exercised on broken inputs too, so they can fail.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTING_DEFAULTS, SETTINGS } from '../../src/config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const INFRA = join(ROOT, 'infra');

/** Names the Functions host and platform own; they may appear without being in SETTINGS. */
const HOST_SETTING = /^(FUNCTIONS_|AzureWebJobs|APPLICATIONINSIGHTS_|WEBSITE_|languageWorkers__)/;

const BEGIN = /\/\/\s*settings-consistency:begin\b/;
const END = /\/\/\s*settings-consistency:end\b/;
const LOCAL_ONLY = /\/\/\s*settings-consistency:local-only\s+(.+)$/m;

interface BicepSettings {
  /** setting name → the Bicep expression assigned to it */
  entries: Map<string, string>;
  blocks: number;
}

/**
 * Reads the keys between `// settings-consistency:begin` and `// settings-consistency:end`: object
 * entries (`NAME: expr`) or array entries (`name: 'NAME'` with `value: expr`, siteConfig.appSettings style).
 */
function readBicepSettings(text: string): BicepSettings {
  const entries = new Map<string, string>();
  let blocks = 0;
  let inside = false;
  let pendingArrayName: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (BEGIN.test(raw)) {
      if (inside) throw new Error('settings-consistency:begin inside an open block');
      inside = true;
      blocks += 1;
      continue;
    }
    if (END.test(raw)) {
      if (!inside) throw new Error('settings-consistency:end without begin');
      inside = false;
      continue;
    }
    if (!inside) continue;
    const line = raw.replace(/\s+\/\/.*$/, '').replace(/^[\s{}]+|[\s{},]+$/g, '');
    if (line === '' || line.startsWith('//')) continue;
    const arrayName = /^name:\s*'([^']+)'/.exec(line);
    if (arrayName?.[1]) {
      pendingArrayName = arrayName[1];
      entries.set(pendingArrayName, '');
      continue;
    }
    const arrayValue = /^value:\s*(.+)$/.exec(line);
    if (arrayValue?.[1] && pendingArrayName) {
      entries.set(pendingArrayName, arrayValue[1]);
      pendingArrayName = null;
      continue;
    }
    const entry = /^'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:\s*(.*)$/.exec(line);
    if (entry?.[1]) entries.set(entry[1], entry[2] ?? '');
  }
  if (inside) throw new Error('settings-consistency:begin without end');
  return { entries, blocks };
}

interface ConsistencyInput {
  settings: readonly string[];
  sampleValues: Record<string, unknown>;
  bicepNames: readonly string[];
  localOnly: readonly string[];
}

/** Every problem, one line each; empty when the three lists agree. */
function findSettingProblems({ settings, sampleValues, bicepNames, localOnly }: ConsistencyInput): string[] {
  const problems: string[] = [];
  const known = new Set(settings);
  const bicep = new Set(bicepNames);
  const local = new Set(localOnly);
  for (const name of settings) {
    if (!(name in sampleValues)) problems.push(`${name}: missing from local.settings.sample.json Values`);
    if (!local.has(name) && !bicep.has(name))
      problems.push(`${name}: missing from the Bicep app settings (or list it as local-only)`);
    if (local.has(name) && bicep.has(name)) problems.push(`${name}: listed as local-only but set in Bicep`);
  }
  for (const name of local) {
    if (!known.has(name)) problems.push(`${name}: listed as local-only but unknown to SETTINGS`);
  }
  for (const name of bicep) {
    if (!known.has(name) && !HOST_SETTING.test(name))
      problems.push(`${name}: Bicep app setting unknown to SETTINGS (stale?)`);
  }
  for (const [name, value] of Object.entries(sampleValues)) {
    if (!known.has(name) && !HOST_SETTING.test(name))
      problems.push(`${name}: local.settings.sample.json setting unknown to SETTINGS (stale?)`);
    if (typeof value !== 'string')
      problems.push(`${name}: local.settings.sample.json values must be strings`);
  }
  return problems;
}

/** Literal default of `param <name> <type> = <literal>` in Bicep text, as an app-setting string. */
function bicepParamDefault(text: string, param: string): string | undefined {
  const match = new RegExp(`^param\\s+${param}\\s+\\w+\\s*=\\s*(.+?)\\s*$`, 'm').exec(text);
  const literal = match?.[1];
  if (literal === undefined) return undefined;
  if (/^'(?:[^'\\]|\\.)*'$/.test(literal)) return literal.slice(1, -1).replace(/\\'/g, "'");
  if (/^-?\d+$/.test(literal) || literal === 'true' || literal === 'false') return literal;
  return undefined; // an expression such as tenant().tenantId: no literal default to compare
}

/** The app-setting value a Bicep expression gives when every parameter keeps its default, if simple. */
function bicepSettingDefault(text: string, expression: string): string | undefined {
  const bare = /^([A-Za-z_]\w*)$/.exec(expression)?.[1];
  if (bare) return bicepParamDefault(text, bare);
  const stringified = /^string\(([A-Za-z_]\w*)\)$/.exec(expression)?.[1];
  if (stringified) return bicepParamDefault(text, stringified);
  const boolean = /^([A-Za-z_]\w*)\s*\?\s*'true'\s*:\s*'false'$/.exec(expression)?.[1];
  if (boolean) return bicepParamDefault(text, boolean);
  return undefined;
}

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function readRepo() {
  const files = bicepFiles(INFRA);
  const texts = new Map(files.map((file) => [file, readFileSync(file, 'utf8')]));
  const entries = new Map<string, string>();
  let blocks = 0;
  for (const text of texts.values()) {
    const parsed = readBicepSettings(text);
    blocks += parsed.blocks;
    for (const [name, expression] of parsed.entries) entries.set(name, expression);
  }
  const mainText = texts.get(join(INFRA, 'main.bicep')) ?? '';
  const localOnly = (LOCAL_ONLY.exec(mainText)?.[1] ?? '').split(/[\s,]+/).filter((name) => name !== '');
  const sample = JSON.parse(readFileSync(join(ROOT, 'local.settings.sample.json'), 'utf8')) as {
    IsEncrypted?: unknown;
    Values?: Record<string, unknown>;
  };
  return { entries, blocks, localOnly, sample, mainText };
}

describe('settings consistency (SETTINGS ↔ local.settings.sample.json ↔ infra/*.bicep)', () => {
  const repo = readRepo();
  const settingNames = Object.keys(SETTINGS);

  it('finds the marked Bicep app settings and the local-only list', () => {
    expect(repo.blocks).toBeGreaterThan(0);
    expect(repo.entries.size).toBeGreaterThan(10);
    expect(repo.localOnly).toContain('GRAPH_CA_CERT_FILE');
    expect(repo.localOnly).toContain('AzureWebJobsStorage');
  });

  it('has every setting in the sample and in Bicep, and nothing stale', () => {
    const problems = findSettingProblems({
      settings: settingNames,
      sampleValues: repo.sample.Values ?? {},
      bicepNames: [...repo.entries.keys()],
      localOnly: repo.localOnly,
    });
    expect(problems).toEqual([]);
  });

  it('deploys the identity-based host settings', () => {
    expect(repo.entries.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    for (const name of [
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__clientId',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ]) {
      expect(repo.entries.has(name), name).toBe(true);
    }
    expect(repo.entries.has('AzureWebJobsStorage')).toBe(false); // no connection string (shared keys are off)
    // The Node worker collects before its heap outgrows the instance (docs/performance.md, whole sync).
    expect(repo.entries.get('languageWorkers__node__arguments')).toBe(
      "'--max-old-space-size=${instanceMemoryMB * 2 / 3}'",
    );
  });

  it('sample is a Functions local settings file whose values are the code defaults', () => {
    const values = repo.sample.Values ?? {};
    expect(repo.sample.IsEncrypted).toBe(false);
    expect(values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
    expect(values.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    expect(values.AzureWebJobsFeatureFlags).toBe('EnableWorkerIndexing');
    const notDefault = Object.entries(SETTING_DEFAULTS)
      .filter(([name]) => name !== 'AzureWebJobsStorage')
      .filter(([name, value]) => values[name] !== (value ?? ''))
      .map(
        ([name, value]) =>
          `${name}: ${JSON.stringify(values[name])} in the sample, ${JSON.stringify(value ?? '')} in the code`,
      );
    expect(notDefault).toEqual([]);
    const fromSample = loadConfig(values as Record<string, string>);
    const defaults = loadConfig({});
    expect({ ...fromSample, storage: null }).toEqual({ ...defaults, storage: null });
  });

  it('Bicep parameter defaults equal the code defaults', () => {
    const env: Record<string, string> = {};
    const compared: string[] = [];
    for (const [name, expression] of repo.entries) {
      if (!(name in SETTINGS)) continue;
      const value = bicepSettingDefault(repo.mainText, expression);
      if (value === undefined) continue;
      env[name] = value;
      compared.push(name);
    }
    expect(compared).toEqual(
      expect.arrayContaining([
        'HORIZON_DAYS',
        'MAX_CANCEL_SHARE',
        'POLICY_NAME',
        'SYNC_SCHEDULE',
        'ALLOW_HTTP_FEEDS',
      ]),
    );
    expect(compared.length).toBeGreaterThanOrEqual(20);
    const notDefault = compared
      .filter((name) => env[name] !== (SETTING_DEFAULTS[name as keyof typeof SETTING_DEFAULTS] ?? ''))
      .map(
        (name) =>
          `${name}: ${JSON.stringify(env[name])} in Bicep, ${JSON.stringify(SETTING_DEFAULTS[name as keyof typeof SETTING_DEFAULTS])} in the code`,
      );
    expect(notDefault).toEqual([]);
    const fromBicep = loadConfig(env);
    expect(fromBicep).toEqual(loadConfig({}));
  });
});

describe('settings consistency checks (on broken inputs)', () => {
  const base: ConsistencyInput = {
    settings: ['A_SETTING', 'B_SETTING', 'LOCAL_THING'],
    sampleValues: { FUNCTIONS_WORKER_RUNTIME: 'node', A_SETTING: '', B_SETTING: '1', LOCAL_THING: '' },
    bicepNames: [
      'A_SETTING',
      'B_SETTING',
      'AzureWebJobsStorage__credential',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ],
    localOnly: ['LOCAL_THING'],
  };

  it('accepts consistent lists', () => {
    expect(findSettingProblems(base)).toEqual([]);
  });

  it('reports a setting missing from the sample or from Bicep', () => {
    expect(findSettingProblems({ ...base, sampleValues: { A_SETTING: '', LOCAL_THING: '' } })).toEqual([
      'B_SETTING: missing from local.settings.sample.json Values',
    ]);
    expect(findSettingProblems({ ...base, bicepNames: ['A_SETTING'] })).toEqual([
      'B_SETTING: missing from the Bicep app settings (or list it as local-only)',
    ]);
  });

  it('reports stale names in Bicep, the sample and the local-only list', () => {
    expect(
      findSettingProblems({
        ...base,
        bicepNames: [...base.bicepNames, 'OLD_SETTING', 'LOCAL_THING'],
        sampleValues: { ...base.sampleValues, GONE: 'x', NUMBER: 3 },
        localOnly: ['LOCAL_THING', 'NEVER_WAS'],
      }),
    ).toEqual([
      'LOCAL_THING: listed as local-only but set in Bicep',
      'NEVER_WAS: listed as local-only but unknown to SETTINGS',
      'OLD_SETTING: Bicep app setting unknown to SETTINGS (stale?)',
      'GONE: local.settings.sample.json setting unknown to SETTINGS (stale?)',
      'NUMBER: local.settings.sample.json setting unknown to SETTINGS (stale?)',
      'NUMBER: local.settings.sample.json values must be strings',
    ]);
  });

  it('reads object and array style app settings between the markers only', () => {
    const text = [
      'param horizonDays int = 120',
      "param policyName string = 'It\\'s'",
      'var ignored = { NOT_ME: 1 }',
      '// settings-consistency:begin',
      'var s = {',
      '  HORIZON_DAYS: string(horizonDays) // trailing comment',
      "  'POLICY_NAME': policyName",
      '}',
      '// settings-consistency:end',
      '// settings-consistency:begin',
      "  { name: 'ARRAY_STYLE'",
      "    value: 'x' }",
      '// settings-consistency:end',
    ].join('\n');
    const { entries, blocks } = readBicepSettings(text);
    expect(blocks).toBe(2);
    expect([...entries.keys()]).toEqual(['HORIZON_DAYS', 'POLICY_NAME', 'ARRAY_STYLE']);
    expect(bicepSettingDefault(text, entries.get('HORIZON_DAYS') ?? '')).toBe('120');
    expect(bicepSettingDefault(text, entries.get('POLICY_NAME') ?? '')).toBe("It's");
    expect(() => readBicepSettings('// settings-consistency:begin\nA: 1\n')).toThrow(/without end/);
  });
});

/** `param name type [= default]` declarations of a Bicep file, with whether they are @secure(). */
function bicepParams(text: string): Array<{ name: string; hasDefault: boolean; secure: boolean }> {
  const lines = text.split(/\r?\n/);
  return lines.flatMap((line, i) => {
    const match = /^param\s+(\w+)\s+\w+(\s*=.*)?$/.exec(line.trim());
    if (!match?.[1]) return [];
    let first = i;
    while (first > 0 && lines[first - 1]?.trim().startsWith('@')) first--;
    const decorators = lines.slice(first, i).join('\n');
    return [{ name: match[1], hasDefault: match[2] !== undefined, secure: /@secure\(\)/.test(decorators) }];
  });
}

/** What azd cannot pass: a required or secure parameter missing from main.parameters.json, or a mapping to no parameter. */
function findParameterProblems(bicep: string, mapped: readonly string[]): string[] {
  const params = bicepParams(bicep);
  const names = new Set(params.map((p) => p.name));
  const problems = mapped
    .filter((name) => !names.has(name))
    .map((name) => `${name}: mapped but not a parameter`);
  for (const p of params) {
    if (mapped.includes(p.name)) continue;
    if (!p.hasDefault) problems.push(`${p.name}: required but not mapped`);
    else if (p.secure) problems.push(`${p.name}: secure parameter azd cannot set (not mapped)`);
  }
  return problems;
}

describe('a first azd up that works (infra/*.bicep, main.parameters.json, azure.yaml)', () => {
  const read = (...parts: string[]) => readFileSync(join(ROOT, ...parts), 'utf8');
  const main = read('infra', 'main.bicep');
  const mapped = Object.keys(
    (JSON.parse(read('infra', 'main.parameters.json')) as { parameters: Record<string, unknown> }).parameters,
  );

  it('azd can set every required and secure parameter (graphClientSecret included), and maps nothing stale', () => {
    expect(mapped).toContain('graphClientSecret');
    expect(findParameterProblems(main, mapped)).toEqual([]);
    const broken = "param needed string\n@secure()\nparam hidden string = ''\nparam fine int = 1";
    expect(findParameterProblems(broken, ['gone'])).toEqual([
      'gone: mapped but not a parameter',
      'needed: required but not mapped',
      'hidden: secure parameter azd cannot set (not mapped)',
    ]);
  });

  it('the credential is a parameter, and no app setting references a Key Vault secret before it is stored', () => {
    expect(main).toMatch(
      /@allowed\(\['federated', 'certificate', 'secret'\]\)\s*\nparam graphCredentialKind string = 'federated'/,
    );
    const { entries } = readBicepSettings(main);
    const referencing = [...entries].filter(([, expression]) =>
      expression.includes('graphCredentialReference'),
    );
    expect(referencing.map(([name]) => name).sort()).toEqual([
      'GRAPH_CERTIFICATE_PEM',
      'GRAPH_CLIENT_SECRET',
    ]);
    for (const [name, expression] of referencing) expect(expression, name).toMatch(/^graphReady && /);
    // Without the credential no Graph setting at all: the app starts without Graph instead of failing.
    for (const name of ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_FEDERATED_IDENTITY_CLIENT_ID'])
      expect(entries.get(name), name).toMatch(/^graphReady /);
    expect(main).toMatch(/var graphReady = graphCredentialKind == 'federated' \|\| graphCredentialInVault/);
  });

  it('sends the host, Key Vault and Storage logs to Log Analytics, keeps purge protection on, deploys the workbook', () => {
    expect(read('infra', 'modules', 'function-app.bicep')).toMatch(/category: 'FunctionAppLogs'/);
    const vault = read('infra', 'modules', 'keyvault.bicep');
    expect(vault).toMatch(/category: 'AuditEvent'/);
    expect(vault).toMatch(/enablePurgeProtection: true/);
    const storage = read('infra', 'modules', 'storage.bicep');
    for (const service of ['blobServices', 'queueServices', 'tableServices'])
      expect(storage).toMatch(
        new RegExp(
          `scope: storage::${service}\\s*\\n\\s*properties: \\{ workspaceId: logAnalyticsWorkspaceId, logs: storageLogs \\}`,
        ),
      );
    expect(read('infra', 'modules', 'monitoring.bicep')).toMatch(
      /loadTextContent\('\.\.\/monitoring\/workbook\.json'\)/,
    );
  });

  it('azure.yaml builds the bundle, adds the federated credential and checks health after deploying', () => {
    const azureYaml = read('azure.yaml');
    expect(azureYaml).toMatch(/prepackage:\s*\n\s*shell: pwsh\s*\n\s*run: npm run bundle/);
    expect(azureYaml).toMatch(/dist: dist\/deploy/);
    expect(azureYaml).toMatch(
      /postprovision:\s*\n\s*shell: pwsh\s*\n\s*run: \.\/infra\/scripts\/postprovision\.ps1/,
    );
    expect(azureYaml).toMatch(
      /postdeploy:\s*\n\s*shell: pwsh\s*\n\s*run: \.\/infra\/scripts\/postdeploy\.ps1/,
    );
    const postdeploy = read('infra', 'scripts', 'postdeploy.ps1');
    for (const text of ['/api/health', '/api/manage', 'az functionapp keys list'])
      expect(postdeploy).toContain(text);
    for (const output of [
      'SERVICE_API_URI',
      'AZURE_RESOURCE_GROUP',
      'AZURE_FUNCTION_NAME',
      'AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID',
      'GRAPH_CREDENTIAL_READY',
    ])
      expect(main).toMatch(new RegExp(`^output ${output} `, 'm'));
  });
});
