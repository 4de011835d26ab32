// One validated, typed configuration read from the environment (app settings in Azure,
// local.settings.json under `func start`, the shell for the CLI). Every problem is reported at once as
// `NAME: what is wrong`; secret values are never echoed.
//
// Each setting is written once, in `settingsSchema` below: its environment variable name, its rule,
// its default and `.describe()` (what it does). Everything else follows from that one entry: SETTINGS
// (name → description, for the README, infra/ and local.settings.sample.json checks), the defaults
// (SETTING_DEFAULTS), and the AppConfig types, which are `z.infer` of the schema's one `.transform`
// into the nested shape the code reads (`config.sync.horizonDays`, `config.policy.probeHours`, …).
// Adding a setting: one entry here (+ its use in `toAppConfig`), then the README row, Bicep and the
// sample that the tests ask for.
import { z } from 'zod';
import { AppError } from './errors.js';
import { DEFAULT_MONTHLY_MEETING_LIMIT } from './core/organizer.js';
import { DEFAULT_CREATION_GUARD_SETTINGS } from './core/creationGuard.js';
import { GRAPH_CLOUD_NAMES, GRAPH_CLOUDS, resolveGraphCloud, type GraphCloud } from './graph/clouds.js';

/** Thrown when settings are invalid; `problems` lists each as `NAME: what is wrong`. */
export class ConfigError extends AppError {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super('config', `invalid configuration:\n  ${problems.join('\n  ')}`, { isUserError: true });
  }
}

// Zod messages describe the rule, never the offending value, so secrets are not echoed.
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const intSetting = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min)
    .max(max)
    .default(fallback);
const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .transform((v) => v.replace(/\/+$/, ''));
const isoInstant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time such as 2026-09-01T08:00:00Z',
});

