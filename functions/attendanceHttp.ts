// Admin API: attendance (one feed's as JSON or CSV; erasing one person's records).
// Registered from the route table (src/http/routeTable.ts, group 'attendance'); the handlers (and the
// SDKs behind them) load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('attendance')) app.http(name, options);
