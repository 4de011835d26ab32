// The single place where the MSAL app and the Graph client are built (compose.ts calls
// createGraphAccess once per process, so MSAL's token cache and the HTTP agent are shared).
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
import { isGraphError } from './errors.js';
import { createPacer, type Pacer } from './pacer.js';
import { createTokenProvider } from './token.js';
import {
  createTrustingDispatcher,
  DispatcherNetworkClient,
  type DispatcherRequestInit,
} from './transport.js';
import { createUsersGateway } from './users.js';
import { createMeetingsGateway } from './meetings.js';
import type { MeetingsGateway, UsersGateway } from './types.js';

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
  /** Entra authority host; default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** Graph root without version; default https://graph.microsoft.com. */
  graphBaseUrl?: string;
  /** Extra CA certificate (PEM) to trust for the authority and Graph hosts: the emulator's. */
  caCertPem?: string;
  meetingOptions?: MeetingOptions;
  /** SDK RetryHandler tuning for 429/503/504 (defaults: 3 retries, 3 s base delay, Retry-After honoured). */
  retry?: { maxRetries?: number; delaySeconds?: number };
  /**
   * Called once for every 429 that reaches the wire, including those the SDK then retries successfully:
   * the concurrency limiter must hear about the storm while it happens, not only when the SDK gives up.
   * Waiting out Retry-After is the pacer's job, here in the Graph layer.
   */
  onThrottled?: () => void;
}

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

export interface GraphStats {
  /** HTTP requests actually sent to Graph (each SDK retry counts). */
  requests: number;
  /** 429 responses seen (including those the SDK then retried successfully). */
  throttled: number;
}

export interface GraphAccess {
  users: UsersGateway;
  meetings: MeetingsGateway;
  /** Health check: acquires (or reuses) a token; throws a GraphError of kind `unauthorized` naming the setting to fix. */
  getToken(): Promise<void>;
  stats(): GraphStats;
}

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
    if (context.response?.status === 429) {
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

/** GraphSettings with the defaults applied. */
export type ResolvedGraphSettings = GraphSettings & { authorityHost: string; graphBaseUrl: string };

export function createGraphAccess(input: GraphSettings): GraphAccess {
  const settings: ResolvedGraphSettings = {
    ...input,
    authorityHost: trimSlash(input.authorityHost ?? DEFAULT_AUTHORITY_HOST),
    graphBaseUrl: trimSlash(input.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL),
  };
  const baseUrl = new URL(settings.graphBaseUrl);
  if (baseUrl.protocol !== 'https:')
    throw new Error(
      `GRAPH_BASE_URL must be https (the Graph SDK sends the token to https hosts only): ${settings.graphBaseUrl}`,
    );

  const dispatcher = settings.caCertPem ? createTrustingDispatcher(settings.caCertPem) : undefined;
  const tokens = createTokenProvider(
    settings,
    dispatcher ? { networkClient: new DispatcherNetworkClient(dispatcher) } : {},
  );

  const counters: GraphStats = { requests: 0, throttled: 0 };
  // The SDK's default chain, plus a counter before the HTTP handler. The RetryHandler is the one
  // retry layer for 429/503/504 (it honours Retry-After); nothing above retries those again.
  const chain: Middleware[] = [
    new PreserveGraphErrors(),
    new AuthenticationHandler(tokens),
    new RetryHandler(new RetryHandlerOptions(settings.retry?.delaySeconds, settings.retry?.maxRetries)),
    new RedirectHandler(new RedirectHandlerOptions()),
    new TelemetryHandler(),
    new PacingHandler(createPacer()),
    new CountingHandler(counters, settings.onThrottled),
    new HTTPMessageHandler(),
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
    getToken: async () => {
      await tokens.getAccessToken();
    },
    stats: () => ({ ...counters }),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