/** Every setting the code reads, keyed by environment variable name: rule, default, meaning. */
const settingsSchema = z.object({
  GRAPH_TENANT_ID: optionalText.describe('Entra tenant id (GUID or domain) of the app registration.'),
  GRAPH_CLIENT_ID: optionalText.describe('Application (client) id of the app registration.'),
  GRAPH_CLIENT_SECRET: optionalText.describe(
    'Client secret (prefer a certificate). Key Vault reference in Azure.',
  ),
  GRAPH_CERTIFICATE_PEM: optionalText.describe(
    'PEM with the private key (and certificate) of the app credential. Key Vault reference in Azure.',
  ),
  GRAPH_CERTIFICATE_THUMBPRINT_SHA256: z
    .string()
    .trim()
    .regex(/^([0-9a-fA-F]{64})?$/, 'must be 64 hex characters (the SHA-256 thumbprint)')
    .optional()
    .describe('SHA-256 thumbprint (hex) of that certificate.'),
  GRAPH_CLIENT_ASSERTION_FILE: optionalText.describe(
    'File holding a federated client assertion (workload identity), re-read on each token request.',
  ),
  GRAPH_FEDERATED_IDENTITY_CLIENT_ID: optionalText.describe(
    'Client id of the user-assigned managed identity the app registration trusts as a federated credential: its token is the client assertion (no secret or certificate to store or rotate). Azure only.',
  ),
  GRAPH_CLOUD: optionalText
    .pipe(z.enum(GRAPH_CLOUD_NAMES, { error: `must be one of ${GRAPH_CLOUD_NAMES.join(', ')}` }).optional())
    .describe(
      "Microsoft cloud: 'global', 'usgov' (US Government L4), 'usgovdod' (L5/DoD); its Graph host is the token scope and it defaults the two hosts below. Unset = the cloud of GRAPH_BASE_URL, else of GRAPH_AUTHORITY_HOST, else global; a host of another cloud is refused.",
    ),
  GRAPH_AUTHORITY_HOST: optionalText
    .pipe(httpsUrl.optional())
    .describe("Entra authority host; unset = GRAPH_CLOUD's (https://login.microsoftonline.com for global)."),
  GRAPH_BASE_URL: optionalText
    .pipe(httpsUrl.optional())
    .describe("Microsoft Graph base URL; unset = GRAPH_CLOUD's (https://graph.microsoft.com for global)."),
  GRAPH_CA_CERT_FILE: optionalText.describe(
    'Extra CA certificate (PEM file) to trust for Graph and the authority: only for the local Graph emulator.',
  ),
  AzureWebJobsStorage: optionalText.describe(
    'Storage connection string (Azurite locally). In Azure use AzureWebJobsStorage__accountName with a managed identity.',
  ),
  AzureWebJobsStorage__accountName: optionalText.describe(
    'Storage account name, used with the managed identity instead of a connection string.',
  ),
  AzureWebJobsStorage__clientId: optionalText.describe(
    'Client id of the user-assigned managed identity used for Storage.',
  ),
  SYNC_SCHEDULE: z
    .string()
    .trim()
    .min(1)
    .default('0 */15 * * * *')
    .describe('NCRONTAB schedule of the fan-out timer.'),
  HORIZON_DAYS: intSetting(120, 1, 400).describe('How many days ahead sessions get meetings.'),
  DEFAULT_TIME_ZONE: optionalText.describe(
    'IANA or Windows zone for feeds with floating times and no feed time zone (without it such sessions are skipped with a reason).',
  ),
  POLICY_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only')
    .default('TimetableSync-OnlineMeetings')
    .describe('Name of the Teams application access policy holding this app id.'),
  POLICY_PROPAGATION_MINUTES: intSetting(60, 1, 7 * 24 * 60).describe(
    'How long after a recorded grant a policy 403 is treated as propagation, not as missing.',
  ),
  POLICY_PROBE_HOURS: intSetting(6, 1, 24 * 14).describe(
    'How often an organizer without a policy is tried again.',
  ),
  POLICY_GLOBAL_GRANTED_AT: isoInstant
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe('ISO time of a tenant-wide Grant-CsApplicationAccessPolicy -Global, if one was run.'),
  MAX_CANCEL_SHARE: z.coerce
    .number({ error: 'must be a number' })
    .min(0)
    .max(1)
    .default(0.2)
    .describe("Share of a feed's future meetings one run may cancel before the deletion guard holds them."),
  GUARD_MIN_CANCELS: intSetting(3, 1, 100_000).describe(
    'Fewer cancellations than this never trip the share rule.',
  ),
  MAX_CREATE_GROWTH: z.coerce
    .number({ error: 'must be a number' })
    .min(0)
    .max(1000)
    .default(DEFAULT_CREATION_GUARD_SETTINGS.maxCreateGrowth)
    .describe(
      "New meetings one run may add, as a multiple of the feed's future meetings (1 = it may double), before the creation guard holds them all; a feed without future meetings (its first sync) is judged by the event and lecturer rules only.",
    ),
  GUARD_MIN_CREATES: intSetting(DEFAULT_CREATION_GUARD_SETTINGS.guardMinCreates, 1, 1_000_000).describe(
    "Fewer new meetings than this never trip the creation guard's growth rule, nor its lecturer rule.",
  ),
  GUARD_MAX_EVENT_SESSIONS: intSetting(
    DEFAULT_CREATION_GUARD_SETTINGS.maxEventSessions,
    1,
    1_000_000,
  ).describe(
    "New meetings one event (UID) may add in one run before the creation guard holds that event's sessions (a daily event over the 400-day maximum horizon is 400).",
  ),
  CANCEL_MODE: z
    .enum(['delete', 'lock'])
    .default('delete')
    .describe(
      "'delete' deletes a cancelled session's meeting; 'lock' keeps it, lobby locked, subject prefixed.",
    ),
  PER_ORGANIZER_CONCURRENCY: intSetting(4, 1, 16).describe('Graph requests in flight per organizer at most.'),
  MAX_CONCURRENCY: intSetting(16, 1, 256).describe(
    'Graph requests in flight per instance at most; halves on 429 and grows back.',
  ),
  RUN_BUDGET_SECONDS: intSetting(480, 10, 3600).describe(
    'Time budget of one feed sync; the rest resumes next run.',
  ),
  ORGANIZER_CACHE_HOURS: intSetting(24, 0, 24 * 30).describe(
    'How long a resolved organizer (e-mail to object id) is cached.',
  ),
  ORGANIZER_MONTHLY_LIMIT: intSetting(DEFAULT_MONTHLY_MEETING_LIMIT, 1, 100_000).describe(
    "Meetings the sync creates per lecturer per calendar month (UTC) at most: Graph's limit is 2,000 per user; the nearest sessions go first, the rest wait for the next month.",
  ),
  MAX_FEED_BYTES: intSetting(10 * 1024 * 1024, 1024, 200 * 1024 * 1024).describe(
    'Largest accepted feed body.',
  ),
  ALLOW_HTTP_FEEDS: z
    .enum(['true', 'false', ''])
    .default('false')
    .describe("Allow http:// feed URLs ('true' only for development)."),
  MEETING_LOBBY_BYPASS: z
    .enum(['organizer', 'organization', 'organizationAndFederated', 'everyone'])
    .default('organization')
    .describe("Who skips the lobby: 'organizer', 'organization', 'organizationAndFederated', 'everyone'."),
  MEETING_ALLOWED_PRESENTERS: z
    .enum(['organizer', 'organization', 'everyone'])
    .default('organizer')
    .describe("Who may present: 'organizer', 'organization', 'everyone'."),
  ADMIN_ROLE: z
    .string()
    .trim()
    .min(1)
    .default('TimetableSync.Admin')
    .describe('Entra app role required on admin routes when App Service Authentication is on.'),
  ATTENDANCE_SCHEDULE: z
    .string()
    .trim()
    .min(1)
    .default('0 7-59/15 * * * *')
    .describe('NCRONTAB schedule of the attendance timer (one message per feed with attendance on).'),
  ATTENDANCE_DELAY_MINUTES: intSetting(15, 0, 24 * 60).describe(
    "Minutes after a session's end before its attendance report is first asked for (Graph makes it some time after the meeting ends).",
  ),
  ATTENDANCE_WINDOW_HOURS: intSetting(48, 1, 30 * 24).describe(
    'Hours after a session ends that a missing attendance report is waited for; then the session is reported as never held (or no one joined).',
  ),
  ATTENDANCE_RETENTION_DAYS: intSetting(365, 1, 3650).describe(
    'Days after a session ends that its attendance records are kept; the collector deletes older ones.',
  ),
  PUBLIC_BASE_URL: httpsUrl
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe('Public https base URL of the function app, used in links to published calendars.'),
});

