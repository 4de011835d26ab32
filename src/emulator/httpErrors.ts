// The emulator's error bodies, in one place so each surface answers in exactly one shape:
// - Graph (/v1.0, and any HttpError escaping a handler): {error: {code, message, innerError}}
// - Entra's token endpoint: {error, error_description "AADSTS…", error_codes, timestamp, trace_id, …}
// - the emulator's own routes (/_emulator/*, unknown paths): {error: {code, message, details?}}
import { randomUUID } from 'node:crypto';

/** A Graph error a handler throws; the dispatcher renders it with graphErrorBody. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, 'BadRequest', message);
export const methodNotAllowed = (): HttpError =>
  new HttpError(405, 'Request_BadRequest', 'Method not allowed.');

/** Graph's correlation ids, echoed in headers and in `innerError`. */
export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

export function graphErrorBody(code: string, message: string, ids: RequestIds, nowMs: number): unknown {
  // innerError.date is UTC without fraction or zone, as Graph sends it.
  const date = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, '');
  return {
    error: {
      code,
      message,
      innerError: { date, 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

/** An Entra token-endpoint refusal: status plus the complete body to send. */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super('entra error');
  }
}

// https://learn.microsoft.com/entra/identity-platform/reference-error-codes
export function entraError(
  status: number,
  error: string,
  aadsts: number,
  description: string,
  correlationId: string,
  nowMs: number,
): EntraError {
  const timestamp = new Date(nowMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  const traceId = randomUUID();
  return new EntraError(status, {
    error,
    error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
  });
}

/** The short body an injected token-endpoint fault answers (MSAL only looks at the status). */
export const entraTransientErrorBody = {
  error: 'temporarily_unavailable',
  error_description: 'AADSTS90033: A transient error has occurred. Please try again.',
} as const;

export interface ErrorDetail {
  target: string;
  message: string;
}

/** The emulator's own routes: no Graph correlation, optional per-field details. */
export function emulatorErrorBody(code: string, message: string, details?: ErrorDetail[]): unknown {
  return { error: { code, message, ...(details ? { details } : {}) } };
}
