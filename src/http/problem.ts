// Every failed HTTP call answers with an RFC 9457 problem body (`application/problem+json`). Known
// errors keep their status and detail; anything else is a 500 whose detail names only the invocation,
// so an internal message (which could hold a URL or a Graph detail) never reaches the caller.
import type { HttpResponseInit, InvocationContext } from '@azure/functions';

import { ProblemError, problems, type ProblemBody } from '../admin/problems.js';
import { contextSink, createEventLogger } from '../events.js';
import { GraphError } from '../graph/errors.js';
import { CalendarError } from '../ical/index.js';
import { StorageError } from '../storage/index.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(problem: ProblemError, headers: Record<string, string> = {}): HttpResponseInit {
  const body: ProblemBody = problem.toBody();
  return {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Maps any thrown value to a ProblemError that is safe to show. */
export function toProblem(error: unknown, context: InvocationContext): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof StorageError) {
    if (error.code === 'concurrency') return problems.conflict('the record was changed by another request at the same time; try again');
    if (error.code === 'notFound') return problems.notFound('the record no longer exists');
    if (error.isUserError) return problems.badRequest(error.message);
    return problems.unavailable(`storage is not available right now (invocation ${context.invocationId})`);
  }
  if (error instanceof CalendarError) {
    // Raised by validation outside the admin layer's own wrapping (e.g. an unknown time zone setting).
    return problems.badRequest(error.message, { code: error.code });
  }
  if (error instanceof GraphError) {
    return new ProblemError(502, 'graph-failed', 'Microsoft Graph call failed', `a Microsoft Graph call failed (${error.kind}); nothing more was changed, try again`, {
      graphKind: error.kind,
      ...(error.requestId ? { graphRequestId: error.requestId } : {}),
    });
  }
  return new ProblemError(500, 'internal', 'Internal error', `unexpected error (invocation ${context.invocationId}); see the function logs`);
}

/** Logs an unexpected failure as an event (redacted by the event logger) and returns its problem response. */
export function failureResponse(error: unknown, context: InvocationContext, route: string): HttpResponseInit {
  const problem = toProblem(error, context);
  if (!(error instanceof ProblemError)) {
    // Problems raised on purpose are answers, not failures; everything else is worth an error event.
    createEventLogger(contextSink(context))[problem.status >= 500 ? 'error' : 'warning']('http.failed', {
      route,
      status: problem.status,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
  return problemResponse(problem);
}
