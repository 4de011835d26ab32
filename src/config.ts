// One validated, typed configuration read from the environment (app settings in Azure,
// local.settings.json under `func start`, the shell for the CLI). Every problem is reported at once as
// `NAME: what is wrong`; secret values are never echoed.
import { z } from 'zod';
import { AppError } from './errors.js';

/** Every setting the code reads, with its meaning; README's configuration table and infra follow it. */
export const SETTINGS = {
  GRAPH_TENANT_ID: 'Entra tenant id (GUID or domain) of the app registration.',
  GRAPH_CLIENT_ID: 'Application (client) id of the app registration.',
  GRAPH_CLIENT_SECRET: 'Client secret (prefer a certificate). Key Vault reference in Azure.',
  GRAPH_CERTIFICATE_PEM: 'PEM with the private key (and certificate) of the app credential. Key Vault reference in Azure.',
  GRAPH_CERTIFICATE_THUMBPRINT_SHA256: 'SHA-256 thumbprint (hex) of that certificate.',
  GRAPH_CLIENT_ASSERTION_FILE: 'File holding a federated client assertion (workload identity), re-read on each token request.',
  GRAPH_AUTHORITY_HOST: 'Entra authority host (default https://login.microsoftonline.com).',
  GRAPH_BASE_URL: 'Microsoft Graph base URL (default https://graph.microsoft.com).',
  GRAPH_CA_CERT_FILE: 'Extra CA certificate (PEM file) to trust for Graph and the authority: only for the local Graph emulator.',
  AzureWebJobsStorage: 'Storage connection string (Azurite locally). In Azure use AzureWebJobsStorage__accountName with a managed identity.',
  AzureWebJobsStorage__accountName: 'Storage account name, used with the managed identity instead of a connection string.',
  AzureWebJobsStorage__clientId: 'Client id of the user-assigned managed identity used for Storage.',
  SYNC_SCHEDULE: 'NCRONTAB schedule of the fan-out timer (default every 15 minutes).',
  HORIZON_DAYS: 'How many days ahead sessions get meetings (default 120).',
  DEFAULT_TIME_ZONE: 'IANA or Windows zone for feeds with floating times and no feed time zone (default: none; such sessions are skipped with a reason).',
  POLICY_NAME: 'Name of the Teams application access policy holding this app id (default TimetableSync-OnlineMeetings).',
  POLICY_PROPAGATION_MINUTES: 'How long after a recorded grant a policy 403 is treated as propagation, not as missing (default 60).',
  POLICY_PROBE_HOURS: 'How often an organizer without a policy is tried again (default 6).',
  POLICY_GLOBAL_GRANTED_AT: 'ISO time of a tenant-wide Grant-CsApplicationAccessPolicy -Global, if one was run.',
  MAX_CANCEL_SHARE: "Share of a feed's future meetings one run may cancel before the deletion guard holds them (default 0.2).",
  GUARD_MIN_CANCELS: 'Fewer cancellations than this never trip the share rule (default 3).',
  CANCEL_MODE: "'delete' (default) deletes a cancelled session's meeting; 'lock' keeps it, lobby locked, subject prefixed.",
  PER_ORGANIZER_CONCURRENCY: 'Graph requests in flight per organizer at most (default 4).',
  MAX_CONCURRENCY: 'Graph requests in flight per instance at most; halves on 429 and grows back (default 16).',
  RUN_BUDGET_SECONDS: 'Time budget of one feed sync; the rest resumes next run (default 480).',
  ORGANIZER_CACHE_HOURS: 'How long a resolved organizer (e-mail to object id) is cached (default 24).',
  MAX_FEED_BYTES: 'Largest accepted feed body (default 10485760).',
  ALLOW_HTTP_FEEDS: "Allow http:// feed URLs ('true' only for development; default false).",
  MEETING_LOBBY_BYPASS: "Who skips the lobby: 'organizer', 'organization' (default), 'organizationAndFederated', 'everyone'.",
  MEETING_ALLOWED_PRESENTERS: "Who may present: 'organizer' (default), 'organization', 'everyone'.",
  ADMIN_ROLE: 'Entra app role required on admin routes when App Service Authentication is on (default TimetableSync.Admin).',
  PUBLIC_BASE_URL: 'Public https base URL of the function app, used in links to published calendars.',
} as const;

export type SettingName = keyof typeof SETTINGS;

export type GraphCredentialConfig =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; privateKeyPem: string; thumbprintSha256: string }
  | { kind: 'assertionFile'; path: string };

export interface GraphConfig {
  tenantId: string;
  clientId: string;
  credential: GraphCredentialConfig;
  authorityHost: string;
  graphBaseUrl: string;
  caCertFile: string | null;
}

export type StorageConfig =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'managedIdentity'; accountName: string; clientId: string | null };

