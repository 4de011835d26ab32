#!/usr/bin/env node
// Deployable function app bundle: dist/deploy/ = main.js (every dist/functions/*.js registration, one
// ES module) + chunks/ (everything the handlers need, loaded by their dynamic import() on the first
// invocation: src/, the Azure SDKs, MSAL, zod, …) + host.json + a package.json whose `main` is main.js.
// Self-contained: no node_modules to deploy.
//
// Cold start (docs/performance.md part 4): functions/*.ts register their triggers from SDK-free modules
// and import their handlers lazily, so with `splitting` the entry is @azure/functions plus the route
// table. This script fails when the entry's static import closure takes in any other package
// (ENTRY_PACKAGES below): an SDK imported at load would make every cold start pay for it again.
//
// Externals: only `@azure/functions-core`, the module the Functions Node.js worker provides at run
// time (it is not on npm; @azure/functions requires it inside a try and links registrations to the
// host through it). `@azure/functions` itself is an ordinary npm package and is bundled, once.
//
//   npm run build && node scripts/bundle.mjs        (then deploy dist/deploy, see docs/performance.md)
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The only node_modules packages main.js (and the chunks it imports statically) may contain.
const ENTRY_PACKAGES = new Set(['@azure/functions', '@azure/functions-extensions-base', 'cookie']);
const functionsDir = path.join(root, 'dist', 'functions');
const outdir = path.join(root, 'dist', 'deploy');

