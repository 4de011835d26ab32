// The route table (src/http/routeTable.ts) is the one source of route metadata: functions/*.ts register
// from it, the group modules return handlers keyed by its route names (the compiler checks each route
// has one), the local server mounts loadRoutes(). What the compiler cannot check is checked here:
// - each group's loader (a dynamic import()) really yields a handler for each of its routes;
// - function names are unique and avoid the host's reserved "admin" prefix; the README lists every route;
// - functions/*.ts register exactly the table's routes plus the two sync triggers, through lazy
//   handlers that load the group on the first request and forward to the handler of the same name;
// - the registration modules import nothing heavy (checked on the sources' import statements).
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpRequest, InvocationContext, type HttpHandler } from '@azure/functions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  HANDLER_LOADERS,
  lazyRoutes,
  loadRoutes,
  routesOf,
  ROUTES,
  type RouteGroup,
} from '../../src/http/routeTable.js';
import { SYNC_QUEUE_NAME } from '../../src/storage/index.js';
import * as storageNames from '../../src/storage/names.js';

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
const GROUPS = Object.keys(HANDLER_LOADERS) as RouteGroup[];

interface Spec {
  name: string;
  methods: readonly string[];
  route: string;
  authLevel: string;
}
const specOf = ({ name, methods, route, authLevel }: Spec): Spec => ({
  name,
  methods: [...methods],
  route,
  authLevel,
});

/** Routes the README's HTTP table does not mention as `METHOD /api/route` (a {param} matches any text). */
function routesMissingFrom(readme: string, routes: readonly Spec[]): string[] {
  const missing: string[] = [];
  for (const route of routes) {
    const template = route.route
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/\\s`|,?]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    for (const method of route.methods)
      if (!new RegExp(`\`${method} /api/${template}(?:[?\\[\`]|$)`, 'm').test(readme))
        missing.push(`${route.name}: ${method} /api/${route.route}`);
  }
  return missing;
}

describe('ROUTES', () => {
  it('function names are unique across the app and avoid the host’s reserved "admin" prefix', () => {
    const names = ROUTES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(
      ROUTES.filter((r) => /^admin/i.test(r.name) || /^admin/i.test(r.route)).map((r) => r.name),
    ).toEqual([]);
  });

  it('each method + route template is served by one route only', () => {
    const keys = ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.route}`));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(GROUPS)('%s: its loader yields exactly one handler per route of the group', async (group) => {
    const handlers = await HANDLER_LOADERS[group]({});
    expect(Object.keys(handlers).sort()).toEqual(
      routesOf(group)
        .map((r) => r.name)
        .sort(),
    );
    for (const handler of Object.values(handlers)) expect(typeof handler).toBe('function');
  });

  it('loadRoutes mounts every route of the table, in table order, with its handler', async () => {
    const routes = await loadRoutes({});
    expect(routes.map(specOf)).toEqual(ROUTES.map(specOf));
    for (const route of routes) expect(typeof route.handler).toBe('function');
  });

  it('the README lists every route with its methods', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    expect(routesMissingFrom(readme, ROUTES)).toEqual([]);
    // the check can fail
    const broken = [{ name: 'x', methods: ['GET'], route: 'feeds/{id}/nothing', authLevel: 'function' }];
    expect(routesMissingFrom(readme, broken)).toEqual(['x: GET /api/feeds/{id}/nothing']);
    expect(
      routesMissingFrom(readme, [{ ...broken[0]!, route: 'feeds/{id}', methods: ['PATCH'] }]),
    ).toHaveLength(1);
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
  const handlers = (tag: string) =>
    Object.fromEntries(
      routesOf('status').map((spec) => [
        spec.name,
        vi.fn<HttpHandler>(() => Promise.resolve({ body: `${tag}:${spec.name}` })),
      ]),
    );

  it('loads nothing until the first request, then once, and forwards to the handler of the same name', async () => {
    const loaded = handlers('a');
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
    expect(loaded.status).toHaveBeenCalledTimes(2);
  });

  it('a failed load is retried on the next request', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValue(handlers('b'));
    const health = lazyRoutes('status', load)[0]!.options;
    await expect(health.handler(request(), context())).rejects.toThrow('boom');
    await expect(health.handler(request(), context())).resolves.toEqual({ body: 'b:health' });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('fails loudly when the loaded handlers have none of that name', async () => {
    const health = lazyRoutes('status', () => Promise.resolve({}))[0]!.options;
    await expect(health.handler(request(), context())).rejects.toThrow(/none of that name/);
  });
});

describe('functions/*.ts', () => {
  // Every file of functions/ (checked below against the directory), imported as the worker's glob does.
  const FILES = {
    'adminPage.ts': () => import('../../functions/adminPage.js'),
    'attendanceFeedQueue.ts': () => import('../../functions/attendanceFeedQueue.js'),
    'attendanceHttp.ts': () => import('../../functions/attendanceHttp.js'),
    'attendanceTimer.ts': () => import('../../functions/attendanceTimer.js'),
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
    const expected = ROUTES.map(specOf);
    const actual = registered.http.map(({ name, options }) =>
      specOf({ name, ...(options as unknown as Omit<Spec, 'name'>) }),
    );
    expect(actual.sort((x, y) => x.name.localeCompare(y.name))).toEqual(
      expected.sort((x, y) => x.name.localeCompare(y.name)),
    );
    for (const { options } of registered.http)
      expect(Object.keys(options).sort()).toEqual(['authLevel', 'handler', 'methods', 'route']);
  });

  it('register the sync timer (with its queue output) and the queue trigger on SYNC_QUEUE_NAME', () => {
    const sync = registered.other.filter((r) => r.name.startsWith('sync'));
    expect(sync.map((r) => [r.kind, r.name])).toEqual([
      ['storageQueue', 'syncFeedQueue'],
      ['timer', 'syncTimer'],
    ]);
    const [queue, timer] = sync;
    expect(queue!.options).toMatchObject({ queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage' });
    expect(timer!.options).toMatchObject({
      schedule: '%SYNC_SCHEDULE%',
      extraOutputs: [{ type: 'queue', queueName: SYNC_QUEUE_NAME, connection: 'AzureWebJobsStorage' }],
    });
  });

  it('register the attendance timer (ATTENDANCE_SCHEDULE, with its queue output) and its queue trigger', () => {
    const attendance = registered.other.filter((r) => r.name.startsWith('attendance'));
    expect(attendance.map((r) => [r.kind, r.name])).toEqual([
      ['storageQueue', 'attendanceFeedQueue'],
      ['timer', 'attendanceTimer'],
    ]);
    const [queue, timer] = attendance;
    expect(queue!.options).toMatchObject({
      queueName: 'attendance-feeds',
      connection: 'AzureWebJobsStorage',
    });
    expect(timer!.options).toMatchObject({
      schedule: '%ATTENDANCE_SCHEDULE%',
      extraOutputs: [{ type: 'queue', queueName: 'attendance-feeds', connection: 'AzureWebJobsStorage' }],
    });
  });

  it('a registered handler loads its group on the first request and answers as the group’s handler does', async () => {
    const page = registered.http.find((r) => r.name === 'managePage');
    const direct = (await loadRoutes({})).find((r) => r.name === 'managePage');
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
