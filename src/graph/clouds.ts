// The Microsoft clouds the daemon can run in: each has its own Entra authority and Graph host, and an
// app token must be asked for with the scope of that cloud's own Graph host.
// https://learn.microsoft.com/graph/deployments
// No imports: src/config.ts reads this table to default GRAPH_AUTHORITY_HOST and GRAPH_BASE_URL.

export type GraphCloud = 'global' | 'usgov' | 'usgovdod' | 'china';

export interface GraphCloudEndpoints {
  /** Entra authority host (no tenant). */
  authorityHost: string;
  /** Graph root without version. */
  graphBaseUrl: string;
  /** Whether onlineMeetings create/update/delete are offered there (graph-facts.md: not in 21Vianet). */
  onlineMeetingsWrite: boolean;
}

export const GRAPH_CLOUDS: Readonly<Record<GraphCloud, GraphCloudEndpoints>> = {
  global: {
    authorityHost: 'https://login.microsoftonline.com',
    graphBaseUrl: 'https://graph.microsoft.com',
    onlineMeetingsWrite: true,
  },
  /** US Government L4 (GCC High). */
  usgov: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://graph.microsoft.us',
    onlineMeetingsWrite: true,
  },
  /** US Government L5 (DoD). */
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us',
    onlineMeetingsWrite: true,
  },
  /** Operated by 21Vianet. */
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn',
    onlineMeetingsWrite: false,
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
