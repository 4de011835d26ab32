// Admin API: feeds (upload/register/list/read/delete, sync now, dry-run plan, confirm cancellations, calendar token).
// Registered from the route table (src/http/routeTable.ts, group 'feeds'); the handlers (and the SDKs
// behind them) load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('feeds')) app.http(name, options);
