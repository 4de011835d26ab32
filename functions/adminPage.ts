// The admin web page (anonymous: it holds no data; its calls to the admin API carry the admin's key).
// Served at GET /api/manage because the host reserves routes starting with "admin" (docs/admin-page.md).
import { app } from '@azure/functions';
import { createAdminPageRoutes } from '../src/web/page.js';

for (const { name, ...route } of createAdminPageRoutes()) app.http(name, route);
