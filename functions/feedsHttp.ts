// Admin API: feeds (upload/register/list/read/delete, sync now, dry-run plan, confirm cancellations, calendar token).
// Registered from the static route table; the handlers (and the SDKs behind them) load on the first request.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('feeds', async () =>
  (await import('../src/http/feeds.js')).createFeedsRoutes(),
))
  app.http(name, options);
