// The static half of every HTTP route (name, route, methods, authLevel), for functions/*.ts to register
// triggers without loading the handlers: those import src/compose.ts and with it every Azure SDK, MSAL
// and zod, which is most of a cold start (docs/performance.md part 4). The handlers are loaded by a
// dynamic import() on the first request (lazyRoutes below).
//
// The factories (createFeedsRoutes, … in feeds.ts, policies.ts, calendar.ts, status.ts and
// web/page.ts) stay the source of the handlers, for tests and the local server (src/web/serve.ts).
// test/unit/route-table.test.ts checks this table equals their definitions, so the two cannot drift.
//
// Imports: types only, and web/constants.ts (no imports of its own). Keep it that way.
import type { HttpHandler, HttpMethod } from '@azure/functions';

import { PAGE_ROUTE } from '../web/constants.js';

/** A route without its handler: what the Functions host needs to register the trigger. */
export interface RouteSpec {
  /** Function name (unique in the app). */
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Route template under /api. */
  readonly route: string;
  readonly authLevel: 'anonymous' | 'function';
}

/** One group per functions/*.ts file, in the order its factory returns them. */
export const ROUTE_TABLE = {
  /** functions/feedsHttp.ts ← createFeedsRoutes (src/http/feeds.ts) */
  feeds: [
    { name: 'feedsList', methods: ['GET'], route: 'feeds', authLevel: 'function' },
    { name: 'feedsGet', methods: ['GET'], route: 'feeds/{id}', authLevel: 'function' },
    { name: 'feedsPut', methods: ['PUT'], route: 'feeds/{id}', authLevel: 'function' },
    { name: 'feedsDelete', methods: ['DELETE'], route: 'feeds/{id}', authLevel: 'function' },
    { name: 'feedsSync', methods: ['POST'], route: 'feeds/{id}/sync', authLevel: 'function' },
    { name: 'feedsPlan', methods: ['GET'], route: 'feeds/{id}/plan', authLevel: 'function' },
    {
      name: 'feedsConfirmCancellations',
      methods: ['POST'],
      route: 'feeds/{id}/confirm-cancellations',
      authLevel: 'function',
    },
    {
      name: 'feedsRotateCalendarToken',
      methods: ['POST'],
      route: 'feeds/{id}/calendar-token',
      authLevel: 'function',
    },
  ],
  /** functions/policiesHttp.ts ← createPoliciesRoutes (src/http/policies.ts) */
  policies: [
    { name: 'policiesGrant', methods: ['POST'], route: 'policies/grants', authLevel: 'function' },
    { name: 'policiesList', methods: ['GET'], route: 'policies', authLevel: 'function' },
    { name: 'policiesScript', methods: ['GET'], route: 'policies/script', authLevel: 'function' },
  ],
  /** functions/calendarHttp.ts ← createCalendarRoutes (src/http/calendar.ts) */
  calendar: [
    { name: 'calendarFeed', methods: ['GET'], route: 'calendars/{file}', authLevel: 'anonymous' },
    {
      name: 'calendarOrganizer',
      methods: ['GET'],
      route: 'calendars/organizers/{file}',
      authLevel: 'anonymous',
    },
    {
      name: 'calendarOrganizerLinks',
      methods: ['GET'],
      route: 'calendar-links/organizers/{email}',
      authLevel: 'function',
    },
    {
      name: 'calendarRotateOrganizerKey',
      methods: ['POST'],
      route: 'calendar-links/organizer-key',
      authLevel: 'function',
    },
  ],
  /** functions/statusHttp.ts ← createStatusRoutes (src/http/status.ts) */
  status: [
    { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous' },
    { name: 'status', methods: ['GET'], route: 'status', authLevel: 'function' },
  ],
  /** functions/adminPage.ts ← createAdminPageRoutes (src/web/page.ts) */
  adminPage: [
    { name: 'managePage', methods: ['GET'], route: PAGE_ROUTE, authLevel: 'anonymous' },
    { name: 'managePageAsset', methods: ['GET'], route: `${PAGE_ROUTE}/{asset}`, authLevel: 'anonymous' },
  ],
} as const satisfies Record<string, readonly RouteSpec[]>;

export type RouteGroup = keyof typeof ROUTE_TABLE;

/** What `app.http(name, options)` takes, minus the name: the spec plus a handler. */
export interface LazyRouteOptions {
  methods: HttpMethod[];
  route: string;
  authLevel: 'anonymous' | 'function';
  handler: HttpHandler;
}

/**
 * The routes of `group` with handlers that, on the first request to any of them, call `load` (a
 * dynamic import of the factory's module, then the factory) once and then forward every request to
 * the factory's handler of the same name. A failed load is not cached: the next request tries again.
 */
export function lazyRoutes(
  group: RouteGroup,
  load: () => Promise<ReadonlyArray<{ readonly name: string; readonly handler: HttpHandler }>>,
): Array<{ name: string; options: LazyRouteOptions }> {
  let handlers: Promise<Map<string, HttpHandler>> | undefined;
  const loadHandlers = (): Promise<Map<string, HttpHandler>> =>
    (handlers ??= load().then(
      (routes) => new Map(routes.map((r) => [r.name, r.handler])),
      (error: unknown) => {
        handlers = undefined;
        throw error;
      },
    ));
  return ROUTE_TABLE[group].map((spec: RouteSpec) => ({
    name: spec.name,
    options: {
      methods: [...spec.methods],
      route: spec.route,
      authLevel: spec.authLevel,
      handler: async (request, context) => {
        const handler = (await loadHandlers()).get(spec.name);
        if (!handler)
          throw new Error(
            `route ${spec.name}: no handler of that name in the ${group} routes (src/http/routeTable.ts out of date)`,
          );
        return handler(request, context);
      },
    },
  }));
}
