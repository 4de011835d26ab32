// Published calendars (anonymous, token-protected .ics/.json) and the admin routes for organizer links.
// Registered from the route table (src/http/routeTable.ts, group 'calendar'); the handlers (and the SDKs
// behind them) load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('calendar')) app.http(name, options);
