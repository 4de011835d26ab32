// Fetches a registered feed URL safely: a feed URL is attacker-controlled input (SSRF).
// - https only (http only when ALLOW_HTTP_FEEDS=true, for development);
// - the host name is resolved by our own `lookup` and every address is checked *at connect time*, so
//   a DNS answer cannot change between the check and the connection (DNS rebinding);
// - loopback, private, link-local (incl. 169.254.169.254, the metadata endpoint), unique-local,
//   multicast, unspecified and IPv4-mapped IPv6 forms of those are refused;
// - redirects are followed by hand, at most 3, each hop checked the same way;
// - time and size limits; conditional GET (ETag / If-Modified-Since) so an unchanged feed costs a 304.
// Node's built-in net.BlockList does the address matching (no hand-written CIDR arithmetic).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

import type { SyncConfig } from '../config.js';
import { AppError } from '../errors.js';
import { joinSplitCharacters } from '../ical/index.js';

/** Fetches a URL feed with conditional GET (the sync's view of this module). */
export type FeedFetcher = (
  url: string,
  validators: { etag: string | null; lastModified: string | null },
) => Promise<
  { status: 'notModified' } | { status: 'ok'; body: string; etag: string | null; lastModified: string | null }
>;

export type FeedFetchErrorCode =
  'blockedAddress' | 'badUrl' | 'httpStatus' | 'tooLarge' | 'timeout' | 'tooManyRedirects' | 'network';

/** The feed's URL or its server is at fault (the admin's input): the message names which and why. */
export class FeedFetchError extends AppError {
  override name = 'FeedFetchError';
  declare readonly code: FeedFetchErrorCode;
  constructor(message: string, code: FeedFetchErrorCode) {
    super(code, message, { isUserError: true });
  }
}

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 can reach private IPv4
  ['2002::', 16], // 6to4 embeds IPv4
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** True when the address must not be fetched from (checks IPv4-mapped IPv6 by its IPv4 part too). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped?.[1] && hexMapped[2]) {
    const high = parseInt(hexMapped[1], 16);
    const low = parseInt(hexMapped[2], 16);
    return blocked.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4');
  }
  return blocked.check(address, 'ipv6');
}

export interface FetchOptions {
  maxBytes: number;
  allowHttp: boolean;
  timeoutMs?: number;
  maxRedirects?: number;
  /** For tests only: decides which resolved addresses may be connected to (default: not blocked). */
  isAllowedAddress?: (address: string) => boolean;
  /** For tests only: extra CA to trust (a local https feed server). */
  ca?: string;
}

type FetchResult = Awaited<ReturnType<FeedFetcher>>;

