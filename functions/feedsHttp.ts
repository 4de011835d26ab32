// Admin API: feeds (upload/register/list/read/delete, sync now, dry-run plan, confirm cancellations, calendar token).
import { app } from '@azure/functions';
import { createFeedsRoutes } from '../src/http/feeds.js';

for (const { name, ...route } of createFeedsRoutes()) app.http(name, route);