const entries = (await readdir(functionsDir).catch(() => [])).filter((name) => name.endsWith('.js')).sort();
if (entries.length === 0) {
  console.error(`bundle: no ${path.relative(root, functionsDir)}/*.js: run \`npm run build\` first`);
  process.exit(1);
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

// One entry importing every function file, like the worker's `main` glob does, so that the app and
// @azure/functions exist once (two copies would each try to set the programming model).
const entryPlugin = {
  name: 'functions-entry',
  setup(b) {
    b.onResolve({ filter: /^functions-entry$/ }, () => ({
      path: 'functions-entry',
      namespace: 'functions-entry',
    }));
    b.onLoad({ filter: /.*/, namespace: 'functions-entry' }, () => ({
      contents: entries.map((name) => `import './functions/${name}';`).join('\n'),
      resolveDir: path.join(root, 'dist'),
      loader: 'js',
    }));
  },
};

// The admin page's scripts are files (src/web/assets/script/*.js, copied to dist/src/web/assets/script/
// by the build) that scripts.js lists and reads at load; the bundle has no such folder beside its chunks,
// so the module is replaced here by one holding the same map (file name → text) of the folder's .js files.
const pageScriptsModule = path.join(root, 'dist', 'src', 'web', 'assets', 'scripts.js');
let pageScripts = null;
const pageScriptsPlugin = {
  name: 'page-scripts',
  setup(b) {
    b.onLoad({ filter: /[\\/]web[\\/]assets[\\/]scripts\.js$/ }, async (args) => {
      if (path.resolve(args.path) !== pageScriptsModule) return undefined;
      const dir = path.join(path.dirname(args.path), 'script');
      const names = (await readdir(dir)).filter((name) => name.endsWith('.js')).sort();
      const files = {};
      for (const name of names) files[name] = await readFile(path.join(dir, name), 'utf8');
      pageScripts = names;
      return {
        contents: `export const PAGE_SCRIPTS = Object.freeze(${JSON.stringify(files)});\n`,
        loader: 'js',
      };
    });
  },
};

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const result = await build({
  entryPoints: [{ in: 'functions-entry', out: 'main' }],
  plugins: [entryPlugin, pageScriptsPlugin],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  absWorkingDir: root,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@azure/functions-core'],
  // CommonJS dependencies call require() (Node built-ins, the worker's @azure/functions-core): give the
  // ES module a real one.
  banner: {
    js: "import { createRequire as __ttsCreateRequire } from 'node:module'; const require = __ttsCreateRequire(import.meta.url);",
  },
  minify: true,
  sourcemap: true,
  legalComments: 'external',
  metafile: true,
  logLevel: 'warning',
});

if (!pageScripts || pageScripts.length === 0) {
  const why = pageScripts
    ? 'its folder script/ has no .js files: run `npm run build`'
    : 'the module was not bundled';
  console.error(
    `bundle: ${path.relative(root, pageScriptsModule)} was not replaced by the admin page's scripts (${why}), ` +
      'so the page would have no script (see pageScriptsPlugin in scripts/bundle.mjs)',
  );
  process.exit(1);
}

await copyFile(path.join(root, 'host.json'), path.join(outdir, 'host.json'));
await writeFile(
  path.join(outdir, 'package.json'),
  `${JSON.stringify(
    {
      name: pkg.name,
      version: pkg.version,
      description: `${pkg.description} (bundled)`,
      private: true,
      type: 'module',
      main: 'main.js',
      engines: pkg.engines,
      dependencies: {},
    },
    null,
    2,
  )}\n`,
);

let js = 0;
let files = 0;
for (const output of Object.keys(result.metafile.outputs)) {
  if (!output.endsWith('.js')) continue;
  js += (await stat(path.join(root, output))).size;
  files++;
}
const mainBytes = (await stat(path.join(outdir, 'main.js'))).size;

// What loading the app evaluates: main.js and the chunks it imports statically (shared code), and what
// it leaves to the first invocations: the chunks that closure imports dynamically.
const outputs = result.metafile.outputs;
const mainOutput = path.relative(root, path.join(outdir, 'main.js')).split(path.sep).join('/');
const entryClosure = new Set();
const lazy = new Set();
for (const pending = [mainOutput]; pending.length > 0;) {
  const output = pending.pop();
  if (entryClosure.has(output)) continue;
  entryClosure.add(output);
  for (const { path: imported, kind, external } of outputs[output]?.imports ?? []) {
    if (external || !outputs[imported]) continue;
    if (kind === 'dynamic-import') lazy.add(imported);
    else pending.push(imported);
  }
}
for (const output of entryClosure) lazy.delete(output);
const packageOf = (input) => {
  const parts = input.split('node_modules/').pop().split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
};
const entryPackages = new Set();
let entryBytes = 0;
for (const output of entryClosure) {
  entryBytes += outputs[output].bytes;
  for (const input of Object.keys(outputs[output].inputs))
    if (input.includes('node_modules/')) entryPackages.add(packageOf(input));
}
const unexpected = [...entryPackages].filter((name) => !ENTRY_PACKAGES.has(name)).sort();
if (unexpected.length > 0) {
  console.error(
    `bundle: main.js loads ${unexpected.join(', ')} at start-up; only ${[...ENTRY_PACKAGES].join(', ')} may be ` +
      'imported statically by functions/*.ts and what they import (load handlers with a dynamic import(), see ' +
      'src/http/routeTable.ts and functions/syncTimer.ts), or add the package to ENTRY_PACKAGES in scripts/bundle.mjs',
  );
  process.exit(1);
}
const rel = (output) => path.relative(outdir, path.join(root, output)).split(path.sep).join('/');
const summary = {
  outdir: path.relative(root, outdir),
  functions: entries,
  jsFiles: files,
  jsBytes: js,
  mainBytes,
  // main.js + the chunks it imports statically: what a cold start evaluates
  entryFiles: entryClosure.size,
  entryBytes,
  entryPackages: [...entryPackages].sort(),
  // chunks loaded by the handlers' dynamic import() (and what they import in turn, not listed)
  lazyChunks: [...lazy].map(rel).sort(),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(summary));
else
  console.log(
    `bundle: ${summary.outdir}/main.js ${(mainBytes / 1024).toFixed(0)} KB, entry ${(entryBytes / 1024).toFixed(0)} KB in ` +
      `${entryClosure.size} files (${summary.entryPackages.join(', ')}); ${lazy.size} chunks loaded on first invocation; ` +
      `${files} js files, ${(js / 1024).toFixed(0)} KB in all; from ${entries.join(', ')}`,
  );