function checkedLookup(isAllowed: (address: string) => boolean, hostname: string): LookupFunction {
  return (host, options, callback) => {
    dnsLookup(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !isAllowed(a.address));
      if (refused || addresses.length === 0) {
        return callback(
          new FeedFetchError(
            `feed host ${hostname} resolves to ${refused?.address ?? 'nothing'}, a private or local address: refused`,
            'blockedAddress',
          ),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

function parseFeedUrl(raw: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FeedFetchError(`feed URL is not a valid URL: ${raw.slice(0, 200)}`, 'badUrl');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new FeedFetchError(
      `feed URL must use https${allowHttp ? ' or http' : ''}: ${url.protocol}// is not allowed`,
      'badUrl',
    );
  }
  if (url.username || url.password)
    throw new FeedFetchError('feed URL must not contain credentials', 'badUrl');
  return url;
}

/** Validates a URL for registration (scheme and literal addresses); DNS is checked at fetch time. */
export function validateFeedUrl(
  raw: string,
  options: Pick<FetchOptions, 'allowHttp' | 'isAllowedAddress'>,
): URL {
  const url = parseFeedUrl(raw, options.allowHttp);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const isAllowed = options.isAllowedAddress ?? ((a: string) => !isBlockedAddress(a));
  if (isIP(host) && !isAllowed(host))
    throw new FeedFetchError(
      `feed URL points at ${host}, a private or local address: refused`,
      'blockedAddress',
    );
  if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host)) {
    throw new FeedFetchError(`feed URL host ${host} is a local name: refused`, 'blockedAddress');
  }
  return url;
}

function requestOnce(
  url: URL,
  headers: Record<string, string>,
  options: FetchOptions,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string | null }> {
  const isAllowed = options.isAllowedAddress ?? ((a: string) => !isBlockedAddress(a));
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'timetable-sync', accept: 'text/calendar, */*;q=0.5', ...headers },
        lookup: checkedLookup(isAllowed, url.hostname),
        timeout: timeoutMs,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          resolve({ status, headers: res.headers, body: null });
          return;
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > options.maxBytes) {
          res.destroy();
          reject(
            new FeedFetchError(
              `feed is ${declared} bytes, over the limit of ${options.maxBytes} (MAX_FEED_BYTES)`,
              'tooLarge',
            ),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            res.destroy();
            reject(
              new FeedFetchError(
                `feed is over the limit of ${options.maxBytes} bytes (MAX_FEED_BYTES)`,
                'tooLarge',
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status,
            headers: res.headers,
            // Folds may split a UTF-8 character (RFC 5545 §3.1): unfolded as octets before decoding.
            body: utf8(joinSplitCharacters(Buffer.concat(chunks))),
          }),
        );
        res.on('error', (error) =>
          reject(new FeedFetchError(`feed download failed: ${error.message}`, 'network')),
        );
      },
    );
    // Overall deadline too: `timeout` alone only covers idle sockets, not a slow drip.
    const deadline = setTimeout(
      () => req.destroy(new FeedFetchError(`feed did not download within ${timeoutMs / 1000} s`, 'timeout')),
      timeoutMs,
    );
    req.on('timeout', () =>
      req.destroy(new FeedFetchError(`feed server did not answer within ${timeoutMs / 1000} s`, 'timeout')),
    );
    req.on('error', (error) =>
      reject(
        error instanceof FeedFetchError
          ? error
          : new FeedFetchError(`feed request failed: ${error.message}`, 'network'),
      ),
    );
    req.on('close', () => clearTimeout(deadline));
    req.end();
  });
}

/** Conditional GET of a feed URL with every check above; follows at most `maxRedirects` redirects. */
export async function fetchFeedUrl(
  raw: string,
  validators: { etag: string | null; lastModified: string | null },
  options: FetchOptions,
): Promise<FetchResult> {
  let url = validateFeedUrl(raw, options);
  const maxRedirects = options.maxRedirects ?? 3;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = {};
    if (validators.etag) headers['if-none-match'] = validators.etag;
    if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
    const response = await requestOnce(url, headers, options);
    if (response.status === 304) return { status: 'notModified' };
    if ([301, 302, 303, 307, 308].includes(response.status)) {
      const location = response.headers.location;
      if (!location)
        throw new FeedFetchError(
          `feed URL answered HTTP ${response.status} without a Location`,
          'httpStatus',
        );
      if (hop >= maxRedirects)
        throw new FeedFetchError(`feed URL redirected more than ${maxRedirects} times`, 'tooManyRedirects');
      url = validateFeedUrl(new URL(location, url).toString(), options);
      continue;
    }
    if (response.status !== 200 || response.body === null) {
      throw new FeedFetchError(`feed URL answered HTTP ${response.status}`, 'httpStatus');
    }
    const header = (name: string): string | null => {
      const value = response.headers[name];
      return typeof value === 'string' ? value : null;
    };
    return { status: 'ok', body: response.body, etag: header('etag'), lastModified: header('last-modified') };
  }
}

export function createFeedFetcher(
  settings: Pick<SyncConfig, 'maxFeedBytes' | 'allowHttpFeeds'>,
): FeedFetcher {
  return (url, validators) =>
    fetchFeedUrl(url, validators, { maxBytes: settings.maxFeedBytes, allowHttp: settings.allowHttpFeeds });
}

/** The bytes as UTF-8 text (invalid sequences become U+FFFD), without copying them. */
function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
