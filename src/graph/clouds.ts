// The Microsoft clouds the daemon can run in: each has its own Entra authority and Graph host, and an
// app token must be asked for with the scope of that cloud's own Graph host.
// https://learn.microsoft.com/graph/deployments
// No imports: src/config.ts reads this table to default GRAPH_AUTHORITY_HOST and GRAPH_BASE_URL.

export type GraphCloud = 'global' | 'usgov' | 'usgovdod' | 'china';

export interface GraphCloudEndpoints {
  /** What the cloud is, for messages. */
  label: string;
  /** Entra authority host (no tenant). */
  authorityHost: string;
  /** Graph root without version. */
  graphBaseUrl: string;
  /** Whether onlineMeetings create/update/delete are offered there (not in 21Vianet: https://learn.microsoft.com/graph/deployments). */
  onlineMeetingsWrite: boolean;
  /** Audience of a managed identity token used as a federated client assertion (Entra token exchange). */
  tokenExchangeAudience: string;
}

export const GRAPH_CLOUDS: Readonly<Record<GraphCloud, GraphCloudEndpoints>> = {
  global: {
    label: 'global',
    authorityHost: 'https://login.microsoftonline.com',
    graphBaseUrl: 'https://graph.microsoft.com',
    onlineMeetingsWrite: true,
    tokenExchangeAudience: 'api://AzureADTokenExchange',
  },
  /** US Government L4 (GCC High). */
  usgov: {
    label: 'US Government L4, GCC High',
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://graph.microsoft.us',
    onlineMeetingsWrite: true,
    tokenExchangeAudience: 'api://AzureADTokenExchangeUSGov',
  },
  /** US Government L5 (DoD). */
  usgovdod: {
    label: 'US Government L5, DoD',
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us',
    onlineMeetingsWrite: true,
    tokenExchangeAudience: 'api://AzureADTokenExchangeUSGov',
  },
  /** Operated by 21Vianet. */
  china: {
    label: 'China, 21Vianet',
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn',
    onlineMeetingsWrite: false,
    tokenExchangeAudience: 'api://AzureADTokenExchangeChina',
  },
};

export const GRAPH_CLOUD_NAMES = Object.keys(GRAPH_CLOUDS) as GraphCloud[];

/** Why a cloud cannot run this daemon; null when it can. */
export function cloudRefusal(cloud: GraphCloud): string | null {
  return GRAPH_CLOUDS[cloud].onlineMeetingsWrite
    ? null
    : 'the onlineMeetings create/update/delete APIs are not offered in the China (21Vianet) cloud';
}

/**
 * The client-credentials scope: the cloud's own Graph resource + `/.default` (the app's granted
 * application permissions). Not the Graph base URL: the local emulator is reached at 127.0.0.1 but
 * issues tokens for the cloud's resource.
 */
export function graphScope(cloud: GraphCloud): string {
  return `${GRAPH_CLOUDS[cloud].graphBaseUrl}/.default`;
}

/** Other authority host names of a cloud (the table holds the usual one). */
const AUTHORITY_ALIASES: Readonly<Record<string, GraphCloud>> = {
  'login.windows.net': 'global',
  'login.microsoft.com': 'global',
  'login.partner.microsoftonline.cn': 'china',
};

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** The cloud whose Microsoft Graph host `url` names; null for any other host (the local emulator). */
export function cloudOfGraphUrl(url: string): GraphCloud | null {
  const host = hostOf(url);
  return GRAPH_CLOUD_NAMES.find((cloud) => hostOf(GRAPH_CLOUDS[cloud].graphBaseUrl) === host) ?? null;
}

/**
 * The clouds whose Entra authority `url` is, in table order (login.microsoftonline.us serves both US
 * Government clouds: usgov first); empty for any other host.
 */
export function cloudsOfAuthorityHost(url: string): GraphCloud[] {
  const host = hostOf(url);
  if (host === null) return [];
  const alias = AUTHORITY_ALIASES[host];
  if (alias) return [alias];
  return GRAPH_CLOUD_NAMES.filter((cloud) => hostOf(GRAPH_CLOUDS[cloud].authorityHost) === host);
}

