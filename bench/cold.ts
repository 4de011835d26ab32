// Part 4: cold start = the time to import the function app entry as the Functions worker does (the
// package.json `main` glob: every dist/functions/*.js), plain tsc output against the esbuild bundle
// (scripts/bundle.mjs → dist/deploy/main.js). Each import in a fresh `node` process; the two kinds
// alternate (and swap order every round) so a noisy neighbour hits both alike; medians are reported.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { fixed, int, median, progress, type BenchOptions, type PartResult, type Row } from './common.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMPORT_TARGET_MS = 300;
const SPEEDUP_TARGET = 3;

// Runs in the child: imports the given files in order and reports the time (performance.now() is ms
// since the process started, so `ready` also includes Node's own start-up).
const CHILD = `
const files = process.argv.slice(1);
const t0 = performance.now();
for (const file of files) await import(file);
const t1 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, readyMs: t1 }) + '\\n');
`;

interface Sample {
  importMs: number;
  readyMs: number;
  processMs: number;
}

async function importOnce(cwd: string, files: readonly string[]): Promise<Sample> {
  const t0 = performance.now();
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', CHILD, ...files.map((f) => pathToFileURL(f).href)],
    { cwd, maxBuffer: 1 << 20 },
  );
  const processMs = performance.now() - t0;
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return { ...(JSON.parse(line) as Omit<Sample, 'processMs'>), processMs };
}

export async function buildBundle(): Promise<{
  jsBytes: number;
  mainBytes: number;
  jsFiles: number;
  functions: string[];
}> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs'), '--json'], {
    cwd: ROOT,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    jsBytes: number;
    mainBytes: number;
    jsFiles: number;
    functions: string[];
  };
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
  const bundled = [path.join(deployDir, 'main.js')];
  const rounds = options.quick ? 3 : 11;
  const samples = { plain: [] as Sample[], bundled: [] as Sample[] };
  // One unmeasured round each: the files are then in the page cache for both (a warm-disk cold start).
  await importOnce(ROOT, plain);
  await importOnce(deployDir, bundled);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['plain', 'bundled'] as const) : (['bundled', 'plain'] as const);
    for (const kind of order)
      samples[kind].push(
        kind === 'plain' ? await importOnce(ROOT, plain) : await importOnce(deployDir, bundled),
      );
  }
  const m = (list: Sample[], key: keyof Sample): number => median(list.map((s) => s[key]));
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
      figure: 'process spawn to exit: tsc / bundle',
      value: `${fixed(m(samples.plain, 'processMs'), 0)} / ${fixed(m(samples.bundled, 'processMs'), 0)} ms`,
    },
    {
      part,
      figure: 'bundle size: main.js / all js (files)',
      value: `${int(bundle.mainBytes / 1024)} KB / ${int(bundle.jsBytes / 1024)} KB (${bundle.jsFiles})`,
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
      `cold start: ${rounds} fresh processes per kind, alternating; import range tsc ${spread(samples.plain)}, bundle ${spread(samples.bundled)}; outside the worker @azure/functions runs in "test mode" (registrations skipped), so this is module load and evaluation time.`,
    ],
  };
}
