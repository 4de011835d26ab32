// App-only access tokens for Microsoft Graph (client credentials) via msal-node.
// Build one provider per process: the ConfidentialClientApplication keeps the token in its in-memory
// cache and acquireTokenByClientCredential returns it until shortly before it expires.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
import {
  ConfidentialClientApplication,
  LogLevel,
  type Configuration,
  type INetworkModule,
} from '@azure/msal-node';
import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { GraphError, classifyGraphError, redactSecrets } from './errors.js';
import type { GraphSettings, ResolvedGraphSettings } from './client.js';
import { graphScope } from './clouds.js';

/** Environment names of the Graph settings, used to tell ops exactly what to check. */
export const GRAPH_SETTING_NAMES = {
  tenantId: 'GRAPH_TENANT_ID',
  clientId: 'GRAPH_CLIENT_ID',
  secret: 'GRAPH_CLIENT_SECRET',
  certificate: 'GRAPH_CERTIFICATE_PEM and GRAPH_CERTIFICATE_THUMBPRINT_SHA256',
  assertion: 'GRAPH_CLIENT_ASSERTION_FILE (the federated credential of the app registration)',
  authorityHost: 'GRAPH_AUTHORITY_HOST',
  baseUrl: 'GRAPH_BASE_URL',
  caCertFile: 'GRAPH_CA_CERT_FILE',
  cloud: 'GRAPH_CLOUD',
} as const;

/** Resource-default scope of the global cloud: the app's granted application permissions (roles) on
 * Graph. Other clouds use their own Graph host (clouds.ts graphScope; GraphSettings.cloud); the
 * emulator is asked for the cloud's scope too, whatever host it is reached at. */
export const GRAPH_SCOPE = graphScope('global');

const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

export interface TokenProvider extends AuthenticationProvider {
  /** A valid access token (from MSAL's cache when possible). Throws a classified GraphError. */
  getAccessToken(): Promise<string>;
}

export interface TokenProviderOptions {
  /** msal-node network module, e.g. one that trusts the emulator's CA. */
  networkClient?: INetworkModule;
}

function credentialSetting(settings: GraphSettings): string {
  return GRAPH_SETTING_NAMES[settings.credential.kind];
}

/** Which setting an Entra AADSTS error points at. Codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes */
function settingToCheck(settings: GraphSettings, text: string): string {
  const cred = credentialSetting(settings);
  if (/AADSTS7000215|AADSTS7000222|AADSTS7000216/.test(text))
    return `${cred} (the secret's value, not its id; it may have expired)`;
  if (/AADSTS700027|AADSTS700024|AADSTS700023|AADSTS50012/.test(text))
    return `${cred} (certificate/assertion not registered for the app, or signed with the wrong key)`;
  if (/AADSTS700016/.test(text))
    return `${GRAPH_SETTING_NAMES.clientId} and ${GRAPH_SETTING_NAMES.tenantId} (no such app in this tenant)`;
  if (/AADSTS90002|AADSTS900023/.test(text)) return GRAPH_SETTING_NAMES.tenantId;
  // MSAL could not read the authority's metadata: unreachable host, wrong tenant, or an untrusted
  // TLS certificate (the emulator's CA not configured).
  if (/endpoints_resolution_error|untrusted_authority|invalid_authority/.test(text)) {
    return `${GRAPH_SETTING_NAMES.authorityHost} (reachable over https with a trusted certificate; ${GRAPH_SETTING_NAMES.caCertFile} for the emulator) and ${GRAPH_SETTING_NAMES.tenantId}`;
  }
  // The token endpoint does not know the scope's resource: a Graph host of another cloud.
  if (/AADSTS500011|AADSTS70011|invalid_scope|invalid_resource/.test(text))
    return `${GRAPH_SETTING_NAMES.cloud} (the scope ${graphScope(settings.cloud ?? 'global')} must be the Graph of the authority's cloud) and ${GRAPH_SETTING_NAMES.authorityHost}`;
  return `${GRAPH_SETTING_NAMES.clientId}, ${GRAPH_SETTING_NAMES.tenantId} and ${cred}`;
}

export function createTokenProvider(
  settings: ResolvedGraphSettings,
  options: TokenProviderOptions = {},
): TokenProvider {
  const authorityUrl = new URL(settings.authorityHost);
  const authority = `${authorityUrl.origin}/${settings.tenantId}`;
  const secrets: string[] = settings.credential.kind === 'secret' ? [settings.credential.secret] : [];
  const auth: Configuration['auth'] = { clientId: settings.clientId, authority };
  // A non-Microsoft authority host (the emulator) must be declared as known, otherwise MSAL asks
  // login.microsoftonline.com to validate it (instance discovery). MSAL then reads the emulator's
  // /{tenant}/v2.0/.well-known/openid-configuration over https.
  if (!MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname)) auth.knownAuthorities = [authorityUrl.host];
  const credential = settings.credential;
  switch (credential.kind) {
    case 'secret':
      auth.clientSecret = credential.secret;
      break;
    case 'certificate':
      auth.clientCertificate = {
        thumbprintSha256: credential.thumbprintSha256,
        privateKey: credential.privateKeyPem,
      };
      break;
    case 'assertion':
      // Managed identity as a federated credential: the callback returns a fresh MI token each time
      // MSAL needs a new app token. https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
      auth.clientAssertion = () => credential.getAssertion();
      break;
  }
  const app = new ConfidentialClientApplication({
    auth,
    system: {
      ...(options.networkClient ? { networkClient: options.networkClient } : {}),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Error,
        // MSAL's own messages are not needed: failures surface as classified GraphErrors.
        loggerCallback: () => undefined,
      },
    },
  });

  async function getAccessToken(): Promise<string> {
    let result;
    try {
      result = await app.acquireTokenByClientCredential({ scopes: [settings.scope] });
    } catch (e) {
      throw wrapTokenError(e, settings, secrets);
    }
    if (!result?.accessToken) {
      throw new GraphError({
        kind: 'unauthorized',
        message: `Token endpoint returned no access token; check ${settingToCheck(settings, '')}`,
        graphCode: 'no_token',
      });
    }
    return result.accessToken;
  }

  return { getAccessToken };
}

function wrapTokenError(e: unknown, settings: GraphSettings, secrets: string[]): GraphError {
  const classified = classifyGraphError(e);
  if (classified.kind !== 'unauthorized') return classified;
  const detail = redactSecrets(classified.message.replace(/^Token acquisition failed: /, ''), secrets);
  return new GraphError({
    kind: 'unauthorized',
    message: `Could not get a Graph token for app ${settings.clientId} in tenant ${settings.tenantId}: ${detail}. Check ${settingToCheck(settings, detail)}.`,
    graphCode: classified.graphCode,
    requestId: classified.requestId,
  });
}
