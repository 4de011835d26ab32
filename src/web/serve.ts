// A small local HTTP server that mounts the same v4 `app.http` handlers the Functions host runs (admin
// API, published calendars, health/status and the admin page), so a person can use the page without
// Core Tools: `timetable-sync serve` and `timetable-sync demo --serve`, and the e2e tests.
//
// What it does like the host: the `/api` route prefix, route templates ({id}, {name?}, {*rest},
// {id:constraint}), function keys on `authLevel: 'function'` routes (checked in-process through the
// route options' `requireKey`: the admin key given here), and a queue worker standing in for the
// queue trigger — every message on the sync queue (enqueued by "Sync now", an upload, a settings
// change or a confirmation) is run in this process within about a second, retried on failure and moved
// to the poison queue after MAX_DEQUEUE_COUNT attempts. It binds to 127.0.0.1 unless told otherwise.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import azureFunctions, { type HttpResponseInit, type LogHandler } from '@azure/functions';

import type { AppServices } from '../compose.js';
import { atLeast, eventLevelOf, formatLocalLine } from '../events.js';
import { MAX_DEQUEUE_COUNT, syncFeedFromMessage } from '../handlers/sync.js';
import { loadRoutes, type HttpRouteOptions, type RouteDefinition } from '../http/index.js';
import { PAGE_ROUTE } from './constants.js';
import { SECURITY_HEADERS } from './page.js';

// @azure/functions is CommonJS and Node's ESM loader cannot see these classes as named exports.
const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;

export interface ServeAdminOptions {
  services: AppServices;
  /** The function key the admin routes accept (`x-functions-key` or `?code=`). */
  adminKey: string;
  /** Default 7071 (the Functions host's local port); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything else exposes the admin API beyond this machine. */
  host?: string;
  /** Run queued syncs in this process (default: when Graph is configured). */
  runQueuedSyncs?: boolean;
  /** How often the queue worker looks for messages (default 500 ms). */
  queuePollMs?: number;
  /** Where log lines go (default: stderr, warnings and errors only). */
  log?: (line: string) => void;
  /** Also log info-level lines (requests, sync events). */
  verbose?: boolean;
}

export interface AdminServer {
  /** The admin page: http://host:port/api/manage */
  url: string;
  /** http://host:port */
  origin: string;
  /** Waits for in-flight queued syncs, then closes the server. */
  stop(): Promise<void>;
}

// ---- route matching --------------------------------------------------------------------------

interface CompiledRoute {
  definition: RouteDefinition;
  pattern: RegExp;
  names: string[];
  /** Literal segments first, like ASP.NET routing's precedence (feeds/x/sync before feeds/{id}). */
  precedence: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles an Azure Functions route template (ASP.NET Core syntax, the common subset) to a RegExp. */
export function compileRouteTemplate(template: string): {
  pattern: RegExp;
  names: string[];
  precedence: number;
} {
  const names: string[] = [];
  let precedence = 0;
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const param = /^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?=]+)*(\?)?(?:=[^}]*)?\}$/.exec(segment);
    const sep = index === 0 ? '' : '/';
    if (param) {
      names.push(param[2] as string);
      if (param[1]) {
        source += `(?:${sep}(.*))?`;
      } else if (param[3]) {
        source += `(?:${sep}([^/]+))?`;
      } else {
        source += `${sep}([^/]+)`;
        precedence += 1;
      }
    } else if (/[{}]/.test(segment)) {
      // Complex segments ("{name}.{ext}") are not used by this app; match them literally-ish per parameter.
      let part = '';
      for (const piece of segment.split(/(\{[^}]+\})/)) {
        const inner = /^\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}$/.exec(piece);
        if (inner) {
          names.push(inner[1] as string);
          part += '([^/]+?)';
        } else part += escapeRegExp(piece);
      }
      source += `${sep}${part}`;
      precedence += 2;
    } else {
      source += `${sep}${escapeRegExp(segment)}`;
      precedence += 3;
    }
  });
  return { pattern: new RegExp(`^${source}/?$`, 'i'), names, precedence };
}

