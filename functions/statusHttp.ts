// Health probe (anonymous) and the ops status report (admin).
// Registered from the route table (src/http/routeTable.ts, group 'status'); the handlers (and the SDKs
// behind them) load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('status')) app.http(name, options);