export type CancelMode = 'delete' | 'lock';

export interface SyncConfig {
  schedule: string;
  horizonDays: number;
  defaultTimeZone: string | null;
  maxCancelShare: number;
  guardMinCancels: number;
  cancelMode: CancelMode;
  perOrganizerConcurrency: number;
  maxConcurrency: number;
  runBudgetSeconds: number;
  organizerCacheHours: number;
  maxFeedBytes: number;
  allowHttpFeeds: boolean;
}

export interface PolicyConfig {
  policyName: string;
  propagationMinutes: number;
  probeHours: number;
  globalGrantedAt: string | null;
}

export interface MeetingConfig {
  lobbyBypass: 'organizer' | 'organization' | 'organizationAndFederated' | 'everyone';
  allowedPresenters: 'organizer' | 'organization' | 'everyone';
}

export interface AppConfig {
  /** null when no Graph settings are given at all (the CLI then offers the local demo). */
  graph: GraphConfig | null;
  storage: StorageConfig | null;
  sync: SyncConfig;
  policy: PolicyConfig;
  meeting: MeetingConfig;
  adminRole: string;
  publicBaseUrl: string | null;
}

/** Thrown when settings are invalid; `problems` lists each as `NAME: what is wrong`. */
export class ConfigError extends AppError {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super('config', `invalid configuration:\n  ${problems.join('\n  ')}`, { isUserError: true });
  }
}

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const intSetting = (fallback: number, min: number, max: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min).max(max).default(fallback);
const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .transform((v) => v.replace(/\/+$/, ''));
const isoInstant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-09-01T08:00:00Z' });

const schema = z.object({
  GRAPH_TENANT_ID: optionalText,
  GRAPH_CLIENT_ID: optionalText,
  GRAPH_CLIENT_SECRET: optionalText,
  GRAPH_CERTIFICATE_PEM: optionalText,
  GRAPH_CERTIFICATE_THUMBPRINT_SHA256: z
    .string()
    .trim()
    .regex(/^([0-9a-fA-F]{64})?$/, 'must be 64 hex characters (the SHA-256 thumbprint)')
    .optional(),
  GRAPH_CLIENT_ASSERTION_FILE: optionalText,
  GRAPH_AUTHORITY_HOST: httpsUrl.default('https://login.microsoftonline.com'),
  GRAPH_BASE_URL: httpsUrl.default('https://graph.microsoft.com'),
  GRAPH_CA_CERT_FILE: optionalText,
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__accountName: optionalText,
  AzureWebJobsStorage__clientId: optionalText,
  SYNC_SCHEDULE: z.string().trim().min(1).default('0 */15 * * * *'),
  HORIZON_DAYS: intSetting(120, 1, 400),
  DEFAULT_TIME_ZONE: optionalText,
  POLICY_NAME: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only').default('TimetableSync-OnlineMeetings'),
  POLICY_PROPAGATION_MINUTES: intSetting(60, 1, 7 * 24 * 60),
  POLICY_PROBE_HOURS: intSetting(6, 1, 24 * 14),
  POLICY_GLOBAL_GRANTED_AT: isoInstant.optional().or(z.literal('').transform(() => undefined)),
  MAX_CANCEL_SHARE: z.coerce.number({ error: 'must be a number' }).min(0).max(1).default(0.2),
  GUARD_MIN_CANCELS: intSetting(3, 1, 100_000),
  CANCEL_MODE: z.enum(['delete', 'lock']).default('delete'),
  PER_ORGANIZER_CONCURRENCY: intSetting(4, 1, 16),
  MAX_CONCURRENCY: intSetting(16, 1, 256),
  RUN_BUDGET_SECONDS: intSetting(480, 10, 3600),
  ORGANIZER_CACHE_HOURS: intSetting(24, 0, 24 * 30),
  MAX_FEED_BYTES: intSetting(10 * 1024 * 1024, 1024, 200 * 1024 * 1024),
  ALLOW_HTTP_FEEDS: z.enum(['true', 'false', '']).default('false'),
  MEETING_LOBBY_BYPASS: z.enum(['organizer', 'organization', 'organizationAndFederated', 'everyone']).default('organization'),
  MEETING_ALLOWED_PRESENTERS: z.enum(['organizer', 'organization', 'everyone']).default('organizer'),
  ADMIN_ROLE: z.string().trim().min(1).default('TimetableSync.Admin'),
  PUBLIC_BASE_URL: httpsUrl.optional().or(z.literal('').transform(() => undefined)),
});

type ParsedSettings = z.infer<typeof schema>;