function compile(routes: RouteDefinition[]): CompiledRoute[] {
  return routes
    .map((definition) => ({ definition, ...compileRouteTemplate(definition.route) }))
    .sort((a, b) => b.precedence - a.precedence);
}

/** Finds the route for a path under /api; `allowed` lists the methods of routes matching the path. */
export function matchRoute(
  compiled: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | { route: null; allowed: string[] } {
  const allowed: string[] = [];
  for (const route of compiled) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (!route.definition.methods.includes(method as never)) {
      allowed.push(...route.definition.methods);
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      const raw = match[i + 1];
      if (raw === undefined) return;
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw;
      }
    });
    return { route, params };
  }
  return { route: null, allowed: [...new Set(allowed)] };
}

// ---- request / response mapping -----------------------------------------------------------------

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function problem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({
    type: `https://timetable-sync.dev/problems/${status === 404 ? 'not-found' : status === 405 ? 'method-not-allowed' : 'bad-request'}`,
    title,
    status,
    detail,
  });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

async function writeResponse(res: ServerResponse, init: HttpResponseInit, method: string): Promise<void> {
  const response = new HttpResponse(init);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.cookies.map(
    (c) =>
      `${c.name}=${c.value}${c.path ? `; Path=${c.path}` : ''}${c.httpOnly ? '; HttpOnly' : ''}${c.secure ? '; Secure' : ''}${c.sameSite ? `; SameSite=${c.sameSite}` : ''}`,
  );
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

/** The host's log levels printed with the product's level names, like the CLI (`info`, not `information`). */
function logHandlerFor(log: (line: string) => void, verbose: boolean): LogHandler {
  return (hostLevel, ...args) => {
    const level = eventLevelOf(hostLevel);
    if (!verbose && !atLeast(level, 'warning')) return;
    log(
      formatLocalLine(
        level,
        args
          .map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a)))
          .join(' '),
      ),
    );
  };
}

// ---- queue worker (stands in for the queue trigger) -------------------------------------------------

interface QueueWorker {
  stop(): Promise<void>;
}

