// Part 4: cold start = the time to import the function app entry as the Functions worker does (the
// package.json `main` glob: every dist/functions/*.js), plain tsc output against the esbuild bundle
// (scripts/bundle.mjs → dist/deploy/main.js). Each import in a fresh `node` process; the two kinds
// alternate (and swap order every round) so a noisy neighbour hits both alike; medians are reported.
//
// functions/*.ts register their triggers without loading the handlers, which each import() on its
// first invocation (src/http/routeTable.ts). That cost is moved, not removed, so the same process then
// imports every handler module the entry loads lazily (the `import('…')` targets of dist/functions/*.js;
// the bundle's lazy chunks) and reports it beside the entry: the first invocations' extra latency.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { fixed, int, median, progress, type BenchOptions, type PartResult, type Row } from './common.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMPORT_TARGET_MS = 300;
const SPEEDUP_TARGET = 3;

// Runs in the child: imports the entry files in order, then (after `--`) the modules the handlers
// import() on their first invocation, and reports both times (performance.now() is ms since the
// process started, so `ready` also includes Node's own start-up). A stand-in for the module the
// Functions worker provides, @azure/functions-core, takes the registrations as the worker would (so
// @azure/functions runs its real registration path instead of "test mode", which skips them and
// prints a warning per function) and reports the function names registered.
const CHILD = `
import Module from 'node:module';
const registered = [];
const core = {
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
  registerFunction(metadata) { registered.push(metadata.name); return { dispose() {} }; },
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === '@azure/functions-core' ? request : resolve.call(this, request, ...rest);
};
Module._cache['@azure/functions-core'] = { id: '@azure/functions-core', filename: '@azure/functions-core', loaded: true, exports: core };
const args = process.argv.slice(1);
const split = args.indexOf('--');
const t0 = performance.now();
for (const file of args.slice(0, split)) await import(file);
const t1 = performance.now();
for (const file of args.slice(split + 1)) await import(file);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, readyMs: t1, handlersMs: t2 - t1, registered: registered.sort() }) + '\\n');
`;

interface Sample {
  importMs: number;
  readyMs: number;
  /** Importing every lazily loaded handler module after the entry (the first invocations' share). */
  handlersMs: number;
  processMs: number;
  /** Function names registered with the worker stand-in, sorted. */
  registered: string[];
}

interface App {
  entry: readonly string[];
  lazy: readonly string[];
}

/** The `import('…')` targets of the given (tsc output) files: the handler modules loaded on first invocation. */
async function lazyImportsOf(files: readonly string[]): Promise<string[]> {
  const targets = new Set<string>();
  for (const file of files)
    for (const match of (await readFile(file, 'utf8')).matchAll(
      /\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g,
    ))
      targets.add(path.resolve(path.dirname(file), match[2] ?? ''));
  return [...targets].sort();
}

async function importOnce(cwd: string, app: App): Promise<Sample> {
  const t0 = performance.now();
  const url = (f: string): string => pathToFileURL(f).href;
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', CHILD, ...app.entry.map(url), '--', ...app.lazy.map(url)],
    { cwd, maxBuffer: 1 << 20 },
  );
  const processMs = performance.now() - t0;
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return { ...(JSON.parse(line) as Omit<Sample, 'processMs'>), processMs };
}

/** scripts/bundle.mjs --json */
interface BundleSummary {
  jsBytes: number;
  mainBytes: number;
  jsFiles: number;
  functions: string[];
  /** main.js + the chunks it imports statically */
  entryFiles: number;
  entryBytes: number;
  entryPackages: string[];
  /** chunks the entry loads by dynamic import(), relative to dist/deploy */
  lazyChunks: string[];
}

export async function buildBundle(): Promise<BundleSummary> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs'), '--json'], {
    cwd: ROOT,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as BundleSummary;
}

