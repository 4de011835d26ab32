// The static route table (src/http/routeTable.ts) that functions/*.ts register from, so that loading
// the function app evaluates no SDK (cold start, docs/performance.md part 4):
// - it equals the factories' route definitions (minus handlers), so the two cannot drift;
// - functions/*.ts register exactly those routes plus the two sync triggers, through lazy handlers that
//   load the factory's module on the first request and forward to the handler of the same name;
// - the registration modules import nothing heavy (checked on the sources' import statements).
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpRequest, InvocationContext, type HttpHandler } from '@azure/functions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createCalendarRoutes } from '../../src/http/calendar.js';
import { createFeedsRoutes } from '../../src/http/feeds.js';
import { createPoliciesRoutes } from '../../src/http/policies.js';
import { lazyRoutes, ROUTE_TABLE, type RouteGroup, type RouteSpec } from '../../src/http/routeTable.js';
import type { RouteDefinition } from '../../src/http/routes.js';
import { createStatusRoutes } from '../../src/http/status.js';
import { SYNC_QUEUE_NAME } from '../../src/storage/index.js';
import * as storageNames from '../../src/storage/names.js';
import { createAdminPageRoutes } from '../../src/web/page.js';

// Record what functions/*.ts hand to the app object instead of registering with a (missing) host.
const registered = vi.hoisted(() => ({
  http: [] as Array<{ name: string; options: Record<string, unknown> & { handler: HttpHandler } }>,
  other: [] as Array<{ kind: string; name: string; options: Record<string, unknown> }>,
}));
vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return {
    ...actual,
    app: {
      ...actual.app,
      http: (name: string, options: (typeof registered.http)[number]['options']) =>
        registered.http.push({ name, options }),
      timer: (name: string, options: Record<string, unknown>) =>
        registered.other.push({ kind: 'timer', name, options }),
      storageQueue: (name: string, options: Record<string, unknown>) =>
        registered.other.push({ kind: 'storageQueue', name, options }),
    },
  };
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FACTORIES: Record<RouteGroup, () => RouteDefinition[]> = {
  feeds: () => createFeedsRoutes(),
  policies: () => createPoliciesRoutes(),
  calendar: () => createCalendarRoutes(),
  status: () => createStatusRoutes(),
  adminPage: () => createAdminPageRoutes(),
};
const withoutHandler = ({ name, methods, route, authLevel }: RouteSpec): RouteSpec => ({
  name,
  methods: [...methods],
  route,
  authLevel,
});

describe('ROUTE_TABLE', () => {
  it.each(Object.keys(FACTORIES) as RouteGroup[])(
    '%s: equals the factory definitions (names, routes, methods, authLevel, order)',
    (group) => {
      const definitions = FACTORIES[group]();
      expect(ROUTE_TABLE[group].map(withoutHandler)).toEqual(definitions.map(withoutHandler));
      // and nothing else: a new field on RouteDefinition must be added to the table too
      for (const definition of definitions)
        expect(Object.keys(definition).sort()).toEqual(['authLevel', 'handler', 'methods', 'name', 'route']);
    },
  );

  it('function names are unique across the app', () => {
    const names = Object.values(ROUTE_TABLE).flatMap((specs) => specs.map((s) => s.name));
    expect(new Set(names).size).toBe(names.length);
  });

  it('SYNC_QUEUE_NAME and POISON_SUFFIX are the storage layer’s (re-exported from names.ts)', () => {
    expect(storageNames.SYNC_QUEUE_NAME).toBe(SYNC_QUEUE_NAME);
    expect(storageNames.SYNC_QUEUE_NAME).toBe('sync-feeds');
    expect(storageNames.POISON_SUFFIX).toBe('-poison');
  });
});

