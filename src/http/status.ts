// Health (anonymous: healthy/storage/graph only, for probes) and status (admin: the buildStatus report).
import { checkHealth, buildStatus } from '../admin/status.js';
import { routeDefinitions, type GroupHandlers } from './routeTable.js';
import { adminRoute, jsonResponse, type HttpRouteOptions, type RouteDefinition } from './routes.js';
import { getServices } from '../compose.js';
import type { HttpHandler } from '@azure/functions';

/** The handlers of the health and status routes, by route name (their metadata: ROUTES in routeTable.ts). */
export function createStatusHandlers(options: HttpRouteOptions = {}): GroupHandlers<'status'> {
  const health: HttpHandler = async () => {
    let report;
    try {
      report = await checkHealth(await (options.services ?? getServices)());
    } catch {
      // Services could not even be built (configuration, storage): unhealthy, without saying why.
      report = { healthy: false, storage: 'failed' as const, graph: 'failed' as const };
    }
    return jsonResponse(report.healthy ? 200 : 503, {
      healthy: report.healthy,
      storage: report.storage,
      graph: report.graph,
    });
  };

  const status = adminRoute('status', options, async (_request, _context, services) =>
    jsonResponse(200, await buildStatus(services)),
  );

  return { health, status };
}

/** The health and status routes (ROUTES, group 'status') with their handlers. */
export function createStatusRoutes(options: HttpRouteOptions = {}): RouteDefinition[] {
  return routeDefinitions('status', createStatusHandlers(options));
}
