// The one table of HTTP routes: each route's function name, methods, route template and authLevel,
// and per group the loader of its handlers. Everything else reads it:
// - functions/*.ts register each group's triggers from it (`lazyRoutes`) without loading handlers:
//   those import src/compose.ts and with it every Azure SDK, MSAL and zod, which is most of a cold
//   start (docs/performance.md part 4), so each group's loader is a dynamic import(), run on the
//   group's first request;
// - the group modules (feeds.ts, policies.ts, calendar.ts, status.ts) return their handlers keyed by
//   route name (`GroupHandlers`): the compiler checks every route of the group has one, and no other;
//   their createXRoutes() (route definitions for tests) are `routeDefinitions` of those handlers;
// - the local server (src/web/serve.ts) mounts `loadRoutes()`.
// Adding a route: one row in ROUTES and its handler in the group module (the compiler asks for it),
// plus the README row (test/unit/route-table.test.ts checks it).
//
// Imports: types only, and web/constants.ts (no imports of its own). Keep it that way: this module is
// in the entry's static import closure (scripts/bundle.mjs checks it).
import type { HttpHandler, HttpMethod } from '@azure/functions';

import { PAGE_ROUTE } from '../web/constants.js';
import type { HttpRouteOptions, RouteDefinition } from './routes.js';

/** A route without its handler: what the Functions host needs to register the trigger. */
export interface RouteSpec {
  /** Which functions/*.ts registers it and which loader (HANDLER_LOADERS) provides its handler. */
  readonly group: string;
  /** Function name (unique in the app). Must not start with "admin" (the host reserves it). */
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Route template under /api. */
  readonly route: string;
  readonly authLevel: 'anonymous' | 'function';
}

