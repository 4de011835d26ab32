// Health (anonymous: healthy/storage/graph only, for probes) and status (admin: the buildStatus report).
import { checkHealth, buildStatus } from '../admin/status.js';
import { adminRoute, jsonResponse, type HttpRouteOptions, type RouteDefinition } from './routes.js';
import { getServices } from '../compose.js';
import type { HttpHandler } from '@azure/functions';

export function createStatusRoutes(options: HttpRouteOptions = {}): RouteDefinition[] {
  const health: HttpHandler = async () => {
    let report;
    try {
      report = await checkHealth(await (options.services ?? getServices)());
    } catch {
      // Services could not even be built (configuration, storage): unhealthy, without saying why.
      report = { healthy: false, storage: 'failed' as const, graph: 'failed' as const };
    }
    return jsonResponse(report.healthy ? 200 : 503, { healthy: report.healthy, storage: report.storage, graph: report.graph });
  };

  const status = adminRoute('status', options, async (_request, _context, services) => jsonResponse(200, await buildStatus(services)));

  return [
    { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: health },
    { name: 'status', methods: ['GET'], route: 'status', authLevel: 'function', handler: status },
  ];
}
