// How the Graph layer's HTTP traffic trusts an extra CA (the local Graph emulator's) without
// touching process-wide TLS settings. Both the Graph SDK (HTTPMessageHandler) and msal-node 7
// (HttpClient) call Node's global fetch; Node 20's fetch accepts an undici `dispatcher` per call,
// so we give both the same undici Agent whose TLS `ca` is the system roots plus the extra PEM.
import { createRequire } from 'node:module';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Dispatcher } from 'undici';

/**
 * An undici Agent trusting Node's bundled roots plus `caCertPem`. undici is loaded here, on first use,
 * because only the local emulator needs it: a deployed app never pays its load time at cold start.
 */
export function createTrustingDispatcher(caCertPem: string): Dispatcher {
  const { Agent } = createRequire(import.meta.url)('undici') as typeof import('undici');
  // One TLS context for every connection: given `ca`, each connection would parse the ~140 roots into
  // a context of its own (megabytes of native memory each, freed only when a GC happens to run).
  const secureContext = createSecureContext({ ca: [...rootCertificates, caCertPem] });
  return new Agent({ connect: { secureContext } });
}

/** Fetch init with a dispatcher; the DOM RequestInit type does not know the undici extension. */
export type DispatcherRequestInit = RequestInit & { dispatcher?: Dispatcher };

/**
 * msal-node network module (`system.networkClient`, a supported option) doing what msal-node's own
 * HttpClient does, but with our dispatcher. Only used when an extra CA is configured.
 */
export class DispatcherNetworkClient implements INetworkModule {
  constructor(private readonly dispatcher: Dispatcher) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(
    url: string,
    method: 'GET' | 'POST',
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const init: DispatcherRequestInit = {
      method,
      headers: options?.headers ?? {},
      dispatcher: this.dispatcher,
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
    };
    const response = await fetch(url, init);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { headers, body: (await response.json()) as T, status: response.status };
  }
}
