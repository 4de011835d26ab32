// The admin web page (anonymous: it holds no data; its calls to the admin API carry the admin's key).
// Served at GET /api/manage because the host reserves routes starting with "admin" (docs/admin-page.md).
// Registered from the route table (src/http/routeTable.ts, group 'adminPage'); the page and its assets
// load on the first request, by the group's dynamic import() there.
import { app } from '@azure/functions';
import { lazyRoutes } from '../src/http/routeTable.js';

for (const { name, options } of lazyRoutes('adminPage')) app.http(name, options);
