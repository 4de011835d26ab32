// The performance harness is not a test (timings are never asserted), but it must keep working: run
// it in --quick mode (small sizes, real Azurite + Graph emulator, child processes, the esbuild bundle)
// and check that every figure's row is printed with a value. Needs `npm run build` (npm test does it).
// The two runs go at the same time, each in its own directory (the harness writes ./.bench/results.json
// there, not over the repository's): the scale part mostly waits on the emulator's ceiling.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dirs.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const harness = path.join(root, 'dist', 'bench', 'run.js');

/** [part, figure prefix] for every row the harness must print. */
const FIGURES: Array<[string, RegExp]> = [
  ['1 sync', /^sessions \/ lecturers \/ feeds$/],
  ['1 sync', /^meetings created \(emulator; duplicates\)$/],
  ['1 sync', /^wall time$/],
  ['1 sync', /^sessions\/s$/],
  ['1 sync', /^Graph requests accepted\/s/],
  ['1 sync', /^share of the ceiling reached$/],
  ['1 sync', /^Graph requests \/ answered 429$/],
  ['1 sync', /^share of requests answered 429$/],
  ['1 sync', /^sessions failed or blocked$/],
  ['1 sync', /^limiter: final \/ peak concurrency/],
  ['1 sync', /^Table calls/],
  ['1 sync', /^baseline, limiter max 1/],
  ['1 sync', /^baseline sessions\/s$/],
  ['1 sync', /^speed-up vs one-at-a-time$/],
  ['1 sync', /^upper bound of the speed-up under this ceiling$/],
  ['1 sync', /^no ceiling \(latency only\): sessions\/s/],
  ['2 steady', /^unchanged run: Graph calls/],
  ['2 steady', /^unchanged run: feed parses$/],
  ['2 steady', /^unchanged run: Table calls per feed$/],
  ['2 steady', /^unchanged run: meeting partition queries$/],
  ['2 steady', /^unchanged run: wall time/],
  ['2 steady', /^1 % moved: PATCH \/ POST \/ DELETE$/],
  ['2 steady', /^1 % moved: run summary/],
  ['2 steady', /^1 % moved: wall time$/],
  ['3 plan', /occ\.: expand \/ desired \/ plan$/],
  ['3 plan', /occ\.: total, per 1k occurrences$/],
  ['3 plan', /occ\.: peak RSS/],
  ['3 plan', /^time per occurrence,/],
  ['3 plan', /^RSS growth per occurrence,/],
  ['4 cold start', /^tsc output: import, median$/],
  ['4 cold start', /^bundle: import, median$/],
  ['4 cold start', /^bundle vs tsc output$/],
  ['4 cold start', /^bundle size/],
  ['5 tables', /^put\(\), one at a time: rows\/s$/],
  ['5 tables', /^put\(\), 16 in flight: rows\/s$/],
  ['5 tables', /^putMany\(\) \(100-row transactions\): rows\/s$/],
  ['5 tables', /^batched vs single \(one at a time\)$/],
];

/** Rows of the parts that run only when named (`npm run bench:scale`), for each instance count. */
const SCALE_FIGURES: Array<[string, RegExp]> = [
  ['6 scale', /^sessions \/ lecturers \/ feeds$/],
  ...['1 instance', '2 instances', '4 instances'].flatMap((n): Array<[string, RegExp]> => [
    ['6 scale', new RegExp(`^${n}: share of the ceiling reached$`)],
    ['6 scale', new RegExp(`^${n}: share of requests answered 429$`)],
    ['6 scale', new RegExp(`^${n}: wall time$`)],
    ['6 scale', new RegExp(`^${n}: duplicates / orphans$`)],
    ['6 scale', new RegExp(`^${n}: missing \\(sessions failed`)],
    ['6 scale', new RegExp(`^${n}: feeds synced twice at once$`)],
  ]),
  ['7 whole sync', /sessions: peak RSS \(at plan; process at start\)$/],
  ['7 whole sync', /sessions: created \/ updated \/ cancelled \/ unchanged \/ failed$/],
];

function tableRows(stdout: string): Array<{ part: string; figure: string; value: string }> {
  return stdout
    .split('\n')
    .filter((line) => / \| /.test(line) && !line.startsWith('part ') && !line.startsWith('---'))
    .map((line) => line.split(' | ').map((cell) => cell.trim()))
    .map(([part = '', figure = '', value = '']) => ({ part, figure, value }));
}

function expectRows(stdout: string, figures: ReadonlyArray<[string, RegExp]>): void {
  const rows = tableRows(stdout);
  for (const [part, figure] of figures) {
    const row = rows.find((r) => r.part === part && figure.test(r.figure));
    expect(row, `row "${part} | ${figure.source}" missing from:\n${stdout}`).toBeDefined();
    expect(row?.value, `row "${part} | ${row?.figure}" has no value`).not.toBe('');
    expect(row?.value).not.toMatch(/NaN|undefined/);
  }
}

const newDir = tempDirs('tts-bench-smoke-');

describe.concurrent('performance harness (--quick)', () => {
  it(
    'prints every figure with a value, the machine facts and the command line',
    { timeout: 300_000 },
    async () => {
      expect(existsSync(harness), `${harness} is missing: run npm run build`).toBe(true);
      const { stdout } = await run(process.execPath, [harness, '--quick', '--silent'], {
        cwd: newDir(),
        maxBuffer: 8 << 20,
        timeout: 280_000,
      });
      expect(stdout).toMatch(/^timetable-sync performance \(quick\) — .*run\.js --quick --silent/m);
      expect(stdout).toMatch(/^machine: \d+ cpus .* memory [\d.]+ GB total/m);
      expect(stdout).toMatch(/^node v\d+/m);
      expectRows(stdout, FIGURES);
      expect(stdout).toMatch(/^targets: \d+ met, \d+ missed/m);
    },
  );

  it(
    'scale-out and whole-sync memory (npm run bench:scale -- --quick): a row per instance count',
    { timeout: 300_000 },
    async () => {
      expect(existsSync(harness), `${harness} is missing: run npm run build`).toBe(true);
      const { stdout } = await run(process.execPath, [harness, 'scale', 'wholesync', '--quick', '--silent'], {
        cwd: newDir(),
        maxBuffer: 8 << 20,
        timeout: 280_000,
      });
      expect(stdout).toMatch(/^timetable-sync performance \(quick\) — .*run\.js scale wholesync --quick/m);
      expectRows(stdout, SCALE_FIGURES);
      expect(stdout).toMatch(/^targets: \d+ met, \d+ missed/m);
    },
  );
});