export type SettingName = keyof typeof settingsSchema.shape;
type Settings = z.infer<typeof settingsSchema>;
type Problem = (name: SettingName, message: string) => void;

const SETTING_NAMES = Object.keys(settingsSchema.shape) as SettingName[];

/** Every setting the code reads, with its meaning (the schema's `.describe()`). */
export const SETTINGS: Readonly<Record<SettingName, string>> = Object.fromEntries(
  SETTING_NAMES.map((name) => {
    const description = settingsSchema.shape[name].description;
    if (!description) throw new Error(`src/config.ts: setting ${name} has no .describe()`);
    return [name, description];
  }),
) as Record<SettingName, string>;

/**
 * Settings whose unset value is worked out from others in `toAppConfig`: the value they take when those
 * others are unset too.
 */
const INFERRED_DEFAULTS: Partial<Record<SettingName, string>> = { GRAPH_CLOUD: 'global' };

/** The value each setting takes when unset, as an app-setting string; undefined when it has none. */
export const SETTING_DEFAULTS: Readonly<Record<SettingName, string | undefined>> = Object.fromEntries(
  SETTING_NAMES.map((name) => {
    const value: string | number | undefined = settingsSchema.shape[name].parse(undefined);
    return [name, value === undefined ? INFERRED_DEFAULTS[name] : String(value)];
  }),
) as Record<SettingName, string | undefined>;

