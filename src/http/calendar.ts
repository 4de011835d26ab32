// Published calendars for students (anonymous, token in the query) and the admin routes that hand out
// organizer calendar links and rotate their key. A wrong or missing token answers exactly like an
// unknown calendar (404), so the routes do not reveal which feeds or organizers exist.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import { problems } from '../admin/problems.js';
import { organizerCalendarLinks, publicBaseUrl } from '../calendar/links.js';
import {
  isValidOrganizerToken,
  organizerKeyStoreFor,
  organizerToken,
  type OrganizerKeyStore,
} from '../calendar/organizerTokens.js';
import {
  etagOf,
  matchesIfNoneMatch,
  renderIcs,
  renderJson,
  toPublishedSessions,
  type PublishedSession,
} from '../calendar/render.js';
import type { AppServices } from '../compose.js';
import { normalizeEmail } from '../core/identity.js';
import type { MeetingRecord } from '../core/state.js';
import { contextSink, createEventLogger } from '../events.js';
import { validateFeedId } from '../storage/index.js';
import { constantTimeEqual } from '../core/constantTime.js';
import { routeParam } from './request.js';
import { routeDefinitions, type GroupHandlers } from './routeTable.js';
import {
  adminRoute,
  anonymousRoute,
  jsonResponse,
  type HttpRouteOptions,
  type RouteDefinition,
} from './routes.js';

export interface CalendarRouteOptions extends HttpRouteOptions {
  /** Organizer-calendar key store (default: `services.store.deploymentKeys`). */
  organizerKeys?: (services: AppServices) => Promise<OrganizerKeyStore>;
}

const CACHE_CONTROL = 'private, max-age=300';
const EMAIL = /^[^@\s/\\]+@[^@\s/\\]+$/;
/** Compared against when there is no feed, so a miss costs the same as a wrong token. */
const DUMMY_TOKEN = 'x'.repeat(32);

function notFound() {
  return problems.notFound(
    'no such calendar (check the link, or ask for a new one if its token was rotated)',
  );
}

function splitFile(file: string): { name: string; format: 'ics' | 'json' } {
  const match = /^(.+)\.(ics|json)$/i.exec(file);
  if (!match?.[1] || !match[2]) throw notFound();
  return { name: match[1], format: match[2].toLowerCase() as 'ics' | 'json' };
}

function respond(
  request: HttpRequest,
  format: 'ics' | 'json',
  title: string,
  sessions: PublishedSession[],
): HttpResponseInit {
  const body = format === 'ics' ? renderIcs(title, sessions) : renderJson(title, sessions);
  const etag = etagOf(body);
  const headers = {
    etag,
    'cache-control': CACHE_CONTROL,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (matchesIfNoneMatch(request.headers.get('if-none-match'), etag)) return { status: 304, headers };
  return {
    status: 200,
    headers: {
      ...headers,
      'content-type': format === 'ics' ? 'text/calendar; charset=utf-8' : 'application/json; charset=utf-8',
    },
    body,
  };
}

async function feedCalendar(
  request: HttpRequest,
  _context: InvocationContext,
  services: AppServices,
): Promise<HttpResponseInit> {
  const { name: feedId, format } = splitFile(routeParam(request, 'file'));
  const token = request.query.get('token') ?? '';
  const feed = validateFeedId(feedId) ? null : await services.store.feeds.get(feedId);
  const tokenMatches = constantTimeEqual(token, feed?.calendarToken ?? DUMMY_TOKEN);
  if (!feed || !token || !tokenMatches) throw notFound();
  const records = await services.store.meetings.listByFeed(feed.id);
  const lecturers = await lecturerNames(services, records);
  // The timetable's own name (X-WR-CALNAME) when it has one, else the feed id.
  return respond(
    request,
    format,
    feed.calendarName ?? feed.id,
    toPublishedSessions(feed, records, services.now().getTime(), lecturers),
  );
}

/** The directory's display name of each lecturer of `records` (one cached organizer row each). */
async function lecturerNames(
  services: AppServices,
  records: readonly MeetingRecord[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const emails = new Set(records.map((r) => normalizeEmail(r.organizerEmail)));
  for (const email of emails) {
    if (email === '') continue;
    const organizer = await services.store.organizers.get(email);
    if (organizer?.displayName) names.set(email, organizer.displayName);
  }
  return names;
}

/** The handlers of the calendar routes, by route name (their metadata: ROUTES in routeTable.ts). */
export function createCalendarHandlers(options: CalendarRouteOptions = {}): GroupHandlers<'calendar'> {
  const keysFor = options.organizerKeys ?? organizerKeyStoreFor;

  const organizerCalendar = async (
    request: HttpRequest,
    _context: InvocationContext,
    services: AppServices,
  ): Promise<HttpResponseInit> => {
    const { name, format } = splitFile(routeParam(request, 'file'));
    const email = normalizeEmail(name);
    const token = request.query.get('token') ?? '';
    const key = await (await keysFor(services)).current();
    if (!token || !EMAIL.test(email) || !isValidOrganizerToken(key, email, token)) throw notFound();
    const nowMs = services.now().getTime();
    const sessions: PublishedSession[] = [];
    for (const feed of await services.store.feeds.list()) {
      const records = (await services.store.meetings.listByFeed(feed.id)).filter(
        (r) => normalizeEmail(r.organizerEmail) === email,
      );
      sessions.push(...toPublishedSessions(feed, records, nowMs, await lecturerNames(services, records)));
    }
    // Named after the lecturer as the directory knows them.
    const lecturer = await services.store.organizers.get(email);
    return respond(request, format, lecturer?.displayName ?? email, sessions);
  };

  const organizerLinks = adminRoute(
    'calendarOrganizerLinks',
    options,
    async (request, _context, services) => {
      const email = normalizeEmail(routeParam(request, 'email'));
      if (!EMAIL.test(email)) throw problems.badRequest(`'${email.slice(0, 80)}' is not an e-mail address`);
      const key = await (await keysFor(services)).current();
      const base = publicBaseUrl(services.config.publicBaseUrl);
      return jsonResponse(200, {
        email,
        calendar: organizerCalendarLinks(base, email, organizerToken(key, email)),
      });
    },
  );

  const rotateOrganizerKey = adminRoute(
    'calendarRotateOrganizerKey',
    options,
    async (_request, context, services) => {
      await (await keysFor(services)).rotate();
      createEventLogger(contextSink(context)).info('calendar.organizer.key.rotated', {});
      return jsonResponse(200, {
        rotated: true,
        note: 'every organizer calendar link issued before now has stopped working; other instances follow within 5 minutes',
      });
    },
  );

  return {
    calendarFeed: anonymousRoute('calendarFeed', options, feedCalendar),
    calendarOrganizer: anonymousRoute('calendarOrganizer', options, organizerCalendar),
    calendarOrganizerLinks: organizerLinks,
    calendarRotateOrganizerKey: rotateOrganizerKey,
  };
}

/** The calendar routes (ROUTES, group 'calendar') with their handlers. */
export function createCalendarRoutes(options: CalendarRouteOptions = {}): RouteDefinition[] {
  return routeDefinitions('calendar', createCalendarHandlers(options));
}
