// Admin API for attendance: one feed's attendance as JSON or CSV, and erasing one person's records.
// Attendance is personal data: admin-only, never cached, never logged (http.admin logs the route only).
import {
  attendanceCsv,
  attendanceFileName,
  attendanceReport,
  eraseParticipant,
  parseAttendanceQuery,
} from '../attendance/report.js';
import { contextSink, createEventLogger } from '../events.js';
import { routeParam } from './request.js';
import { routeDefinitions, type GroupHandlers } from './routeTable.js';
import { adminRoute, jsonResponse, type HttpRouteOptions, type RouteDefinition } from './routes.js';

/** The handlers of the attendance routes, by route name (their metadata: ROUTES in routeTable.ts). */
export function createAttendanceHandlers(options: HttpRouteOptions = {}): GroupHandlers<'attendance'> {
  const feed = adminRoute('attendanceFeed', options, async (request, _context, services) => {
    const feedId = routeParam(request, 'id');
    const query = {
      from: request.query.get('from'),
      to: request.query.get('to'),
      by: request.query.get('by'),
      format: request.query.get('format'),
    };
    const { by, format } = parseAttendanceQuery(query);
    const report = await attendanceReport(services, feedId, query);
    const download = {
      'content-disposition': `attachment; filename="${attendanceFileName(feedId, by, format)}"`,
    };
    if (format === 'csv')
      return {
        status: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store', ...download },
        body: attendanceCsv(report),
      };
    return jsonResponse(200, report, request.query.get('download') === 'true' ? download : {});
  });

  const erase = adminRoute('attendanceErase', options, async (request, context, services) => {
    const result = await eraseParticipant(services, createEventLogger(contextSink(context)), {
      email: request.query.get('email'),
      participantId: request.query.get('participantId'),
    });
    return jsonResponse(200, result);
  });

  return { attendanceFeed: feed, attendanceErase: erase };
}

/** The attendance routes with their handlers (tests; the local server mounts loadRoutes()). */
export function createAttendanceRoutes(options: HttpRouteOptions = {}): RouteDefinition[] {
  return routeDefinitions('attendance', createAttendanceHandlers(options));
}
