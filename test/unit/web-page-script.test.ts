// The admin page's scripts are real files (src/web/assets/script/*.js, native ES modules): GET
// /api/manage/<file> serves exactly those files, with the page's security headers and a strong ETag,
// from the sources and from the build (which copies the folder into dist/); the page loads main.js as an
// external module script, which imports the others by relative URL. The folder's listing is the
// allow-list: anything else under /api/manage/ is a 404 problem.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { PAGE_HTML } from '../../src/web/assets/html.js';
import { PAGE_SCRIPTS } from '../../src/web/assets/scripts.js';
import { PAGE_ENTRY_SCRIPT } from '../../src/web/constants.js';
import {
  adminPageAssetHandler,
  adminPageHandler,
  CONTENT_SECURITY_POLICY,
  SECURITY_HEADERS,
} from '../../src/web/page.js';

const SCRIPT_DIR = new URL('../../src/web/assets/script/', import.meta.url);
const BUILT_PAGE = fileURLToPath(new URL('../../dist/src/web/page.js', import.meta.url));

const context = () => new InvocationContext({ functionName: 'managePageAsset' });
const get = (asset: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'GET', url: `http://localhost/api/manage/${asset}`, params: { asset }, headers });
const header = (response: HttpResponseInit, name: string) =>
  (response.headers as Record<string, string> | undefined)?.[name];

async function scriptFiles(): Promise<Record<string, string>> {
  const names = (await readdir(SCRIPT_DIR)).filter((name) => name.endsWith('.js')).sort();
  return Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await readFile(new URL(name, SCRIPT_DIR), 'utf8')])),
  ) as Record<string, string>;
}

/**
 * The module specifiers a script imports: static `import … from '…'` / `import '…'` and `import('…')`,
 * and the JSDoc type imports (`@import { Feed } from './types.js'`, which the browser never loads:
 * types.js is only named by them).
 */
function importsOf(text: string): string[] {
  const specifiers = [
    ...text.matchAll(/^\s*import\s+(?:[^'";]*?\s+from\s+)?(['"])([^'"]+)\1/gm),
    ...text.matchAll(/\bimport\(\s*(['"])([^'"]+)\1\s*\)/g),
    ...text.matchAll(/@import\s+[^'"]*?\bfrom\s+(['"])([^'"]+)\1/g),
  ];
  return specifiers.map((m) => m[2] ?? '');
}

describe('the admin page scripts', () => {
  it('PAGE_SCRIPTS is every .js file of src/web/assets/script/, each type-checked (// @ts-check)', async () => {
    const files = await scriptFiles();
    expect(Object.keys(files)).toContain(PAGE_ENTRY_SCRIPT);
    expect(PAGE_SCRIPTS).toEqual(files);
    for (const text of Object.values(files)) expect(text.startsWith('// @ts-check\n')).toBe(true);
  });

  it('the scripts import only each other, by relative URL, and every one is reached from main.js (types.js by type imports)', () => {
    const reached = new Set<string>();
    for (const pending = [PAGE_ENTRY_SCRIPT]; pending.length > 0;) {
      const name = pending.pop()!;
      if (reached.has(name)) continue;
      reached.add(name);
      const text = PAGE_SCRIPTS[name];
      expect(text, `${name} is served`).toBeDefined();
      for (const specifier of importsOf(text!)) {
        expect(specifier, `${name} imports ${specifier}`).toMatch(/^\.\/[A-Za-z0-9_-]+\.js$/);
        pending.push(specifier.slice(2));
      }
    }
    expect([...reached].sort()).toEqual(Object.keys(PAGE_SCRIPTS).sort());
  });

  it('GET /api/manage/<script> serves each file with the security headers, and 304 on its ETag', async () => {
    const files = await scriptFiles();
    const etags = new Set<string>();
    for (const [name, text] of Object.entries(files)) {
      const response = await adminPageAssetHandler(get(name), context());
      expect(response.status, name).toBe(200);
      expect(response.body).toBe(text);
      expect(header(response, 'content-type')).toBe('text/javascript; charset=utf-8');
      expect(header(response, 'content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      for (const [key, value] of Object.entries(SECURITY_HEADERS)) expect(header(response, key)).toBe(value);
      const etag = header(response, 'etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      etags.add(etag!);
      const again = await adminPageAssetHandler(get(name, { 'if-none-match': etag! }), context());
      expect(again.status).toBe(304);
      expect(again.body).toBeUndefined();
    }
    expect(etags.size).toBe(Object.keys(files).length);
  });

  it('GET /api/manage/app.css serves the stylesheet', async () => {
    const response = await adminPageAssetHandler(get('app.css'), context());
    expect(response.status).toBe(200);
    expect(header(response, 'content-type')).toBe('text/css; charset=utf-8');
  });

  it('anything else under /api/manage/ is a 404 problem', async () => {
    for (const asset of [
      'app.js',
      'nope.js',
      'scripts.js',
      'css.js',
      '../page.js',
      'script/main.js',
      '__proto__',
      'constructor',
      'toString',
      '',
    ]) {
      const response = await adminPageAssetHandler(get(asset), context());
      expect(response.status, asset).toBe(404);
      expect(header(response, 'content-type')).toBe('application/problem+json');
      expect(header(response, 'content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(JSON.parse(response.body as string)).toMatchObject({ status: 404, title: 'Not found' });
    }
  });

  it('the page loads main.js as an external module script, and the CSP allows no inline script', async () => {
    const page = await adminPageHandler(
      new HttpRequest({ method: 'GET', url: 'http://localhost/api/manage' }),
      context(),
    );
    expect(page.status).toBe(200);
    expect(page.body).toBe(PAGE_HTML);
    expect(PAGE_HTML).toContain(`<script type="module" src="/api/manage/${PAGE_ENTRY_SCRIPT}"></script>`);
    expect(PAGE_HTML.match(/<script\b/g)).toHaveLength(1);
    expect(PAGE_HTML).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  // `npm test` builds first; run alone on sources that were never built, there is no dist/ to check.
  it.skipIf(!existsSync(BUILT_PAGE))('the built server (dist/) serves the same files', async () => {
    const built = (await import(BUILT_PAGE)) as typeof import('../../src/web/page.js');
    for (const [name, text] of Object.entries(await scriptFiles())) {
      const response = await built.adminPageAssetHandler(get(name), context());
      expect(response.status, name).toBe(200);
      expect(response.body).toBe(text);
    }
    expect((await built.adminPageAssetHandler(get('app.js'), context())).status).toBe(404);
  });
});