/** Every HTTP route, grouped by the functions/*.ts file that registers it. */
export const ROUTES = [
  // functions/feedsHttp.ts ← createFeedsHandlers (src/http/feeds.ts)
  { group: 'feeds', name: 'feedsList', methods: ['GET'], route: 'feeds', authLevel: 'function' },
  { group: 'feeds', name: 'feedsGet', methods: ['GET'], route: 'feeds/{id}', authLevel: 'function' },
  { group: 'feeds', name: 'feedsPut', methods: ['PUT'], route: 'feeds/{id}', authLevel: 'function' },
  { group: 'feeds', name: 'feedsDelete', methods: ['DELETE'], route: 'feeds/{id}', authLevel: 'function' },
  { group: 'feeds', name: 'feedsSync', methods: ['POST'], route: 'feeds/{id}/sync', authLevel: 'function' },
  {
    group: 'feeds',
    name: 'feedsPlan',
    methods: ['GET', 'POST'],
    route: 'feeds/{id}/plan',
    authLevel: 'function',
  },
  {
    group: 'feeds',
    name: 'feedsConfirmCancellations',
    methods: ['POST'],
    route: 'feeds/{id}/confirm-cancellations',
    authLevel: 'function',
  },
  {
    group: 'feeds',
    name: 'feedsConfirmCreations',
    methods: ['POST'],
    route: 'feeds/{id}/confirm-creations',
    authLevel: 'function',
  },
  {
    group: 'feeds',
    name: 'feedsRotateCalendarToken',
    methods: ['POST'],
    route: 'feeds/{id}/calendar-token',
    authLevel: 'function',
  },
  // functions/policiesHttp.ts ← createPoliciesHandlers (src/http/policies.ts)
  {
    group: 'policies',
    name: 'policiesGrant',
    methods: ['POST'],
    route: 'policies/grants',
    authLevel: 'function',
  },
  { group: 'policies', name: 'policiesList', methods: ['GET'], route: 'policies', authLevel: 'function' },
  {
    group: 'policies',
    name: 'policiesScript',
    methods: ['GET'],
    route: 'policies/script',
    authLevel: 'function',
  },
  // functions/calendarHttp.ts ← createCalendarHandlers (src/http/calendar.ts)
  {
    group: 'calendar',
    name: 'calendarFeed',
    methods: ['GET'],
    route: 'calendars/{file}',
    authLevel: 'anonymous',
  },
  {
    group: 'calendar',
    name: 'calendarOrganizer',
    methods: ['GET'],
    route: 'calendars/organizers/{file}',
    authLevel: 'anonymous',
  },
  {
    group: 'calendar',
    name: 'calendarOrganizerLinks',
    methods: ['GET'],
    route: 'calendar-links/organizers/{email}',
    authLevel: 'function',
  },
  {
    group: 'calendar',
    name: 'calendarRotateOrganizerKey',
    methods: ['POST'],
    route: 'calendar-links/organizer-key',
    authLevel: 'function',
  },
  // functions/statusHttp.ts ← createStatusHandlers (src/http/status.ts)
  { group: 'status', name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous' },
  { group: 'status', name: 'status', methods: ['GET'], route: 'status', authLevel: 'function' },
  // functions/attendanceHttp.ts ← createAttendanceHandlers (src/http/attendance.ts)
  {
    group: 'attendance',
    name: 'attendanceFeed',
    methods: ['GET'],
    route: 'feeds/{id}/attendance',
    authLevel: 'function',
  },
  {
    group: 'attendance',
    name: 'attendanceErase',
    methods: ['DELETE'],
    route: 'attendance/participants',
    authLevel: 'function',
  },
  // functions/adminPage.ts ← the page's handlers (src/web/page.ts)
  { group: 'adminPage', name: 'managePage', methods: ['GET'], route: PAGE_ROUTE, authLevel: 'anonymous' },
  {
    group: 'adminPage',
    name: 'managePageAsset',
    methods: ['GET'],
    route: `${PAGE_ROUTE}/{asset}`,
    authLevel: 'anonymous',
  },
] as const satisfies readonly RouteSpec[];

export type Route = (typeof ROUTES)[number];
export type RouteName = Route['name'];
export type RouteGroup = Route['group'];
export type RouteNameIn<G extends RouteGroup> = Extract<Route, { group: G }>['name'];
/** A group's handlers by route name: exactly the group's routes, each with one handler. */
export type GroupHandlers<G extends RouteGroup> = { readonly [N in RouteNameIn<G>]: HttpHandler };

/**
 * Per group, how its handlers are loaded: a dynamic import() of the group's module (never a static
 * import here), then its handler factory with the route options.
 */
export const HANDLER_LOADERS = {
  feeds: async (options) => (await import('./feeds.js')).createFeedsHandlers(options),
  policies: async (options) => (await import('./policies.js')).createPoliciesHandlers(options),
  calendar: async (options) => (await import('./calendar.js')).createCalendarHandlers(options),
  status: async (options) => (await import('./status.js')).createStatusHandlers(options),
  attendance: async (options) => (await import('./attendance.js')).createAttendanceHandlers(options),
  adminPage: async () => {
    const page = await import('../web/page.js');
    return { managePage: page.adminPageHandler, managePageAsset: page.adminPageAssetHandler };
  },
} as const satisfies {
  readonly [G in RouteGroup]: (options: HttpRouteOptions) => Promise<GroupHandlers<G>>;
};

/** The routes of `group`, in table order. */
export function routesOf<G extends RouteGroup>(group: G): Array<Extract<Route, { group: G }>> {
  return ROUTES.filter((route): route is Extract<Route, { group: G }> => route.group === group);
}

/** The group's routes with their handlers (what tests call and the local server mounts). */
export function routeDefinitions<G extends RouteGroup>(
  group: G,
  handlers: GroupHandlers<G>,
): RouteDefinition[] {
  return withHandlers(group, handlers);
}

function withHandlers(group: RouteGroup, handlers: Partial<Record<string, HttpHandler>>): RouteDefinition[] {
  return routesOf(group).map((spec) => {
    const handler = handlers[spec.name];
    if (!handler) throw new Error(`route ${spec.name}: the ${group} handlers have none of that name`);
    return {
      name: spec.name,
      methods: [...spec.methods],
      route: spec.route,
      authLevel: spec.authLevel,
      handler,
    };
  });
}

/** Every route with its handler, in table order: loads every group (the local server, not the host). */
export async function loadRoutes(options: HttpRouteOptions = {}): Promise<RouteDefinition[]> {
  const groups = [...new Set(ROUTES.map((route) => route.group))];
  const loaded = await Promise.all(
    groups.map(async (group) => withHandlers(group, await HANDLER_LOADERS[group](options))),
  );
  return loaded.flat();
}

/** What `app.http(name, options)` takes, minus the name: the spec plus a handler. */
export interface LazyRouteOptions {
  methods: HttpMethod[];
  route: string;
  authLevel: 'anonymous' | 'function';
  handler: HttpHandler;
}

/**
 * The routes of `group` with handlers that, on the first request to any of them, call `load` (by
 * default the group's loader with the host's options: keys are the host's business, services are
 * getServices()) once and then forward every request to the handler of the route's name. A failed load
 * is not cached: the next request tries again.
 */
export function lazyRoutes<G extends RouteGroup>(
  group: G,
  load: () => Promise<Partial<Record<string, HttpHandler>>> = () => HANDLER_LOADERS[group]({}),
): Array<{ name: RouteName; options: LazyRouteOptions }> {
  let handlers: Promise<Partial<Record<string, HttpHandler>>> | undefined;
  const loadHandlers = (): Promise<Partial<Record<string, HttpHandler>>> =>
    (handlers ??= load().catch((error: unknown) => {
      handlers = undefined;
      throw error;
    }));
  return routesOf(group).map((spec) => ({
    name: spec.name,
    options: {
      methods: [...spec.methods],
      route: spec.route,
      authLevel: spec.authLevel,
      handler: async (request, context) => {
        const handler = (await loadHandlers())[spec.name];
        if (!handler) throw new Error(`route ${spec.name}: the ${group} handlers have none of that name`);
        return handler(request, context);
      },
    },
  }));
}
