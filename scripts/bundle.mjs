#!/usr/bin/env node
// Deployable function app bundle: dist/deploy/ = main.js (every dist/functions/*.js registration and
// all of src/ and node_modules they import, in one ES module) + chunks/ (code loaded only on demand,
// e.g. @azure/identity for managed identity) + host.json + a package.json whose `main` is main.js.
// Self-contained: no node_modules to deploy.
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

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const result = await build({
  entryPoints: [{ in: 'functions-entry', out: 'main' }],
  plugins: [entryPlugin],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
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
const summary = {
  outdir: path.relative(root, outdir),
  functions: entries,
  jsFiles: files,
  jsBytes: js,
  mainBytes,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(summary));
else
  console.log(
    `bundle: ${summary.outdir}/main.js ${(mainBytes / 1024).toFixed(0)} KB (${files} js files, ${(js / 1024).toFixed(0)} KB) from ${entries.join(', ')}`,
  );
