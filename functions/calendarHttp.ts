// Published calendars (anonymous, token-protected .ics/.json) and the admin routes for organizer links.
import { app } from '@azure/functions';
import { createCalendarRoutes } from '../src/http/calendar.js';

for (const { name, ...route } of createCalendarRoutes()) app.http(name, route);
