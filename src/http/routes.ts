// Handler plumbing shared by every HTTP function: admin/anonymous wrappers (named after their route in
// src/http/routeTable.ts, the one table of route metadata) and JSON responses.
import type {
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';

import { getServices, type AppServices } from '../compose.js';
import { contextSink, createEventLogger } from '../events.js';
import { authorizeAdmin, type AdminCaller } from './auth.js';
import { failureResponse, problemResponse } from './problem.js';
import { problems } from '../admin/problems.js';
import type { RouteName } from './routeTable.js';

/** Where handlers get their services: `getServices` in Azure, a test's own services in tests. */
export type ServicesProvider = () => Promise<AppServices>;

export interface HttpRouteOptions {
  /** Services for the handlers (default: the process-wide `getServices()`). */
  services?: ServicesProvider;
  /**
   * Function key to check in-process. Leave unset under the Functions host, which enforces
   * `authLevel: 'function'` itself; set it in tests and when serving the handlers without the host.
   */
  requireKey?: string;
}

/** A route of ROUTES (src/http/routeTable.ts) with its handler: see routeDefinitions there. */
export interface RouteDefinition {
  /** Function name (unique in the app). */
  name: string;
  methods: HttpMethod[];
  /** Route template under /api. */
  route: string;
  authLevel: 'anonymous' | 'function';
  handler: HttpHandler;
}

export type AdminRouteHandler = (
  request: HttpRequest,
  context: InvocationContext,
  services: AppServices,
  caller: AdminCaller,
) => Promise<HttpResponseInit>;
export type AnonymousRouteHandler = (
  request: HttpRequest,
  context: InvocationContext,
  services: AppServices,
) => Promise<HttpResponseInit>;

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

async function servicesFor(options: HttpRouteOptions): Promise<AppServices> {
  try {
    return await (options.services ?? getServices)();
  } catch {
    // Configuration or storage start-up failure: the detail is in the host's start-up log, not here.
    throw problems.unavailable(
      'the service is not ready (configuration or storage); see the function app logs',
    );
  }
}

/** Wraps an admin route: services, then authorization (before the body is read), then the handler. */
export function adminRoute(
  name: RouteName,
  options: HttpRouteOptions,
  handle: AdminRouteHandler,
): HttpHandler {
  return async (request, context) => {
    const logger = createEventLogger(contextSink(context));
    try {
      const services = await servicesFor(options);
      let caller: AdminCaller;
      try {
        caller = authorizeAdmin(request, {
          adminRole: services.config.adminRole,
          requireKey: options.requireKey,
        });
      } catch (error) {
        logger.warning('http.admin.denied', { route: name, method: request.method });
        throw error;
      }
      const response = await handle(request, context, services, caller);
      logger.info('http.admin', {
        route: name,
        method: request.method,
        status: response.status ?? 200,
        via: caller.via,
        callerObjectId: caller.objectId ?? undefined,
      });
      return response;
    } catch (error) {
      return failureResponse(error, context, name);
    }
  };
}

/** Wraps an anonymous route: failures become problem responses; nothing about the request is logged. */
export function anonymousRoute(
  name: RouteName,
  options: HttpRouteOptions,
  handle: AnonymousRouteHandler,
): HttpHandler {
  return async (request, context) => {
    try {
      return await handle(request, context, await servicesFor(options));
    } catch (error) {
      return failureResponse(error, context, name);
    }
  };
}

export { problemResponse };