function graphFrom(s: Settings, problem: Problem) {
  // The token scope follows the cloud: GRAPH_CLOUD, else the cloud of a Microsoft Graph / Entra host given
  // in GRAPH_BASE_URL / GRAPH_AUTHORITY_HOST (a US Government deployment that sets only the hosts), else
  // global. China and hosts of another cloud than GRAPH_CLOUD are refused here, at start.
  const resolved = resolveGraphCloud({
    cloud: s.GRAPH_CLOUD,
    graphBaseUrl: s.GRAPH_BASE_URL,
    authorityHost: s.GRAPH_AUTHORITY_HOST,
  });
  for (const { setting, message } of resolved.problems) problem(setting, message);
  const refusal = resolved.problems.length > 0;
  const credentials = [
    s.GRAPH_CLIENT_SECRET,
    s.GRAPH_CERTIFICATE_PEM,
    s.GRAPH_CLIENT_ASSERTION_FILE,
    s.GRAPH_FEDERATED_IDENTITY_CLIENT_ID,
  ].filter(Boolean);
  const anyGraph = s.GRAPH_TENANT_ID || s.GRAPH_CLIENT_ID || credentials.length > 0;
  if (!anyGraph) return null;
  if (!s.GRAPH_TENANT_ID) problem('GRAPH_TENANT_ID', 'required when any GRAPH_ setting is given');
  if (!s.GRAPH_CLIENT_ID) problem('GRAPH_CLIENT_ID', 'required when any GRAPH_ setting is given');
  if (credentials.length !== 1) {
    problem(
      'GRAPH_CLIENT_SECRET',
      'give exactly one credential: GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PEM (+ GRAPH_CERTIFICATE_THUMBPRINT_SHA256), GRAPH_CLIENT_ASSERTION_FILE or GRAPH_FEDERATED_IDENTITY_CLIENT_ID',
    );
  }
  if (s.GRAPH_CERTIFICATE_PEM && !s.GRAPH_CERTIFICATE_THUMBPRINT_SHA256) {
    problem('GRAPH_CERTIFICATE_THUMBPRINT_SHA256', 'required with GRAPH_CERTIFICATE_PEM');
  }
  if (s.GRAPH_CERTIFICATE_PEM && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s.GRAPH_CERTIFICATE_PEM)) {
    problem('GRAPH_CERTIFICATE_PEM', 'must contain a PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
  if (!s.GRAPH_TENANT_ID || !s.GRAPH_CLIENT_ID || credentials.length !== 1 || refusal) return null;
  const credential = s.GRAPH_CLIENT_SECRET
    ? { kind: 'secret' as const, secret: s.GRAPH_CLIENT_SECRET }
    : s.GRAPH_CERTIFICATE_PEM
      ? {
          kind: 'certificate' as const,
          privateKeyPem: s.GRAPH_CERTIFICATE_PEM,
          thumbprintSha256: s.GRAPH_CERTIFICATE_THUMBPRINT_SHA256 ?? '',
        }
      : s.GRAPH_FEDERATED_IDENTITY_CLIENT_ID
        ? { kind: 'managedIdentity' as const, clientId: s.GRAPH_FEDERATED_IDENTITY_CLIENT_ID }
        : { kind: 'assertionFile' as const, path: s.GRAPH_CLIENT_ASSERTION_FILE ?? '' };
  // Typed optional (absent = global) so that a GraphConfig written by hand stays valid; always set here.
  const cloud: { cloud?: GraphCloud } = { cloud: resolved.cloud };
  return {
    tenantId: s.GRAPH_TENANT_ID,
    clientId: s.GRAPH_CLIENT_ID,
    credential,
    ...cloud,
    // Explicit hosts win (the local emulator sets both to 127.0.0.1; GRAPH_CLOUD still names the scope).
    authorityHost: s.GRAPH_AUTHORITY_HOST ?? GRAPH_CLOUDS[resolved.cloud].authorityHost,
    graphBaseUrl: s.GRAPH_BASE_URL ?? GRAPH_CLOUDS[resolved.cloud].graphBaseUrl,
    caCertFile: s.GRAPH_CA_CERT_FILE ?? null,
  };
}

function storageFrom(s: Settings) {
  if (s.AzureWebJobsStorage)
    return { kind: 'connectionString' as const, connectionString: s.AzureWebJobsStorage };
  if (s.AzureWebJobsStorage__accountName) {
    return {
      kind: 'managedIdentity' as const,
      accountName: s.AzureWebJobsStorage__accountName,
      clientId: s.AzureWebJobsStorage__clientId ?? null,
    };
  }
  return null;
}

/** The nested shape the code reads, from the validated settings (cross-setting rules report here). */
function toAppConfig(s: Settings, problem: Problem) {
  return {
    /** null when no Graph settings are given at all (the CLI then offers the local demo). */
    graph: graphFrom(s, problem),
    storage: storageFrom(s),
    sync: {
      schedule: s.SYNC_SCHEDULE,
      horizonDays: s.HORIZON_DAYS,
      defaultTimeZone: s.DEFAULT_TIME_ZONE ?? null,
      maxCancelShare: s.MAX_CANCEL_SHARE,
      guardMinCancels: s.GUARD_MIN_CANCELS,
      maxCreateGrowth: s.MAX_CREATE_GROWTH,
      guardMinCreates: s.GUARD_MIN_CREATES,
      maxEventSessions: s.GUARD_MAX_EVENT_SESSIONS,
      cancelMode: s.CANCEL_MODE,
      perOrganizerConcurrency: s.PER_ORGANIZER_CONCURRENCY,
      maxConcurrency: s.MAX_CONCURRENCY,
      runBudgetSeconds: s.RUN_BUDGET_SECONDS,
      organizerCacheHours: s.ORGANIZER_CACHE_HOURS,
      organizerMonthlyLimit: s.ORGANIZER_MONTHLY_LIMIT,
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
    attendance: {
      schedule: s.ATTENDANCE_SCHEDULE,
      delayMinutes: s.ATTENDANCE_DELAY_MINUTES,
      windowHours: s.ATTENDANCE_WINDOW_HOURS,
      retentionDays: s.ATTENDANCE_RETENTION_DAYS,
    },
    adminRole: s.ADMIN_ROLE,
    publicBaseUrl: s.PUBLIC_BASE_URL ?? null,
  };
}

/** Settings → AppConfig. The transform runs only when every setting passed its own rule. */
const configSchema = settingsSchema.transform((s, ctx) =>
  toAppConfig(s, (name, message) => ctx.addIssue({ code: 'custom', path: [name], message })),
);

export type AppConfig = z.infer<typeof configSchema>;
export type GraphConfig = NonNullable<AppConfig['graph']>;
export type GraphCredentialConfig = GraphConfig['credential'];
export type StorageConfig = NonNullable<AppConfig['storage']>;
export type SyncConfig = AppConfig['sync'];
export type CancelMode = SyncConfig['cancelMode'];
export type PolicyConfig = AppConfig['policy'];
export type MeetingConfig = AppConfig['meeting'];

/** Pure: validates `env` and returns the typed configuration, or throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const known = Object.fromEntries(SETTING_NAMES.map((name) => [name, env[name]]));
  const parsed = configSchema.safeParse(known);
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  return parsed.data;
}
