// Admin API: Teams application access policies (record grants, list organizers, grant script).
// Registered from the static route table; the handlers (and the SDKs behind them) load on the first request.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('policies', async () =>
  (await import('../src/http/policies.js')).createPoliciesRoutes(),
))
  app.http(name, options);
