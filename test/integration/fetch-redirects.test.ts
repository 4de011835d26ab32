// A local feed server on 127.0.0.1: the fetcher may reach it only because the test allows exactly that
// address; everything it redirects to must pass the same check at connect time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fetchFeedUrl, FeedFetchError, type FetchOptions } from '../../src/feeds/fetch.js';

const BODY = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n';
let server: http.Server;
let base: string;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const redirects: Record<string, string> = {
      '/to-private': 'http://10.0.0.1/feed.ics',
      '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
      '/to-loopback-v6': 'http://[::1]/feed.ics',
      '/to-mapped': 'http://[::ffff:127.0.0.1]/feed.ics',
      '/to-https-private': 'https://192.168.0.1/feed.ics',
      '/to-ok': '/ok.ics',
      '/loop': '/loop',
    };
    const target = redirects[req.url ?? ''];
    if (target) {
      res.writeHead(302, { location: target }).end();
      return;
    }
    if (req.url === '/ok.ics') {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/calendar', etag: '"v1"' }).end(BODY);
      return;
    }
    if (req.url === '/big.ics') {
      res.writeHead(200, { 'content-type': 'text/calendar' });
      res.end('X'.repeat(5000));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const options: FetchOptions = {
  maxBytes: 1024,
  allowHttp: true,
  isAllowedAddress: (a) => a === '127.0.0.1',
  timeoutMs: 5000,
};
const none = { etag: null, lastModified: null };

async function failure(path: string, opts: FetchOptions = options): Promise<FeedFetchError> {
  try {
    await fetchFeedUrl(`${base}${path}`, none, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(FeedFetchError);
    return error as FeedFetchError;
  }
  throw new Error(`${path} was fetched`);
}

describe('fetchFeedUrl against a local server', () => {
  it('fetches the allowed server, follows a same-host redirect and does a conditional GET', async () => {
    const ok = await fetchFeedUrl(`${base}/to-ok`, none, options);
    expect(ok).toEqual({ status: 'ok', body: BODY, etag: '"v1"', lastModified: null });
    expect(await fetchFeedUrl(`${base}/ok.ics`, { etag: '"v1"', lastModified: null }, options)).toEqual({
      status: 'notModified',
    });
  });

  it.each([
    ['/to-private', /10\.0\.0\.1/],
    ['/to-metadata', /169\.254\.169\.254/],
    ['/to-loopback-v6', /::1/],
    ['/to-mapped', /::ffff:7f00:1/], // WHATWG URL writes the mapped form in hex
    ['/to-https-private', /192\.168\.0\.1/],
  ])('refuses the redirect %s to a private address', async (path, detail) => {
    const error = await failure(path);
    expect(error.code).toBe('blockedAddress');
    expect(error.message).toMatch(detail);
  });

  it('with the default address check, the loopback server itself is refused (DNS answer checked at connect)', async () => {
    const { isAllowedAddress: _drop, ...defaults } = options;
    expect((await failure('/ok.ics', defaults)).code).toBe('blockedAddress');
    const viaName = base.replace('127.0.0.1', 'localhost');
    await expect(fetchFeedUrl(`${viaName}/ok.ics`, none, defaults)).rejects.toMatchObject({
      code: 'blockedAddress',
    });
  });

  it('stops redirect loops and oversize bodies', async () => {
    expect((await failure('/loop')).code).toBe('tooManyRedirects');
    expect((await failure('/big.ics')).code).toBe('tooLarge');
    expect((await failure('/missing.ics')).code).toBe('httpStatus');
  });

  it('https is required unless allowHttp', async () => {
    expect((await failure('/ok.ics', { ...options, allowHttp: false })).code).toBe('badUrl');
  });
});