export type CloudSetting = 'GRAPH_CLOUD' | 'GRAPH_BASE_URL' | 'GRAPH_AUTHORITY_HOST';

export interface CloudResolution {
  cloud: GraphCloud;
  /** The setting the cloud was taken from; null when nothing named one (then global). */
  from: CloudSetting | null;
  /** Why the daemon cannot start with these settings, by setting; empty when it can. */
  problems: { setting: CloudSetting; message: string }[];
}

function cloudName(cloud: GraphCloud): string {
  return cloud === 'global' ? 'global' : `${cloud} (${GRAPH_CLOUDS[cloud].label})`;
}

/**
 * The cloud (and so the token scope) from the three settings. GRAPH_CLOUD when given; else the cloud of
 * GRAPH_BASE_URL when it is a Microsoft Graph host; else of GRAPH_AUTHORITY_HOST when it is an Entra
 * authority (login.microsoftonline.us: usgov, since that host does not tell L4 from L5); else global
 * (the local emulator's 127.0.0.1). A known host of another cloud than the one in force is a problem (the
 * tokens would be refused), and so is a cloud that cannot run this daemon (China).
 */
export function resolveGraphCloud(settings: {
  cloud?: GraphCloud | undefined;
  graphBaseUrl?: string | undefined;
  authorityHost?: string | undefined;
}): CloudResolution {
  const byGraph = settings.graphBaseUrl ? cloudOfGraphUrl(settings.graphBaseUrl) : null;
  const byAuthority = settings.authorityHost ? cloudsOfAuthorityHost(settings.authorityHost) : [];
  const [cloud, from]: [GraphCloud, CloudSetting | null] = settings.cloud
    ? [settings.cloud, 'GRAPH_CLOUD']
    : byGraph
      ? [byGraph, 'GRAPH_BASE_URL']
      : byAuthority[0]
        ? [byAuthority[0], 'GRAPH_AUTHORITY_HOST']
        : ['global', null];
  const problems: CloudResolution['problems'] = [];
  const says = (setting: CloudSetting): string =>
    setting === 'GRAPH_CLOUD'
      ? `GRAPH_CLOUD is ${cloud}`
      : setting === 'GRAPH_BASE_URL'
        ? `GRAPH_BASE_URL ${settings.graphBaseUrl} is the ${cloudName(cloud)} Graph`
        : `GRAPH_AUTHORITY_HOST ${settings.authorityHost} is the ${cloudName(cloud)} authority`;
  if (byGraph && byGraph !== cloud) {
    problems.push({
      setting: 'GRAPH_BASE_URL',
      message: `${settings.graphBaseUrl} is the Graph of the ${cloudName(byGraph)} cloud but ${says(from ?? 'GRAPH_CLOUD')} (token scope ${graphScope(cloud)}): tokens of one cloud are refused by the other; make GRAPH_CLOUD, GRAPH_BASE_URL and GRAPH_AUTHORITY_HOST name the same cloud`,
    });
  }
  if (byAuthority.length > 0 && !byAuthority.includes(cloud)) {
    problems.push({
      setting: 'GRAPH_AUTHORITY_HOST',
      message: `${settings.authorityHost} is the authority of the ${byAuthority.map(cloudName).join(' / ')} cloud but ${says(from ?? 'GRAPH_CLOUD')} (token scope ${graphScope(cloud)}): tokens of one cloud are refused by the other; make GRAPH_CLOUD, GRAPH_BASE_URL and GRAPH_AUTHORITY_HOST name the same cloud`,
    });
  }
  const refusal = cloudRefusal(cloud);
  if (refusal && from) {
    problems.unshift({
      setting: from,
      message:
        from === 'GRAPH_CLOUD'
          ? refusal
          : `${from === 'GRAPH_BASE_URL' ? settings.graphBaseUrl : settings.authorityHost} is in the China (21Vianet) cloud: ${refusal}`,
    });
  }
  return { cloud, from, problems };
}