function startQueueWorker(
  services: AppServices,
  pollMs: number,
  logHandler: LogHandler,
  log: (line: string) => void,
): QueueWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const runOnce = async (): Promise<void> => {
    for (const item of await services.store.syncQueue.receive(8, 300)) {
      if (stopped) return;
      const context = new InvocationContext({
        functionName: 'syncFeedQueue',
        invocationId: randomUUID(),
        logHandler,
        triggerMetadata: { dequeueCount: item.dequeueCount, id: item.id },
      });
      try {
        await syncFeedFromMessage(item.text, context, services);
        await item.complete();
      } catch {
        // syncFeedFromMessage logged sync.run.crashed / sync.poison. Like the host: retry after a short
        // visibility timeout, and after MAX_DEQUEUE_COUNT deliveries move the message to the poison queue.
        await (item.dequeueCount >= MAX_DEQUEUE_COUNT ? item.poison() : item.retryLater(5)).catch(
          () => undefined,
        );
      }
    }
  };

  const loop = (): void => {
    if (stopped) return;
    current = runOnce()
      .catch((error: unknown) => {
        if (!stopped)
          log(
            formatLocalLine(
              'warning',
              `queue worker: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}

// ---- the server ----------------------------------------------------------------------------------

/** The routes the local server mounts: every route of the table (src/http/routeTable.ts), as the host. */
export function localRoutes(services: AppServices, adminKey: string): Promise<RouteDefinition[]> {
  const options: HttpRouteOptions = { services: () => Promise.resolve(services), requireKey: adminKey };
  return loadRoutes(options);
}

export async function serveAdmin(options: ServeAdminOptions): Promise<AdminServer> {
  const { services, adminKey } = options;
  if (!adminKey)
    throw new Error('serveAdmin: adminKey is required (the function key the admin routes accept)');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const verbose = options.verbose ?? false;
  const logHandler = logHandlerFor(log, verbose);
  // Routes are mounted once the listen address is known (calendar links use it, see below); a request
  // that arrives before waits for them.
  let compiled: CompiledRoute[] = [];
  let origin = '';
  let mounted: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (mounted = resolve));
  const bodyLimit = Math.max(services.config.sync.maxFeedBytes, 64 * 1024) + 64 * 1024;
  const host = options.host ?? '127.0.0.1';

  const server = createServer((req, res) => {
    void (async () => {
      await ready;
      const method = (req.method ?? 'GET').toUpperCase();
      // The server's own address, never the Host header (nor a `//host/…` or absolute request target):
      // nothing a caller sends may change the origin of a URL it builds.
      const url = new URL(`${origin}${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`);
      if (url.pathname === '/' || url.pathname === '/api' || url.pathname === '/api/') {
        res.writeHead(302, { location: `/api/${PAGE_ROUTE}`, ...SECURITY_HEADERS });
        res.end();
        return;
      }
      if (!url.pathname.startsWith('/api/')) {
        problem(res, 404, 'Not found', `only /api/... is served here; the admin page is /api/${PAGE_ROUTE}`);
        return;
      }
      const path = url.pathname.slice('/api/'.length);
      const found = matchRoute(compiled, method === 'HEAD' ? 'GET' : method, path);
      if (!found.route) {
        if (found.allowed.length > 0)
          problem(
            res,
            405,
            'Method not allowed',
            `${method} is not supported here; use ${found.allowed.join(', ')}`,
            { allow: found.allowed.join(', ') },
          );
        else problem(res, 404, 'Not found', `no route /api/${path.slice(0, 120)}`);
        return;
      }
      let body: Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        try {
          body = await readBody(req, bodyLimit);
        } catch (error) {
          if (error instanceof BodyTooLarge) {
            problem(res, 413, 'The request body is too large', `the body is over ${bodyLimit} bytes`, {
              connection: 'close',
            });
            return;
          }
          throw error;
        }
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const request = new HttpRequest({
        method,
        url: url.toString(),
        headers,
        params: found.params,
        ...(body && body.length > 0 ? { body: { bytes: body } } : {}),
      });
      const context = new InvocationContext({
        functionName: found.route.definition.name,
        invocationId: randomUUID(),
        logHandler,
      });
      const started = Date.now();
      const response = await found.route.definition.handler(request, context);
      await writeResponse(res, response, method);
      if (verbose)
        log(
          formatLocalLine(
            'info',
            `${method} ${url.pathname} → ${response.status ?? 200} (${found.route.definition.name}, ${Date.now() - started} ms)`,
          ),
        );
    })().catch((error: unknown) => {
      log(
        formatLocalLine('error', `local server: ${error instanceof Error ? error.message : String(error)}`),
      );
      if (!res.headersSent)
        problem(res, 500, 'Internal error', 'the local server failed to handle the request; see its log');
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // Published-calendar links come from PUBLIC_BASE_URL only; here, unless it is set, the listen address.
  const local: AppServices = services.config.publicBaseUrl
    ? services
    : { ...services, config: { ...services.config, publicBaseUrl: origin } };
  compiled = compile(await localRoutes(local, adminKey));
  mounted();

  let worker: QueueWorker | null = null;
  const runSyncs = options.runQueuedSyncs ?? services.graph !== null;
  if (runSyncs) {
    if (!services.graph) {
      log(
        formatLocalLine(
          'warning',
          'queued syncs cannot run here: Graph is not configured (GRAPH_TENANT_ID, GRAPH_CLIENT_ID, a credential)',
        ),
      );
    } else {
      worker = startQueueWorker(services, options.queuePollMs ?? 500, logHandler, log);
    }
  }

  return {
    url: `${origin}/api/${PAGE_ROUTE}`,
    origin,
    async stop() {
      await worker?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
