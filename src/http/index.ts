// The HTTP surface: route tables for functions/*.ts and for any local server mounting the same handlers.
export { createFeedsRoutes } from './feeds.js';
export { createPoliciesRoutes } from './policies.js';
export { createCalendarRoutes, type CalendarRouteOptions } from './calendar.js';
export { createStatusRoutes } from './status.js';
export { authorizeAdmin, constantTimeEqual, type AdminAuthOptions, type AdminCaller } from './auth.js';
export type { HttpRouteOptions, RouteDefinition, ServicesProvider } from './routes.js';
