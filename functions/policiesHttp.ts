// Admin API: Teams application access policies (record grants, list organizers, grant script).
import { app } from '@azure/functions';
import { createPoliciesRoutes } from '../src/http/policies.js';

for (const { name, ...route } of createPoliciesRoutes()) app.http(name, route);
