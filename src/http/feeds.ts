// Admin API for feeds: upload/register/change, list, read, remove, sync now, dry-run plan, confirm held
// cancellations, rotate the published-calendar token. Validation happens in src/admin (shared with the
// CLI) and here (content type, size, JSON shape) before anything is stored.
import { removeFeed } from '../admin/feedRemoval.js';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';

import {
  confirmCancellations,
  confirmCreations,
  decodeCalendarBody,
  dryRunPlan,
  registerFeedUrl,
  requestSync,
  requireFeed,
  updateFeedSettings,
  uploadFeed,
  type FeedSettingsInput,
} from '../admin/feeds.js';
import { problems } from '../admin/problems.js';
import { feedCalendarLinks, newCalendarToken, publicBaseUrl } from '../calendar/links.js';
import type { AppServices } from '../compose.js';
import { normalizeEmail } from '../core/identity.js';
import { emailLengthProblem, forDisplay } from '../core/limits.js';
import { contextSink, createEventLogger } from '../events.js';
import { validateFeedId, type FeedRecord } from '../storage/index.js';
import {
  booleanQuery,
  integerQuery,
  mediaTypeOf,
  readCalendarUpload,
  readJson,
  routeParam,
} from './request.js';
import { routeDefinitions, type GroupHandlers } from './routeTable.js';
import { adminRoute, jsonResponse, type HttpRouteOptions, type RouteDefinition } from './routes.js';
import { toDryRunView, toFeedView } from './views.js';

const feedJsonSchema = z
  .object({
    url: z.string().min(1).max(2048).optional(),
    defaultOrganizer: z.string().max(320).nullable().optional(),
    timeZone: z.string().max(100).nullable().optional(),
    horizonDays: z.number().int().nullable().optional(),
    enabled: z.boolean().optional(),
    attendance: z.boolean().optional(),
  })
  .strict();

function settingsFromQuery(request: HttpRequest): FeedSettingsInput {
  const settings: FeedSettingsInput = {};
  const parameter = request.query.get('organizer') !== null ? 'organizer' : 'defaultOrganizer';
  const organizer = request.query.get(parameter);
  if (organizer) {
    // Named as the caller wrote it; the same limit is checked for every other way in (admin/feeds.ts).
    const tooLong = emailLengthProblem(normalizeEmail(organizer));
    if (tooLong !== null)
      throw problems.badRequest(
        `query parameter '${parameter}' ('${forDisplay(organizer)}') ${tooLong}: a default organizer is an e-mail address`,
      );
    settings.defaultOrganizer = organizer;
  }
  const timeZone = request.query.get('timeZone');
  if (timeZone) settings.timeZone = timeZone;
  const horizonDays = integerQuery(request, 'horizonDays');
  if (horizonDays !== undefined) settings.horizonDays = horizonDays;
  const enabled = request.query.get('enabled');
  if (enabled !== null) settings.enabled = booleanQuery(request, 'enabled', true);
  if (request.query.get('attendance') !== null)
    settings.attendance = booleanQuery(request, 'attendance', false);
  return settings;
}

function withoutUndefined(input: z.infer<typeof feedJsonSchema>): FeedSettingsInput {
  const settings: FeedSettingsInput = {};
  if (input.defaultOrganizer !== undefined) settings.defaultOrganizer = input.defaultOrganizer;
  if (input.timeZone !== undefined) settings.timeZone = input.timeZone;
  if (input.horizonDays !== undefined) settings.horizonDays = input.horizonDays;
  if (input.enabled !== undefined) settings.enabled = input.enabled;
  if (input.attendance !== undefined) settings.attendance = input.attendance;
  return settings;
}

