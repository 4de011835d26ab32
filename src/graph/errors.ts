// The one place where a failed Graph or token call becomes a `GraphError` with a `GraphErrorKind`.
// Everything above src/graph sees only GraphError; nothing else inspects SDK or MSAL error shapes.
import { GraphError as SdkGraphError, GraphClientError } from '@microsoft/microsoft-graph-client';
import { AppError } from '../errors.js';
import type { GraphErrorKind } from './types.js';

export interface GraphErrorInit {
  kind: GraphErrorKind;
  message: string;
  /** HTTP status; null when no response arrived (reset, timeout, DNS). */
  status?: number | null;
  /** Graph's `error.code` (e.g. `Forbidden`, `InvalidAuthenticationToken`) or MSAL's errorCode. */
  graphCode?: string | null;
  /** Graph's `innerError["request-id"]` (or the `request-id` header): quote it to Microsoft support. */
  requestId?: string | null;
  /** Graph's `innerError.date` as sent (ISO 8601). */
  date?: string | null;
  retryAfterSeconds?: number | null;
}

/**
 * A classified Graph failure. Its message is safe to log and show: it never contains a token, a
 * client secret, a join URL or a passcode (see `redactSecrets`).
 */
export class GraphError extends AppError {
  override name = 'GraphError';
  readonly kind: GraphErrorKind;
  readonly status: number | null;
  /** Graph's own `error.code` (or MSAL's errorCode); `code` is this product's `graph.<kind>`. */
  readonly graphCode: string | null;
  readonly requestId: string | null;
  readonly date: string | null;
  readonly retryAfterSeconds: number | null;

  constructor(init: GraphErrorInit) {
    super(`graph.${init.kind}`, redactSecrets(init.message));
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.graphCode = init.graphCode ?? null;
    this.requestId = init.requestId ?? null;
    this.date = init.date ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }

  /** Structured fields for a log event (no message body beyond the sanitized message). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      status: this.status,
      graphCode: this.graphCode,
      requestId: this.requestId,
      date: this.date,
      retryAfterSeconds: this.retryAfterSeconds,
      message: this.message,
    };
  }
}

export function isGraphError(e: unknown): e is GraphError {
  return e instanceof GraphError;
}

// The access-policy denial has two known bodies; the code varies (`Forbidden`, `General`,
// `Unauthorized`), so we classify on status + message, never on code. It is HTTP 403, but the legacy
// body ("App <id> is not authorized to Create meeting on behalf of user <id>") also comes with 401:
// either way it is about one organizer, not the app's token.
// https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
const POLICY_MISSING_PATTERNS = [
  /no application access policy found for this app/i,
  /app \S+ is not authorized to \w+ meeting on behalf of user/i,
];

// Graph allows 2,000 meetings per user per month; neither the status (403 or 429) nor the body of the
// refusal is documented, so it is recognised by what any wording of it must say. It is about one
// organizer: never a tenant-wide pause or refusal. https://learn.microsoft.com/graph/throttling-limits
const MONTHLY_LIMIT_PATTERNS = [
  /maximum number of (online )?meetings/i,
  /meetings? (creation )?(limit|quota)/i,
  /(per|a|each|this) month/i,
];

/**
 * Graph's throttling asks for seconds to minutes (https://learn.microsoft.com/graph/throttling); a 429
 * asking to come back in an hour or more is a limit on the organizer (the monthly one runs to the
 * month's end), whatever its wording.
 */
export const ORGANIZER_LIMIT_RETRY_AFTER_SECONDS = 3_600;

/** True when a 403/429 says the organizer's monthly meeting limit is reached (by wording, or a 429's Retry-After). */
export function isMonthlyLimitAnswer(
  status: number,
  message: string,
  retryAfterSeconds: number | null,
): boolean {
  if (status !== 403 && status !== 429) return false;
  if (MONTHLY_LIMIT_PATTERNS.some((pattern) => pattern.test(message))) return true;
  return (
    status === 429 && retryAfterSeconds !== null && retryAfterSeconds >= ORGANIZER_LIMIT_RETRY_AFTER_SECONDS
  );
}

/** True when a 401/403 message is the Teams application-access-policy denial (current or legacy text). */
export function isPolicyDenialMessage(message: string): boolean {
  return POLICY_MISSING_PATTERNS.some((pattern) => pattern.test(message));
}

/**
 * Removes anything secret-looking from text that may end up in a log: bearer tokens and JWTs, Teams
 * join URLs (their `context`/`p` parts identify the meeting), passcodes, client_secret form fields.
 */
export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
    .replace(/https?:\/\/[^\s"']*\/l\/meetup-join\/[^\s"']*/gi, '[redacted-join-url]')
    .replace(
      /(client_secret|client_assertion|passcode|access_token)(["']?\s*[:=]\s*["']?)[^\s"'&,}]+/gi,
      '$1$2[redacted]',
    );
}

// A 403 that says the app lacks an API permission (role) or admin consent: the app's, for every organizer.
// Graph words it "Missing role permissions…" (onlineMeetings) or Authorization_RequestDenied "Insufficient
// privileges…" (directory). Any other 403, the bare `{"code":"Forbidden","message":""}` included, is
// taken as one organizer's (guest, licence, disabled): microsoft-graph-docs#8889.
const APP_PERMISSION_PATTERNS = [/missing role permissions/i, /insufficient privileges/i];

function statusKind(
  status: number,
  message: string,
  code: string | null,
  retryAfterSeconds: number | null,
): GraphErrorKind {
  if ((status === 403 || status === 401) && isPolicyDenialMessage(message)) return 'policyMissing';
  if (isMonthlyLimitAnswer(status, message, retryAfterSeconds)) return 'monthlyLimit';
  if (status === 403)
    return code === 'Authorization_RequestDenied' || APP_PERMISSION_PATTERNS.some((p) => p.test(message))
      ? 'forbidden'
      : 'userForbidden';
  if (status === 429) return 'throttled';
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'notFound';
  if (status === 408 || status >= 500) return 'transient';
  if (status >= 400) return 'invalidRequest';
  return 'transient';
}

function parseRetryAfter(value: string | null | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export interface GraphErrorBody {
  code?: unknown;
  message?: unknown;
  innerError?: { date?: unknown; 'request-id'?: unknown };
}

function parseSdkBody(body: unknown): GraphErrorBody | null {
  if (typeof body !== 'string') return null;
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

function fromSdkError(e: SdkGraphError): GraphError {
  const headers = (e as { headers?: Headers }).headers;
  const body = parseSdkBody(e.body);
  if (e.statusCode === -1 || !e.statusCode) {
    // No HTTP response: the SDK wraps fetch's "fetch failed" (reset, refused, TLS, timeout).
    return new GraphError({
      kind: 'transient',
      message: `Graph request failed without a response (${e.message || 'network error'})`,
      status: null,
      graphCode: e.code ?? 'NetworkError',
      requestId: e.requestId ?? null,
    });
  }
  return classifyHttpFailure(e.statusCode, headers ?? null, {
    code: e.code,
    message: e.message || body?.message,
    innerError: body?.innerError ?? { 'request-id': e.requestId },
  });
}

/**
 * Classifies a non-2xx Graph response from its status, headers and the `error` object of its JSON
 * body (`{ code, message, innerError: { "request-id", date } }`).
 * https://learn.microsoft.com/graph/errors
 */
export function classifyHttpFailure(
  status: number,
  headers: Headers | null,
  error: GraphErrorBody | null,
): GraphError {
  const message = typeof error?.message === 'string' ? error.message : '';
  const code = typeof error?.code === 'string' ? error.code : null;
  const inner = error?.innerError;
  const requestId =
    (typeof inner?.['request-id'] === 'string' ? inner['request-id'] : null) ??
    headers?.get('request-id') ??
    null;
  const date = typeof inner?.date === 'string' ? inner.date : null;
  const retryAfterSeconds = parseRetryAfter(headers?.get('retry-after'));
  const kind = statusKind(status, message, code, retryAfterSeconds);
  const prefix: Record<GraphErrorKind, string> = {
    policyMissing:
      'Graph denied the call: the organizer has no (propagated) Teams application access policy for this app',
    throttled: 'Graph throttled the call (429)',
    transient: `Graph failed with ${status}`,
    notFound: 'Graph returned 404 (not found)',
    invalidRequest: `Graph rejected the request (${status})`,
    unauthorized: 'Graph rejected the access token (401)',
    forbidden: 'Graph refused the call (403): the app lacks an API permission or admin consent',
    userForbidden:
      'Graph refused the call (403) for this organizer, and it is not the access policy (guest, licence, disabled account?)',
    monthlyLimit: "Graph refused to create another meeting: the organizer's monthly meeting limit is reached",
  };
  return new GraphError({
    kind,
    message: `${prefix[kind]}: ${code ?? 'error'}: ${message}${requestId ? ` (request-id ${requestId})` : ''}`,
    status,
    graphCode: code,
    requestId,
    date,
    retryAfterSeconds,
  });
}

interface MsalLikeError {
  errorCode: string;
  errorMessage?: string;
  subError?: string;
  correlationId?: string;
}

function isMsalError(e: unknown): e is Error & MsalLikeError {
  return e instanceof Error && typeof (e as Partial<MsalLikeError>).errorCode === 'string';
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isNetworkError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (e instanceof TypeError && e.message === 'fetch failed') return true;
  return e.cause instanceof Error ? isNetworkError(e.cause) : false;
}

/**
 * Turns anything thrown by the Graph SDK, MSAL or fetch into a GraphError. Idempotent.
 * MSAL errors reaching here were not already wrapped by the token provider (which adds the name of
 * the setting to check); they are `unauthorized` unless they are network failures.
 */
export function classifyGraphError(e: unknown): GraphError {
  if (isGraphError(e)) return e;
  if (e instanceof SdkGraphError) return fromSdkError(e);
  if (e instanceof GraphClientError) {
    // A GraphError thrown inside the middleware chain (token acquisition), carried through the SDK by
    // PreserveGraphErrors (client.ts).
    const carried: unknown = (e as { customError?: unknown }).customError;
    if (isGraphError(carried)) return carried;
    return new GraphError({
      kind: 'invalidRequest',
      message: `Graph client rejected the request before sending it: ${e.message}`,
      graphCode: 'GraphClientError',
    });
  }
  if (isMsalError(e)) {
    const network = e.errorCode === 'network_error' || e.errorCode === 'request_timeout' || isNetworkError(e);
    return new GraphError({
      kind: network ? 'transient' : 'unauthorized',
      message: `Token acquisition failed: ${e.errorCode}: ${(e.errorMessage ?? e.message).split('\n')[0] ?? ''}`,
      graphCode: e.errorCode,
      requestId: e.correlationId ?? null,
    });
  }
  if (e instanceof Error && isNetworkError(e)) {
    return new GraphError({
      kind: 'transient',
      message: `Graph request failed without a response (${e.message})`,
      graphCode: 'NetworkError',
    });
  }
  // Anything else is a bug or an unexpected shape: not worth retrying, so report it as the request's.
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new GraphError({
    kind: 'invalidRequest',
    message: `Unexpected error calling Graph: ${text}`,
    graphCode: 'UnexpectedError',
  });
}