describe('lazyRoutes', () => {
  const request = () => new HttpRequest({ method: 'GET', url: 'http://localhost/api/status' });
  const context = () => new InvocationContext({ functionName: 'test' });
  const definitions = (tag: string) =>
    ROUTE_TABLE.status.map((spec) => ({
      name: spec.name,
      handler: vi.fn<HttpHandler>(() => Promise.resolve({ body: `${tag}:${spec.name}` })),
    }));

  it('loads nothing until the first request, then once, and forwards to the handler of the same name', async () => {
    const loaded = definitions('a');
    const load = vi.fn(() => Promise.resolve(loaded));
    const routes = lazyRoutes('status', load);
    expect(routes.map((r) => r.name)).toEqual(['health', 'status']);
    const [health, status] = routes.map((r) => r.options);
    expect(status).toMatchObject({ methods: ['GET'], route: 'status', authLevel: 'function' });
    expect(load).not.toHaveBeenCalled();
    const [a, b] = await Promise.all([
      status!.handler(request(), context()),
      health!.handler(request(), context()),
    ]);
    expect([a, b]).toEqual([{ body: 'a:status' }, { body: 'a:health' }]);
    await status!.handler(request(), context());
    expect(load).toHaveBeenCalledTimes(1);
    expect(loaded[1]!.handler).toHaveBeenCalledTimes(2);
  });

  it('a failed load is retried on the next request', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValue(definitions('b'));
    const health = lazyRoutes('status', load)[0]!.options;
    await expect(health.handler(request(), context())).rejects.toThrow('boom');
    await expect(health.handler(request(), context())).resolves.toEqual({ body: 'b:health' });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('fails loudly when the factory has no handler of that name', async () => {
    const health = lazyRoutes('status', () => Promise.resolve([]))[0]!.options;
    await expect(health.handler(request(), context())).rejects.toThrow(/no handler of that name/);
  });
});

describe('functions/*.ts', () => {
  // Every file of functions/ (checked below against the directory), imported as the worker's glob does.
  const FILES = {
    'adminPage.ts': () => import('../../functions/adminPage.js'),
    'calendarHttp.ts': () => import('../../functions/calendarHttp.js'),
    'feedsHttp.ts': () => import('../../functions/feedsHttp.js'),
    'policiesHttp.ts': () => import('../../functions/policiesHttp.js'),
    'statusHttp.ts': () => import('../../functions/statusHttp.js'),
    'syncFeedQueue.ts': () => import('../../functions/syncFeedQueue.js'),
    'syncTimer.ts': () => import('../../functions/syncTimer.js'),
  };
  beforeAll(async () => {
    for (const load of Object.values(FILES)) await load();
  });

  it('are the files this test imports', async () => {
    expect((await readdir(path.join(ROOT, 'functions'))).filter((f) => f.endsWith('.ts')).sort()).toEqual(
      Object.keys(FILES),
    );
  });
  afterEach(() => vi.restoreAllMocks());

  it('register every route of the table, with its route, methods and authLevel', () => {
    const expected = Object.values(ROUTE_TABLE).flat().map(withoutHandler);
    const actual = registered.http.map(({ name, options }) =>
      withoutHandler({ name, ...(options as unknown as Omit<RouteSpec, 'name'>) }),
    );
    expect(actual.sort((x, y) => x.name.localeCompare(y.name))).toEqual(
      expected.sort((x, y) => x.name.localeCompare(y.name)),
    );
    for (const { options } of registered.http)
      expect(Object.keys(options).sort()).toEqual(['authLevel', 'handler', 'methods', 'route']);
  });

  it('register the sync timer (with its queue output) and the queue trigger on SYNC_QUEUE_NAME', () => {
    expect(registered.other.map((r) => [r.kind, r.name])).toEqual([
      ['storageQueue', 'syncFeedQueue'],
      ['timer', 'syncTimer'],
    ]);
    const [queue, timer] = registered.other;
    expect(queue!.options).toMatchObject({ queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage' });
    expect(timer!.options).toMatchObject({
      schedule: '%SYNC_SCHEDULE%',
      extraOutputs: [{ type: 'queue', queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage' }],
    });
  });

  it('a registered handler loads its factory on the first request and answers as the factory’s handler does', async () => {
    const page = registered.http.find((r) => r.name === 'managePage');
    const direct = createAdminPageRoutes().find((r) => r.name === 'managePage');
    const req = () => new HttpRequest({ method: 'GET', url: 'http://localhost/api/manage' });
    const viaLazy = await page!.options.handler(req(), new InvocationContext({ functionName: 'managePage' }));
    const viaFactory = await direct!.handler(req(), new InvocationContext({ functionName: 'managePage' }));
    expect(viaLazy).toEqual(viaFactory);
  });

  // Type-only imports are erased by tsc; value imports are what the worker evaluates at load.
  const valueImports = (source: string): string[] =>
    [
      ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm),
    ].map((m) => m[1] ?? m[2] ?? '');

  it('import only @azure/functions and SDK-free modules at load (handlers come by dynamic import())', async () => {
    const light = new Set(['@azure/functions', '../src/http/routeTable.js', '../src/storage/names.js']);
    for (const file of (await readdir(path.join(ROOT, 'functions'))).filter((f) => f.endsWith('.ts'))) {
      const imports = valueImports(await readFile(path.join(ROOT, 'functions', file), 'utf8'));
      expect({ file, heavy: imports.filter((i) => !light.has(i)) }).toEqual({ file, heavy: [] });
    }
    expect(valueImports(await readFile(path.join(ROOT, 'src/http/routeTable.ts'), 'utf8'))).toEqual([
      '../web/constants.js',
    ]);
    expect(valueImports(await readFile(path.join(ROOT, 'src/web/constants.ts'), 'utf8'))).toEqual([]);
    expect(valueImports(await readFile(path.join(ROOT, 'src/storage/names.ts'), 'utf8'))).toEqual([]);
  });
});
