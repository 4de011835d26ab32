// Admin API: Teams application access policies (record grants, list organizers, grant script).
// Registered from the route table (src/http/routeTable.ts, group 'policies'); the handlers (and the SDKs
// behind them) load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('policies')) app.http(name, options);
