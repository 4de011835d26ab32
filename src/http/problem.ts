// Every failed HTTP call answers with an RFC 9457 problem body (`application/problem+json`). Known
// errors keep their status and detail; anything else is a 500 whose detail names only the invocation,
// so an internal message (which could hold a URL or a Graph detail) never reaches the caller.
import type { HttpResponseInit, InvocationContext } from '@azure/functions';

import { ProblemError, problems, type ProblemBody } from '../admin/problems.js';
import { AppError, describeError } from '../errors.js';
import { contextSink, createEventLogger } from '../events.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(
  problem: ProblemError,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const body: ProblemBody = problem.toBody();
  return {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Maps any thrown value to a ProblemError that is safe to show, by its code and user-error flag. */
export function toProblem(error: unknown, context: InvocationContext): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof AppError) {
    // Storage races and vanished rows are nobody's input error but have a meaningful answer.
    if (error.code === 'concurrency')
      return problems.conflict('the record was changed by another request at the same time; try again');
    if (error.code === 'notFound') return problems.notFound('the record no longer exists');
    if (error.code === 'feedNotFound') return problems.notFound(error.message);
    if (error.code === 'conflict') return problems.conflict(error.message);
    if (error.isUserError) return problems.badRequest(error.message, { code: error.code });
    // A setting the operator must add: say which, not "internal error".
    if (error.code === 'publicBaseUrlMissing')
      return new ProblemError(503, 'not-configured', 'Not configured', error.message);
    if (error.code.startsWith('graph.')) {
      const graphError = error as AppError & { requestId?: string | null };
      return new ProblemError(
        502,
        'graph-failed',
        'Microsoft Graph call failed',
        `a Microsoft Graph call failed (${error.code.slice(6)}); nothing more was changed, try again`,
        {
          graphKind: error.code.slice(6),
          ...(graphError.requestId ? { graphRequestId: graphError.requestId } : {}),
        },
      );
    }
    if (error.code === 'unavailable')
      return problems.unavailable(`storage is not available right now (invocation ${context.invocationId})`);
  }
  return new ProblemError(
    500,
    'internal',
    'Internal error',
    `unexpected error (invocation ${context.invocationId}); see the function logs`,
  );
}

/** Logs an unexpected failure as an event (redacted by the event logger) and returns its problem response. */
export function failureResponse(error: unknown, context: InvocationContext, route: string): HttpResponseInit {
  const problem = toProblem(error, context);
  if (!(error instanceof ProblemError)) {
    // Problems raised on purpose are answers, not failures; everything else is worth an error event.
    createEventLogger(contextSink(context))[problem.status >= 500 ? 'error' : 'warning']('http.failed', {
      route,
      status: problem.status,
      error: describeError(error),
    });
  }
  return problemResponse(problem);
}
