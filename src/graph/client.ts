// The single place where the MSAL app and the Graph client are built (compose.ts calls
// createGraphAccess once per process, so MSAL's token cache and the HTTP agent are shared).
import type { INetworkModule } from '@azure/msal-node';
import {
  AuthenticationHandler,
  Client,
  GraphClientError,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { cloudRefusal, GRAPH_CLOUDS, graphScope, type GraphCloud } from './clouds.js';
import { isGraphError, isMonthlyLimitAnswer } from './errors.js';
import { createPacer, type Pacer, type PacerOptions } from './pacer.js';
import { createTokenProvider } from './token.js';
import {
  createTrustingDispatcher,
  DispatcherNetworkClient,
  type DispatcherRequestInit,
} from './transport.js';
import { createUsersGateway } from './users.js';
import { createMeetingsGateway } from './meetings.js';
import { createAttendanceGateway } from './attendance.js';
import type { AttendanceGateway, MeetingsGateway, UsersGateway } from './types.js';

export type GraphCredential =
  | { kind: 'secret'; secret: string }
  /** PEM private key of a certificate registered on the app; thumbprint = hex SHA-256 of its DER. */
  | { kind: 'certificate'; privateKeyPem: string; thumbprintSha256: string }
  /** A JWT client assertion, e.g. a managed identity token for a federated credential. */
  | { kind: 'assertion'; getAssertion(): Promise<string> };

/** onlineMeeting lobby scopes: https://learn.microsoft.com/graph/api/resources/lobbybypasssettings */
export type LobbyBypassScope =
  | 'organizer'
  | 'organization'
  | 'organizationAndFederated'
  | 'everyone'
  | 'invited'
  | 'organizationExcludingGuests';
/** https://learn.microsoft.com/graph/api/resources/onlinemeeting (allowedPresenters) */
export type AllowedPresenters = 'everyone' | 'organization' | 'roleIsPresenter' | 'organizer';

export interface MeetingOptions {
  /** Who skips the lobby on every PATCH (unless the update locks the lobby). */
  lobbyBypass?: LobbyBypassScope;
  allowedPresenters?: AllowedPresenters;
}

export interface GraphSettings {
  tenantId: string;
  clientId: string;
  credential: GraphCredential;
  /**
   * Which Microsoft cloud (default `global`): its Graph host is the token scope (`<host>/.default`) and
   * its hosts are the defaults of authorityHost and graphBaseUrl. `china` is refused (no onlineMeetings
   * writes there).
   */
  cloud?: GraphCloud;
  /** Entra authority host; default the cloud's (https://login.microsoftonline.com for global). */
  authorityHost?: string;
  /** Graph root without version; default the cloud's (https://graph.microsoft.com for global). */
  graphBaseUrl?: string;
  /** Extra CA certificate (PEM) to trust for the authority and Graph hosts: the emulator's. */
  caCertPem?: string;
  meetingOptions?: MeetingOptions;
  /** SDK RetryHandler tuning for 429/503/504 (defaults: 3 retries, 3 s base delay, Retry-After honoured). */
  retry?: { maxRetries?: number; delaySeconds?: number };
  /**
   * Longest pause (seconds, default 30) a request waits before or between tries. A 429/503/504 whose
   * Retry-After (or back-off) is longer is not retried by the SDK: it fails as it came, carrying
   * retryAfterSeconds. While Graph's pause has longer than this to run, requests fail at once with a
   * `throttled` GraphError (retryAfterSeconds = the rest of the pause) instead of sleeping through the
   * run's budget; once the rest is shorter they wait it out and go.
   */
  maxRetryAfterSeconds?: number;
  /**
   * Called once for every 429 that reaches the wire, including those the SDK then retries successfully:
   * the concurrency limiter must hear about the storm while it happens, not only when the SDK gives up.
   * Waiting out Retry-After is the pacer's job, here in the Graph layer.
   */
  onThrottled?: () => void;
}

export const DEFAULT_AUTHORITY_HOST = GRAPH_CLOUDS.global.authorityHost;
export const DEFAULT_GRAPH_BASE_URL = GRAPH_CLOUDS.global.graphBaseUrl;
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 30;

export interface GraphStats {
  /** HTTP requests actually sent to Graph (each SDK retry counts). */
  requests: number;
  /** 429 responses seen (including those the SDK then retried successfully). */
  throttled: number;
}

export interface GraphAccess {
  users: UsersGateway;
  meetings: MeetingsGateway;
  /** Attendance reports (OnlineMeetingArtifact.Read.All). */
  attendance: AttendanceGateway;
  /** Health check: acquires (or reuses) a token; throws a GraphError of kind `unauthorized` naming the setting to fix. */
  getToken(): Promise<void>;
  stats(): GraphStats;
  /** This client's pacer, for sharing the app's Graph ceiling with other instances (src/sync/rateShare.ts). */
  pacing?: PacerShare;
}

export type PacerShare = Pick<Pacer, 'stats' | 'raiseCeiling' | 'setGrowthShare' | 'forget'>;

/**
 * The SDK turns any error thrown inside the chain into its own GraphError with status -1, losing our
 * classification (e.g. an `unauthorized` token failure would look like a network error). It rethrows
 * GraphClientError untouched, so we carry our GraphError through as its `customError`.
 */
class PreserveGraphErrors implements Middleware {
  private next: Middleware | undefined;
  async execute(context: Context): Promise<void> {
    try {
      await this.next?.execute(context);
    } catch (e) {
      if (!isGraphError(e)) throw e;
      const carrier = new GraphClientError(e.message) as GraphClientError & { customError?: unknown };
      carrier.customError = e;
      throw carrier;
    }
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** A 429 that is one organizer's monthly meeting limit, not the app being throttled (read from a copy of the body). */
async function isMonthlyLimitResponse(response: Response): Promise<boolean> {
  const retryAfter = Number(response.headers.get('retry-after'));
  let message = '';
  try {
    const body = (await response.clone().json()) as { error?: { message?: unknown } } | null;
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // no JSON body: the Retry-After alone decides
  }
  return isMonthlyLimitAnswer(429, message, Number.isFinite(retryAfter) ? retryAfter : null);
}

/** Counts what reaches the wire; sits after the RetryHandler so each retry is seen. */
class CountingHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly counters: GraphStats,
    private readonly onThrottled?: () => void,
  ) {}
  async execute(context: Context): Promise<void> {
    this.counters.requests++;
    await this.next?.execute(context);
    if (context.response?.status === 429 && !(await isMonthlyLimitResponse(context.response))) {
      this.counters.throttled++;
      this.onThrottled?.();
    }
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Holds every request (SDK retries included) to the pacer's rate once Graph has answered 429. */
class PacingHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(private readonly pacer: Pacer) {}
  async execute(context: Context): Promise<void> {
    await this.pacer.acquire();
    await this.next?.execute(context);
    const status = context.response?.status;
    if (status === 429 && context.response && (await isMonthlyLimitResponse(context.response))) {
      // One organizer's monthly meeting limit: the sync waits for that organizer only, the app goes on.
      return;
    }
    if (status === 429) {
      const seconds = Number(context.response?.headers.get('retry-after'));
      this.pacer.onThrottled(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined);
    } else if (status !== undefined && status < 500) {
      this.pacer.onSuccess();
    }
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * The SDK RetryHandler's options with the cap: `shouldRetry` is asked before each retry, with the
 * response; it computes the delay the handler is about to sleep (RetryHandler.getDelay: Retry-After as
 * seconds or an HTTP date, else the exponential back-off) and refuses when it exceeds the cap. Its first
 * argument is only the configured base delay, not that computed delay.
 */
export function cappedRetryOptions(
  retry: GraphSettings['retry'],
  maxDelaySeconds: number,
): RetryHandlerOptions {
  const base = new RetryHandlerOptions(retry?.delaySeconds, retry?.maxRetries);
  return new RetryHandlerOptions(
    base.delay,
    base.maxRetries,
    (delay, attempt, _request, _options, response) =>
      retryDelaySeconds(response, attempt + 1, delay) <= maxDelaySeconds,
  );
}

/** RetryHandler never sleeps longer than this (RetryHandlerOptions.MAX_DELAY, seconds). */
const SDK_MAX_DELAY_SECONDS = 180;

/** The delay (s) RetryHandler 3.0.7 sleeps before retry number `attempt`, without its < 1 s jitter. */
export function retryDelaySeconds(response: Response, attempt: number, baseDelay: number): number {
  const retryAfter = response.headers.get('retry-after');
  let seconds: number;
  if (retryAfter !== null) {
    const asNumber = Number(retryAfter);
    seconds = Number.isNaN(asNumber)
      ? (new Date(retryAfter).getTime() - Date.now()) / 1000 // NaN for a malformed date: refused below
      : asNumber;
  } else {
    seconds = attempt >= 2 ? Math.round((2 ** attempt - 1) / 2) + baseDelay : baseDelay;
  }
  return Number.isNaN(seconds) ? Infinity : Math.min(Math.max(0, seconds), SDK_MAX_DELAY_SECONDS);
}

/** GraphSettings with the defaults applied. */
export type ResolvedGraphSettings = GraphSettings & {
  cloud: GraphCloud;
  /** Client-credentials scope: the cloud's Graph resource + /.default. */
  scope: string;
  authorityHost: string;
  graphBaseUrl: string;
  maxRetryAfterSeconds: number;
};

/** Test seams below the settings: the wire (last middleware) and MSAL's network module. */
export interface GraphTransport {
  /** Replaces HTTPMessageHandler (must set context.response). */
  httpHandler?: Middleware;
  /** msal-node network module for the token endpoint (replaces the CA-trusting one). */
  tokenNetwork?: INetworkModule;
  /** The pacer's clock and sleep. */
  pacer?: Pick<PacerOptions, 'now' | 'sleep'>;
}

export function resolveGraphSettings(input: GraphSettings): ResolvedGraphSettings {
  const cloud = input.cloud ?? 'global';
  const refusal = cloudRefusal(cloud);
  if (refusal) throw new Error(`GRAPH_CLOUD: ${refusal}`);
  const endpoints = GRAPH_CLOUDS[cloud];
  const maxRetryAfterSeconds = input.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS;
  if (!(maxRetryAfterSeconds >= 0)) throw new Error('maxRetryAfterSeconds must be 0 or more');
  return {
    ...input,
    cloud,
    scope: graphScope(cloud),
    // Explicit hosts win: the local emulator is at 127.0.0.1 whatever cloud's scope it is asked for.
    authorityHost: trimSlash(input.authorityHost ?? endpoints.authorityHost),
    graphBaseUrl: trimSlash(input.graphBaseUrl ?? endpoints.graphBaseUrl),
    maxRetryAfterSeconds,
  };
}

export function createGraphAccess(input: GraphSettings, transport: GraphTransport = {}): GraphAccess {
  const settings = resolveGraphSettings(input);
  const baseUrl = new URL(settings.graphBaseUrl);
  if (baseUrl.protocol !== 'https:')
    throw new Error(
      `GRAPH_BASE_URL must be https (the Graph SDK sends the token to https hosts only): ${settings.graphBaseUrl}`,
    );

  const dispatcher = settings.caCertPem ? createTrustingDispatcher(settings.caCertPem) : undefined;
  const networkClient =
    transport.tokenNetwork ?? (dispatcher ? new DispatcherNetworkClient(dispatcher) : undefined);
  const tokens = createTokenProvider(settings, networkClient ? { networkClient } : {});

  const counters: GraphStats = { requests: 0, throttled: 0 };
  const capMs = settings.maxRetryAfterSeconds * 1000;
  const pacer = createPacer({ ...transport.pacer, maxWaitMs: capMs });
  // The SDK's default chain, plus a counter before the HTTP handler. The RetryHandler is the one
  // retry layer for 429/503/504 (it honours Retry-After up to the cap); nothing above retries those again.
  const chain: Middleware[] = [
    new PreserveGraphErrors(),
    new AuthenticationHandler(tokens),
    new RetryHandler(cappedRetryOptions(settings.retry, settings.maxRetryAfterSeconds)),
    new RedirectHandler(new RedirectHandlerOptions()),
    new TelemetryHandler(),
    new PacingHandler(pacer),
    new CountingHandler(counters, settings.onThrottled),
    transport.httpHandler ?? new HTTPMessageHandler(),
  ];
  const fetchOptions: DispatcherRequestInit | undefined = dispatcher ? { dispatcher } : undefined;
  const client = Client.initWithMiddleware({
    middleware: chain,
    baseUrl: baseUrl.origin,
    defaultVersion: 'v1.0',
    // The SDK attaches Authorization only to Graph's hosts and these (hostname, no port).
    ...(baseUrl.hostname !== 'graph.microsoft.com' ? { customHosts: new Set([baseUrl.hostname]) } : {}),
    ...(fetchOptions ? { fetchOptions } : {}),
  });

  return {
    users: createUsersGateway(client),
    meetings: createMeetingsGateway(client, settings.meetingOptions ?? {}),
    attendance: createAttendanceGateway(client, settings.graphBaseUrl),
    getToken: async () => {
      await tokens.getAccessToken();
    },
    stats: () => ({ ...counters }),
    pacing: pacer,
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
