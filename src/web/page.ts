// The admin page as HTTP routes: GET /api/manage (the HTML shell) and GET /api/manage/{asset} (its
// scripts, main.js and the modules it imports, and app.css). Anonymous on purpose: the page holds no
// data and no secret; every data call it makes goes to the admin API with the admin's function key
// (and, when deployed behind App Service Authentication, the Entra session cookie, which the platform
// checks before any of this runs).
//
// Security headers: a Content-Security-Policy without 'unsafe-inline' (script and style come only from
// these routes; fetches only to this origin), no framing, no referrer (calendar links carry tokens),
// nosniff. Bodies are fixed strings, so a strong ETag makes reloads cheap.
import { createHash } from 'node:crypto';

import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';

import { PAGE_CSS } from './assets/css.js';
import { PAGE_HTML } from './assets/html.js';
import { PAGE_SCRIPTS } from './assets/scripts.js';
import { PAGE_ROUTE, PAGE_STYLESHEET } from './constants.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), clipboard-write=(self)',
};

interface StaticFile {
  body: string;
  contentType: string;
  etag: string;
}

function file(body: string, contentType: string): StaticFile {
  return {
    body,
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

const PAGE = file(PAGE_HTML, 'text/html; charset=utf-8');

/**
 * The files served next to the page, by name: every script of assets/script/ (the folder's listing is
 * the allow-list) and the stylesheet. A Map, so that no name reaches an object's prototype.
 */
const ASSETS: ReadonlyMap<string, StaticFile> = new Map([
  ...Object.entries(PAGE_SCRIPTS).map(
    ([name, body]) => [name, file(body, 'text/javascript; charset=utf-8')] as const,
  ),
  [PAGE_STYLESHEET, file(PAGE_CSS, 'text/css; charset=utf-8')],
]);

function notFound(): HttpResponseInit {
  return {
    status: 404,
    headers: { ...SECURITY_HEADERS, 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      type: 'https://timetable-sync.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: `no such file: the admin page is at /api/${PAGE_ROUTE}`,
    }),
  };
}

function serve(request: HttpRequest, f: StaticFile): HttpResponseInit {
  // no-cache: the browser revalidates each time (a deployment changes the page), then gets a 304.
  const headers = { ...SECURITY_HEADERS, etag: f.etag, 'cache-control': 'no-cache' };
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === f.etag))
    return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'content-type': f.contentType }, body: f.body };
}

export const adminPageHandler: HttpHandler = (request) => Promise.resolve(serve(request, PAGE));

export const adminPageAssetHandler: HttpHandler = (request) => {
  const f = ASSETS.get(request.params.asset ?? '');
  return Promise.resolve(f ? serve(request, f) : notFound());
};
