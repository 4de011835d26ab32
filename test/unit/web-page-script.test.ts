// The admin page's script is a real file (src/web/assets/app.js): GET /api/manage/app.js serves exactly
// that file, with the page's security headers and a strong ETag, from the sources and from the build
// (which copies the file into dist/); the page loads it as an external, deferred classic script.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { PAGE_HTML } from '../../src/web/assets/html.js';
import { PAGE_JS } from '../../src/web/assets/app-js.js';
import {
  adminPageAssetHandler,
  adminPageHandler,
  CONTENT_SECURITY_POLICY,
  SECURITY_HEADERS,
} from '../../src/web/page.js';

const SCRIPT_FILE = fileURLToPath(new URL('../../src/web/assets/app.js', import.meta.url));
const BUILT_PAGE = fileURLToPath(new URL('../../dist/src/web/page.js', import.meta.url));

const context = () => new InvocationContext({ functionName: 'managePageAsset' });
const get = (asset: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'GET', url: `http://localhost/api/manage/${asset}`, params: { asset }, headers });
const header = (response: HttpResponseInit, name: string) =>
  (response.headers as Record<string, string> | undefined)?.[name];

describe('the admin page script', () => {
  it('PAGE_JS is the file src/web/assets/app.js, type-checked (// @ts-check)', async () => {
    const file = await readFile(SCRIPT_FILE, 'utf8');
    expect(PAGE_JS).toBe(file);
    expect(file.startsWith('// @ts-check\n')).toBe(true);
  });

  it('GET /api/manage/app.js serves the file with the security headers, and 304 on its ETag', async () => {
    const file = await readFile(SCRIPT_FILE, 'utf8');
    const response = await adminPageAssetHandler(get('app.js'), context());
    expect(response.status).toBe(200);
    expect(response.body).toBe(file);
    expect(header(response, 'content-type')).toBe('text/javascript; charset=utf-8');
    expect(header(response, 'content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(header(response, name)).toBe(value);
    const etag = header(response, 'etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await adminPageAssetHandler(get('app.js', { 'if-none-match': etag! }), context());
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
  });

  it('the page loads it as an external deferred script, and the CSP allows no inline script', async () => {
    const page = await adminPageHandler(
      new HttpRequest({ method: 'GET', url: 'http://localhost/api/manage' }),
      context(),
    );
    expect(page.status).toBe(200);
    expect(page.body).toBe(PAGE_HTML);
    expect(PAGE_HTML).toContain('<script src="/api/manage/app.js" defer></script>');
    expect(PAGE_HTML).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  // `npm test` builds first; run alone on sources that were never built, there is no dist/ to check.
  it.skipIf(!existsSync(BUILT_PAGE))('the built server (dist/) serves the same file', async () => {
    const built = (await import(BUILT_PAGE)) as typeof import('../../src/web/page.js');
    const response = await built.adminPageAssetHandler(get('app.js'), context());
    expect(response.status).toBe(200);
    expect(response.body).toBe(await readFile(SCRIPT_FILE, 'utf8'));
  });
});
