// The only place SDK clients are built: Graph (MSAL + Graph client), Storage (Tables, Blobs, Queues)
// and the shared limiter. Built once per process and reused by every invocation, so MSAL's token cache
// and HTTP connections live as long as the worker.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import type { TokenCredential } from '@azure/identity';

import { loadConfig, type AppConfig, type GraphConfig, type StorageConfig } from './config.js';
import { GRAPH_CLOUDS, type GraphCloud } from './graph/clouds.js';
import {
  createGraphAccess,
  DEFAULT_MAX_RETRY_AFTER_SECONDS,
  type GraphAccess,
  type GraphSettings,
} from './graph/client.js';
import { createStateStore, type StateStore } from './storage/index.js';
import { createLimiter, type Limiter } from './sync/limiter.js';
import { createRateShare, type RateShare } from './sync/rateShare.js';
import { errorMessage, userError } from './errors.js';
import { exportEvents } from './events.js';

export interface AppServices {
  config: AppConfig;
  store: StateStore;
  /** null when no Graph settings are configured (admin routes that need no Graph still work). */
  graph: GraphAccess | null;
  limiter: Limiter;
  /** Shares the tenant's Graph ceiling with the app's other instances; null without Graph settings. */
  rateShare?: RateShare | null;
  now: () => Date;
}

export function toGraphSettings(
  graph: GraphConfig,
  config: Pick<AppConfig, 'meeting' | 'sync'>,
): GraphSettings {
  const credential: GraphSettings['credential'] =
    graph.credential.kind === 'secret'
      ? { kind: 'secret', secret: graph.credential.secret }
      : graph.credential.kind === 'certificate'
        ? {
            kind: 'certificate',
            privateKeyPem: graph.credential.privateKeyPem,
            thumbprintSha256: graph.credential.thumbprintSha256,
          }
        : graph.credential.kind === 'managedIdentity'
          ? managedIdentityAssertion(graph.credential.clientId, graph.cloud ?? 'global')
          : (() => {
              const path = graph.credential.path;
              // Workload-identity assertions are short-lived files rotated by the platform: read each time.
              return {
                kind: 'assertion' as const,
                getAssertion: async () => (await readFile(path, 'utf8')).trim(),
              };
            })();
  return {
    tenantId: graph.tenantId,
    clientId: graph.clientId,
    credential,
    cloud: graph.cloud,
    authorityHost: graph.authorityHost,
    graphBaseUrl: graph.graphBaseUrl,
    // No retry or Graph-requested pause longer than an eighth of the run's budget (at most 30 s).
    maxRetryAfterSeconds: Math.min(
      DEFAULT_MAX_RETRY_AFTER_SECONDS,
      Math.ceil(config.sync.runBudgetSeconds / 8),
    ),
    ...(graph.caCertFile ? { caCertPem: readCaFile(graph.caCertFile) } : {}),
    meetingOptions: {
      lobbyBypass: config.meeting.lobbyBypass,
      allowedPresenters: config.meeting.allowedPresenters,
    },
  };
}

/**
 * Managed identity as a federated credential: the app registration trusts the function app's
 * user-assigned identity, whose token for the cloud's token-exchange audience is the client assertion.
 * Nothing secret is stored anywhere. @azure/identity (which caches the token) loads on first use.
 */
function managedIdentityAssertion(
  clientId: string,
  cloud: GraphCloud,
): Extract<GraphSettings['credential'], { kind: 'assertion' }> {
  const scope = `${GRAPH_CLOUDS[cloud].tokenExchangeAudience}/.default`;
  let credential: Promise<TokenCredential> | undefined;
  return {
    kind: 'assertion',
    getAssertion: async () => {
      credential ??= import('@azure/identity').then(
        ({ ManagedIdentityCredential }) => new ManagedIdentityCredential({ clientId }),
      );
      const token = await (await credential).getToken(scope);
      if (!token)
        throw new Error(
          `GRAPH_FEDERATED_IDENTITY_CLIENT_ID: the managed identity gave no token for ${scope}`,
        );
      return token.token;
    },
  };
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw userError('badSetting', `GRAPH_CA_CERT_FILE: cannot read ${path}`);
  }
}

async function storeFor(storage: StorageConfig): Promise<StateStore> {
  if (storage.kind === 'connectionString')
    return createStateStore({ connectionString: storage.connectionString });
  // Managed identity: @azure/identity is loaded only where it is used (Azure), keeping local start-up lean.
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
  const credential = storage.clientId
    ? new ManagedIdentityCredential({ clientId: storage.clientId })
    : new DefaultAzureCredential();
  return createStateStore({ accountName: storage.accountName, credential });
}

export async function buildServices(
  config: AppConfig,
  options: { namePrefix?: string } = {},
): Promise<AppServices> {
  if (!config.storage)
    throw userError(
      'storageNotConfigured',
      'AzureWebJobsStorage: required (a connection string, or AzureWebJobsStorage__accountName)',
    );
  const store =
    options.namePrefix !== undefined && config.storage.kind === 'connectionString'
      ? createStateStore({
          connectionString: config.storage.connectionString,
          namePrefix: options.namePrefix,
        })
      : await storeFor(config.storage);
  await store.ensure();
  const limiter = createLimiter({
    initial: Math.min(8, config.sync.maxConcurrency),
    min: 1,
    max: config.sync.maxConcurrency,
    perKeyMax: config.sync.perOrganizerConcurrency,
  });
  const graph = config.graph
    ? createGraphAccess({
        ...toGraphSettings(config.graph, config),
        onThrottled: () => limiter.onThrottled(),
      })
    : null;
  return {
    config,
    store,
    // A 429 is the Graph layer's: the SDK retries it, the pacer waits out Retry-After and slows the rate.
    // The limiter hears one signal per 429 on the wire (even one the SDK then retries successfully) and
    // only halves; the sync never reacts to a 429 itself.
    graph,
    limiter,
    rateShare: graph?.pacing
      ? createRateShare({ rates: store.graphRates, pacing: graph.pacing, clock: () => Date.now() })
      : null,
    now: () => new Date(),
  };
}

let services: Promise<AppServices> | undefined;

let telemetryStarted = false;

/**
 * With an Application Insights connection string (Azure), events go to Application Insights with their
 * properties as customDimensions (src/telemetry.ts) instead of through the host's text log.
 */
async function startTelemetry(env: NodeJS.ProcessEnv): Promise<void> {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString || telemetryStarted) return;
  try {
    const { createAzureMonitorTelemetry, flushAfterInvocations } = await import('./telemetry.js');
    const telemetry = await createAzureMonitorTelemetry({
      connectionString,
      authenticationString: env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
    });
    exportEvents(telemetry.exporter);
    const { app } = await import('@azure/functions');
    flushAfterInvocations(
      (handler) => app.hook.postInvocation(handler),
      () => telemetry.flush(),
    );
    telemetryStarted = true;
  } catch (error) {
    // Syncing matters more than its telemetry: the events stay in the host's log (as text).
    console.error(`telemetry: events stay in the Functions log: ${errorMessage(error)}`);
  }
}

/** The process-wide services for the Functions host (config from app settings). */
export function getServices(): Promise<AppServices> {
  services ??= startTelemetry(process.env)
    .then(() => buildServices(loadConfig(process.env)))
    .catch((error: unknown) => {
      services = undefined; // a transient start-up failure (storage down) must not stick for the worker's life
      throw error;
    });
  return services;
}