function graphFrom(s: ParsedSettings, problems: string[]): GraphConfig | null {
  const credentials = [s.GRAPH_CLIENT_SECRET, s.GRAPH_CERTIFICATE_PEM, s.GRAPH_CLIENT_ASSERTION_FILE].filter(Boolean);
  const anyGraph = s.GRAPH_TENANT_ID || s.GRAPH_CLIENT_ID || credentials.length > 0;
  if (!anyGraph) return null;
  if (!s.GRAPH_TENANT_ID) problems.push('GRAPH_TENANT_ID: required when any GRAPH_ setting is given');
  if (!s.GRAPH_CLIENT_ID) problems.push('GRAPH_CLIENT_ID: required when any GRAPH_ setting is given');
  if (credentials.length !== 1) {
    problems.push(
      'GRAPH_CLIENT_SECRET: give exactly one credential: GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PEM (+ GRAPH_CERTIFICATE_THUMBPRINT_SHA256) or GRAPH_CLIENT_ASSERTION_FILE',
    );
  }
  if (s.GRAPH_CERTIFICATE_PEM && !s.GRAPH_CERTIFICATE_THUMBPRINT_SHA256) {
    problems.push('GRAPH_CERTIFICATE_THUMBPRINT_SHA256: required with GRAPH_CERTIFICATE_PEM');
  }
  if (s.GRAPH_CERTIFICATE_PEM && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s.GRAPH_CERTIFICATE_PEM)) {
    problems.push('GRAPH_CERTIFICATE_PEM: must contain a PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
  if (!s.GRAPH_TENANT_ID || !s.GRAPH_CLIENT_ID || credentials.length !== 1) return null;
  const credential: GraphCredentialConfig = s.GRAPH_CLIENT_SECRET
    ? { kind: 'secret', secret: s.GRAPH_CLIENT_SECRET }
    : s.GRAPH_CERTIFICATE_PEM
      ? { kind: 'certificate', privateKeyPem: s.GRAPH_CERTIFICATE_PEM, thumbprintSha256: s.GRAPH_CERTIFICATE_THUMBPRINT_SHA256 ?? '' }
      : { kind: 'assertionFile', path: s.GRAPH_CLIENT_ASSERTION_FILE ?? '' };
  return {
    tenantId: s.GRAPH_TENANT_ID,
    clientId: s.GRAPH_CLIENT_ID,
    credential,
    authorityHost: s.GRAPH_AUTHORITY_HOST,
    graphBaseUrl: s.GRAPH_BASE_URL,
    caCertFile: s.GRAPH_CA_CERT_FILE ?? null,
  };
}

function storageFrom(s: ParsedSettings): StorageConfig | null {
  if (s.AzureWebJobsStorage) return { kind: 'connectionString', connectionString: s.AzureWebJobsStorage };
  if (s.AzureWebJobsStorage__accountName) {
    return { kind: 'managedIdentity', accountName: s.AzureWebJobsStorage__accountName, clientId: s.AzureWebJobsStorage__clientId ?? null };
  }
  return null;
}

/** Pure: validates `env` and returns the typed configuration, or throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const known = Object.fromEntries(Object.keys(SETTINGS).map((name) => [name, env[name]]));
  const parsed = schema.safeParse(known);
  // Zod messages describe the rule, never the offending value, so secrets are not echoed.
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!parsed.success) throw new ConfigError(problems);
  const s = parsed.data;
  const graph = graphFrom(s, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    graph,
    storage: storageFrom(s),
    sync: {
      schedule: s.SYNC_SCHEDULE,
      horizonDays: s.HORIZON_DAYS,
      defaultTimeZone: s.DEFAULT_TIME_ZONE ?? null,
      maxCancelShare: s.MAX_CANCEL_SHARE,
      guardMinCancels: s.GUARD_MIN_CANCELS,
      cancelMode: s.CANCEL_MODE,
      perOrganizerConcurrency: s.PER_ORGANIZER_CONCURRENCY,
      maxConcurrency: s.MAX_CONCURRENCY,
      runBudgetSeconds: s.RUN_BUDGET_SECONDS,
      organizerCacheHours: s.ORGANIZER_CACHE_HOURS,
      maxFeedBytes: s.MAX_FEED_BYTES,
      allowHttpFeeds: s.ALLOW_HTTP_FEEDS === 'true',
    },
    policy: {
      policyName: s.POLICY_NAME,
      propagationMinutes: s.POLICY_PROPAGATION_MINUTES,
      probeHours: s.POLICY_PROBE_HOURS,
      globalGrantedAt: s.POLICY_GLOBAL_GRANTED_AT ? new Date(s.POLICY_GLOBAL_GRANTED_AT).toISOString() : null,
    },
    meeting: { lobbyBypass: s.MEETING_LOBBY_BYPASS, allowedPresenters: s.MEETING_ALLOWED_PRESENTERS },
    adminRole: s.ADMIN_ROLE,
    publicBaseUrl: s.PUBLIC_BASE_URL ?? null,
  };
}
