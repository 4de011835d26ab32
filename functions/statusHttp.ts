// Health probe (anonymous) and the ops status report (admin).
import { app } from '@azure/functions';
import { createStatusRoutes } from '../src/http/status.js';

for (const { name, ...route } of createStatusRoutes()) app.http(name, route);
