// `npm run bench`: the performance harness for "Performance at university scale". Runs every part (or
// those named), then prints one table with the command line and machine facts, and writes the rows to
// .bench/results.json. Timing figures are not asserted by tests (test/integration/bench-smoke.test.ts
// only checks that every row is printed); `--strict` makes a missed target exit 1.
//
//   node dist/bench/run.js [sync] [steady] [plan] [cold] [tables] [scale] [wholesync] [--quick] [--strict] [--silent]
//
// `scale` (several worker processes) and `wholesync` (225,000 rows in Azurite) take minutes at full size
// and run only when named: `npm run bench:scale`.
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

import { machineFacts, parseOptions, progress, renderTable, type PartResult } from './common.js';
import { benchCold } from './cold.js';
import { benchPlan } from './plan.js';
import { benchScale } from './scale.js';
import { benchSteady, benchThroughput, type ThroughputOutcome } from './sync.js';
import { benchTables } from './tables.js';
import { benchWholeSync } from './wholesync.js';
import { startEnv, type BenchEnv } from './world.js';

export const PARTS = ['sync', 'steady', 'plan', 'cold', 'tables', 'scale', 'wholesync'] as const;
type PartName = (typeof PARTS)[number];
/** What `npm run bench` runs when no part is named. */
const DEFAULT_PARTS: readonly PartName[] = ['sync', 'steady', 'plan', 'cold', 'tables'];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const options = parseOptions(args);
  const unknown = options.parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    console.error(`unknown part(s): ${unknown.join(', ')}; choose from ${PARTS.join(', ')}`);
    return 2;
  }
  const selected = new Set<PartName>(
    options.parts.length > 0 ? (options.parts as PartName[]) : DEFAULT_PARTS,
  );
  const started = performance.now();
  const results: PartResult[] = [];
  let env: BenchEnv | null = null;
  const needsEnv =
    selected.has('sync') ||
    selected.has('steady') ||
    selected.has('tables') ||
    selected.has('scale') ||
    selected.has('wholesync');
  try {
    if (needsEnv) {
      progress(options, 'starting Azurite and the Graph emulator');
      env = await startEnv();
    }
    let throughput: ThroughputOutcome | undefined;
    if (selected.has('sync') && env) {
      throughput = await benchThroughput(env, options);
      results.push(throughput.result);
    }
    if (selected.has('steady') && env) results.push(await benchSteady(env, options, throughput));
    if (selected.has('tables') && env) results.push(await benchTables(env, options));
    if (selected.has('scale') && env) results.push(await benchScale(env, options));
    if (selected.has('wholesync') && env) results.push(await benchWholeSync(env, options));
  } finally {
    await env?.stop();
  }
  // CPU-bound parts run after the emulators are gone, so they do not share the two cores with them.
  if (selected.has('plan')) results.push(await benchPlan(options));
  if (selected.has('cold')) results.push(await benchCold(options));

  const rows = results.flatMap((r) => r.rows);
  const seconds = (performance.now() - started) / 1000;
  const missed = rows.filter((r) => r.met === false);
  const lines = [
    `timetable-sync performance (${options.quick ? 'quick' : 'full'}) — ${process.argv
      .slice(1)
      .map((a) => a.replace(/^.*\/dist\//, 'dist/'))
      .join(' ')}`,
    ...machineFacts(),
    '',
    renderTable(rows),
    '',
    ...results.flatMap((r) => r.notes),
    `targets: ${rows.filter((r) => r.met === true).length} met, ${missed.length} missed${missed.length ? ` (${missed.map((r) => `${r.part}: ${r.figure}`).join('; ')})` : ''}; harness ${seconds.toFixed(0)} s`,
  ];
  console.log(lines.join('\n'));
  await mkdir('.bench', { recursive: true });
  await writeFile(
    '.bench/results.json',
    `${JSON.stringify({ at: new Date().toISOString(), argv: args, quick: options.quick, seconds, results }, null, 2)}\n`,
  );
  return options.strict && missed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