export async function benchCold(options: BenchOptions): Promise<PartResult> {
  const part = '4 cold start';
  const bundle = await buildBundle();
  const functionsDir = path.join(ROOT, 'dist', 'functions');
  const plain = (await readdir(functionsDir))
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => path.join(functionsDir, f));
  const deployDir = path.join(ROOT, 'dist', 'deploy');
  // The handler modules are import()ed by the registrations' route table on the first request.
  const plainApp: App = {
    entry: plain,
    lazy: await lazyImportsOf([...plain, path.join(ROOT, 'dist', 'src', 'http', 'routeTable.js')]),
  };
  const bundledApp: App = {
    entry: [path.join(deployDir, 'main.js')],
    lazy: bundle.lazyChunks.map((chunk) => path.join(deployDir, chunk)),
  };
  const rounds = options.quick ? 3 : 11;
  const samples = { plain: [] as Sample[], bundled: [] as Sample[] };
  // One unmeasured round each: the files are then in the page cache for both (a warm-disk cold start).
  await importOnce(ROOT, plainApp);
  await importOnce(deployDir, bundledApp);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['plain', 'bundled'] as const) : (['bundled', 'plain'] as const);
    for (const kind of order)
      samples[kind].push(
        kind === 'plain' ? await importOnce(ROOT, plainApp) : await importOnce(deployDir, bundledApp),
      );
  }
  const m = (list: Sample[], key: Exclude<keyof Sample, 'registered'>): number =>
    median(list.map((s) => s[key]));
  // Every process of a kind must register the same functions, and both kinds the same ones.
  const registeredBy = (list: Sample[]): string =>
    [...new Set(list.map((s) => s.registered.join(',')))].join(' | ');
  const plainRegistered = registeredBy(samples.plain);
  const sameRegistrations =
    plainRegistered === registeredBy(samples.bundled) && !plainRegistered.includes(' | ');
  const registeredCount = (list: Sample[]): number => list[0]?.registered.length ?? 0;
  const eager = (list: Sample[]): number => median(list.map((s) => s.importMs + s.handlersMs));
  const plainMs = m(samples.plain, 'importMs');
  const bundledMs = m(samples.bundled, 'importMs');
  const speedup = plainMs / bundledMs;
  let plainBytes = 0;
  for (const f of plain) plainBytes += (await stat(f)).size;
  progress(
    options,
    `cold start: tsc ${plainMs.toFixed(0)} ms, bundle ${bundledMs.toFixed(0)} ms (median of ${rounds})`,
  );
  const rows: Row[] = [
    {
      part,
      figure: `function files (${bundle.functions.length}) imported`,
      value: bundle.functions.map((f) => f.replace(/\.js$/, '')).join(','),
    },
    {
      part,
      figure: 'functions registered (worker stand-in): tsc / bundle',
      value: `${registeredCount(samples.plain)} / ${registeredCount(samples.bundled)}`,
      target: 'same names, every run',
      met: sameRegistrations && registeredCount(samples.plain) > 0,
    },
    { part, figure: 'tsc output: import, median', value: `${fixed(plainMs, 0)} ms` },
    {
      part,
      figure: 'bundle: import, median',
      value: `${fixed(bundledMs, 0)} ms`,
      target: `<= ${IMPORT_TARGET_MS} ms`,
      met: bundledMs <= IMPORT_TARGET_MS,
    },
    {
      part,
      figure: 'bundle vs tsc output',
      value: `${fixed(speedup)}x faster`,
      target: `>= ${SPEEDUP_TARGET}x`,
      met: speedup >= SPEEDUP_TARGET,
    },
    {
      part,
      figure: 'node start to app ready: tsc / bundle',
      value: `${fixed(m(samples.plain, 'readyMs'), 0)} / ${fixed(m(samples.bundled, 'readyMs'), 0)} ms`,
    },
    {
      part,
      figure: `first invocations: all handler modules (${plainApp.lazy.length} / ${bundledApp.lazy.length}): tsc / bundle`,
      value: `${fixed(m(samples.plain, 'handlersMs'), 0)} / ${fixed(m(samples.bundled, 'handlersMs'), 0)} ms`,
    },
    {
      part,
      figure: 'entry + every handler (the cost an eager entry paid at load): tsc / bundle',
      value: `${fixed(eager(samples.plain), 0)} / ${fixed(eager(samples.bundled), 0)} ms`,
    },
    {
      part,
      figure: 'process spawn to exit (entry + every handler): tsc / bundle',
      value: `${fixed(m(samples.plain, 'processMs'), 0)} / ${fixed(m(samples.bundled, 'processMs'), 0)} ms`,
    },
    {
      part,
      figure: 'bundle size: main.js / entry (files) / all js (files)',
      value: `${int(bundle.mainBytes / 1024)} KB / ${int(bundle.entryBytes / 1024)} KB (${bundle.entryFiles}) / ${int(bundle.jsBytes / 1024)} KB (${bundle.jsFiles})`,
    },
    {
      part,
      figure: 'bundle entry: packages evaluated at load',
      value: bundle.entryPackages.join(', '),
    },
    {
      part,
      figure: 'tsc output: dist/functions/*.js (+ src + node_modules)',
      value: `${int(plainBytes / 1024)} KB + imports`,
    },
  ];
  const spread = (list: Sample[]): string =>
    `${fixed(Math.min(...list.map((s) => s.importMs)), 0)}-${fixed(Math.max(...list.map((s) => s.importMs)), 0)} ms`;
  return {
    part,
    rows,
    notes: [
      `cold start: ${rounds} fresh processes per kind, alternating; import range tsc ${spread(samples.plain)}, bundle ${spread(samples.bundled)}; registrations go to a stand-in for the worker's @azure/functions-core (as in the worker: no "test mode"), so this is module load, evaluation and registration time.`,
      `cold start: the entry registers the triggers only; each handler group (feeds, policies, calendar, status, admin page, sync) is imported on its first invocation in an instance, so the "first invocations" figure is spread over those first requests (shared modules load once).`,
    ],
  };
}
