// Published calendars (anonymous, token-protected .ics/.json) and the admin routes for organizer links.
// Registered from the static route table; the handlers (and the SDKs behind them) load on the first request.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('calendar', async () =>
  (await import('../src/http/calendar.js')).createCalendarRoutes(),
))
  app.http(name, options);
