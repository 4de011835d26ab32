// Health probe (anonymous) and the ops status report (admin).
// Registered from the static route table; the handlers (and the SDKs behind them) load on the first request.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('status', async () =>
  (await import('../src/http/status.js')).createStatusRoutes(),
))
  app.http(name, options);