/** A new or changed feed should not wait for the timer; a failed enqueue is reported, not fatal. */
async function queueSync(
  services: AppServices,
  feed: FeedRecord,
  reason: string,
  context: InvocationContext,
): Promise<boolean> {
  if (!feed.enabled) return false;
  try {
    await services.store.syncQueue.enqueue({
      feedId: feed.id,
      reason,
      requestedAt: services.now().toISOString(),
    });
    return true;
  } catch (error) {
    createEventLogger(contextSink(context)).warning('feed.sync.enqueue.failed', {
      feedId: feed.id,
      reason: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/** The handlers of the feeds routes, by route name (their metadata: ROUTES in routeTable.ts). */
export function createFeedsHandlers(options: HttpRouteOptions = {}): GroupHandlers<'feeds'> {
  const put = adminRoute('feedsPut', options, async (request, context, services) => {
    const feedId = routeParam(request, 'id');
    const type = mediaTypeOf(request);
    if (type === 'text/calendar') {
      // Settings first: a bad query parameter is refused before the body is even read.
      const settings = settingsFromQuery(request);
      const body = await readCalendarUpload(request, services.config.sync.maxFeedBytes);
      const invalidId = validateFeedId(feedId);
      if (invalidId) throw problems.badRequest(`feed id '${feedId.slice(0, 80)}': ${invalidId}`);
      const result = await uploadFeed(services, feedId, body, settings);
      const syncQueued = await queueSync(services, result.feed, 'upload', context);
      createEventLogger(contextSink(context)).info('feed.uploaded', {
        feedId,
        created: result.created,
        bodyVersion: result.feed.bodyVersion,
        sessions: result.sessions,
        warnings: result.warnings.length + result.warningsOmitted,
      });
      // Bounded whatever the calendar holds: at most 50 of each list, and how many more there are.
      return jsonResponse(result.created ? 201 : 200, {
        feed: toFeedView(result.feed),
        created: result.created,
        sessions: result.sessions,
        warnings: result.warnings,
        warningsOmitted: result.warningsOmitted,
        skipped: result.skipped,
        skippedOmitted: result.skippedOmitted,
        skippedByReason: result.skippedByReason,
        creationGuard: result.creationGuard,
        syncQueued,
      });
    }
    if (type !== 'application/json') {
      throw problems.unsupportedMediaType(
        `PUT /api/feeds/{id} takes text/calendar (upload a timetable) or application/json (register a URL or change settings); got ${type ? `'${type.slice(0, 80)}'` : 'no Content-Type'}`,
      );
    }
    const input = await readJson(request, feedJsonSchema);
    const settings = withoutUndefined(input);
    if (input.url !== undefined) {
      const { feed, created } = await registerFeedUrl(services, feedId, input.url, settings);
      const syncQueued = await queueSync(services, feed, 'registered', context);
      createEventLogger(contextSink(context)).info('feed.registered', { feedId, created });
      return jsonResponse(created ? 201 : 200, { feed: toFeedView(feed), created, syncQueued });
    }
    if (Object.keys(settings).length === 0)
      throw problems.badRequest(
        'the body changes nothing: give url, defaultOrganizer, timeZone, horizonDays, enabled or attendance',
      );
    const invalidId = validateFeedId(feedId);
    if (invalidId) throw problems.badRequest(`feed id '${feedId.slice(0, 80)}': ${invalidId}`);
    if (!(await services.store.feeds.get(feedId)))
      throw problems.notFound(
        `feed '${feedId.slice(0, 80)}' is not registered: give a url, or upload a text/calendar body, to create it`,
      );
    const feed = await updateFeedSettings(services, feedId, settings);
    const syncQueued = await queueSync(services, feed, 'settings', context);
    createEventLogger(contextSink(context)).info('feed.settings.changed', {
      feedId,
      fields: Object.keys(settings),
    });
    return jsonResponse(200, { feed: toFeedView(feed), created: false, syncQueued });
  });

  const list = adminRoute('feedsList', options, async (_request, _context, services) => {
    const feeds = await services.store.feeds.list();
    return jsonResponse(200, { feeds: feeds.map(toFeedView) });
  });

  const get = adminRoute('feedsGet', options, async (request, _context, services) => {
    const feed = await requireFeed(services, routeParam(request, 'id'));
    const base = publicBaseUrl(services.config.publicBaseUrl);
    return jsonResponse(200, {
      feed: toFeedView(feed),
      calendar: feedCalendarLinks(base, feed.id, feed.calendarToken),
    });
  });

  const remove = adminRoute('feedsDelete', options, async (request, context, services) => {
    const feedId = routeParam(request, 'id');
    const cancelFutureMeetings = booleanQuery(request, 'cancelMeetings', false);
    const logger = createEventLogger(contextSink(context));
    const result = await removeFeed({ ...services, logger }, feedId, { cancelFutureMeetings });
    if (result.status === 'queued')
      return jsonResponse(202, {
        feedId,
        deleted: false,
        queued: true,
        detail: `a sync of '${feedId}' is running: it stops starting new work and removes the feed itself (within a minute)`,
      });
    return jsonResponse(200, {
      feedId,
      deleted: true,
      cancelledMeetings: result.cancelled,
      keptMeetings: result.kept,
    });
  });

  const sync = adminRoute('feedsSync', options, async (request, context, services) => {
    const feedId = routeParam(request, 'id');
    await requestSync(services, feedId, 'admin');
    createEventLogger(contextSink(context)).info('feed.sync.requested', { feedId });
    return jsonResponse(202, { feedId, queued: true });
  });

  // GET: the stored feed. POST with a text/calendar body: that file as the feed's next upload (a
  // preview before anything is stored; the query takes the upload's settings).
  const plan = adminRoute('feedsPlan', options, async (request, _context, services) => {
    const feedId = routeParam(request, 'id');
    if (request.method.toUpperCase() !== 'POST')
      return jsonResponse(200, toDryRunView(feedId, await dryRunPlan(services, feedId)));
    const settings = settingsFromQuery(request);
    const body = await readCalendarUpload(request, services.config.sync.maxFeedBytes);
    const text = decodeCalendarBody(body, services.config.sync.maxFeedBytes);
    return jsonResponse(200, toDryRunView(feedId, await dryRunPlan(services, feedId, text, settings)));
  });

  const confirm = adminRoute('feedsConfirmCancellations', options, async (request, context, services) => {
    const feedId = routeParam(request, 'id');
    const feed = await confirmCancellations(services, feedId);
    const syncQueued = await queueSync(services, feed, 'cancellationsConfirmed', context);
    createEventLogger(contextSink(context)).info('feed.cancellations.confirmed', {
      feedId,
      wouldCancel: feed.guard?.wouldCancel ?? 0,
    });
    return jsonResponse(200, { feed: toFeedView(feed), syncQueued });
  });

  const confirmHeldCreations = adminRoute(
    'feedsConfirmCreations',
    options,
    async (request, context, services) => {
      const feedId = routeParam(request, 'id');
      const feed = await confirmCreations(services, feedId);
      const syncQueued = await queueSync(services, feed, 'creationsConfirmed', context);
      createEventLogger(contextSink(context)).info('feed.creations.confirmed', {
        feedId,
        heldCreates: feed.creationGuard?.heldCreates ?? 0,
      });
      return jsonResponse(200, { feed: toFeedView(feed), syncQueued });
    },
  );

  const rotateToken = adminRoute('feedsRotateCalendarToken', options, async (request, context, services) => {
    const feed = await requireFeed(services, routeParam(request, 'id'));
    // Before anything changes: a rotation whose new link cannot be handed out would lock everyone out.
    const base = publicBaseUrl(services.config.publicBaseUrl);
    // If-Match on the read ETag: a concurrent sync's write makes this a 409 and the caller repeats.
    const updated = await services.store.feeds.update({
      ...feed,
      calendarToken: newCalendarToken(),
      updatedAt: services.now().toISOString(),
    });
    createEventLogger(contextSink(context)).info('calendar.token.rotated', { feedId: feed.id });
    return jsonResponse(200, {
      feedId: feed.id,
      calendar: feedCalendarLinks(base, updated.id, updated.calendarToken),
    });
  });

  return {
    feedsList: list,
    feedsGet: get,
    feedsPut: put,
    feedsDelete: remove,
    feedsSync: sync,
    feedsPlan: plan,
    feedsConfirmCancellations: confirm,
    feedsConfirmCreations: confirmHeldCreations,
    feedsRotateCalendarToken: rotateToken,
  };
}

/** The feeds routes (ROUTES, group 'feeds') with their handlers. */
export function createFeedsRoutes(options: HttpRouteOptions = {}): RouteDefinition[] {
  return routeDefinitions('feeds', createFeedsHandlers(options));
}
