// The HTTP surface: the route table (routeTable.ts: every route's metadata and its group's handler
// loader) and each group's handlers, by route name and as route definitions for tests.
export { createFeedsHandlers, createFeedsRoutes } from './feeds.js';
export { createPoliciesHandlers, createPoliciesRoutes } from './policies.js';
export { createCalendarHandlers, createCalendarRoutes, type CalendarRouteOptions } from './calendar.js';
export { createStatusHandlers, createStatusRoutes } from './status.js';
export {
  HANDLER_LOADERS,
  loadRoutes,
  routeDefinitions,
  ROUTES,
  type GroupHandlers,
  type RouteGroup,
  type RouteName,
  type RouteSpec,
} from './routeTable.js';
export { authorizeAdmin, type AdminAuthOptions, type AdminCaller } from './auth.js';
export type { HttpRouteOptions, RouteDefinition, ServicesProvider } from './routes.js';
