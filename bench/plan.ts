// Part 3: planning at scale — each size in a fresh child process (bench/plan-child.ts) so peak RSS is
// that size's alone; sizes run one after another (never in parallel) on the shared machine.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { fixed, int, progress, type BenchOptions, type PartResult, type Row } from './common.js';
import { semesterText, type PlanChildReport } from './plan-child.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./plan-child.js', import.meta.url));
const PEAK_RSS_TARGET_MB = 256;

export async function planChild(occurrences: number, breakdown = false): Promise<PlanChildReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tts-plan-'));
  try {
    const file = path.join(dir, 'semester.ics');
    await writeFile(file, semesterText(occurrences).text);
    const args = ['--expose-gc', CHILD, file, String(occurrences), ...(breakdown ? ['--breakdown'] : [])];
    const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
    const line = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as PlanChildReport;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchPlan(options: BenchOptions): Promise<PartResult> {
  const part = '3 plan';
  const sizes = options.quick ? [5_000, 10_000, 20_000] : [25_000, 100_000, 225_000];
  const reports: PlanChildReport[] = [];
  for (const size of sizes) {
    const report = await planChild(size);
    progress(
      options,
      `plan: ${report.occurrences} occurrences in ${report.totalMs.toFixed(0)} ms, peak RSS ${report.peakRssMb.toFixed(0)} MB`,
    );
    reports.push(report);
  }
  const rows: Row[] = [];
  for (const r of reports) {
    const label = `${int(r.occurrences)} occ.`;
    rows.push({
      part,
      figure: `${label}: expand / desired / plan`,
      value: `${fixed(r.expandMs, 0)} / ${fixed(r.desiredMs, 0)} / ${fixed(r.planMs, 0)} ms`,
    });
    rows.push({
      part,
      figure: `${label}: total, per 1k occurrences`,
      value: `${fixed(r.totalMs, 0)} ms, ${fixed((r.totalMs / r.occurrences) * 1000, 1)} ms`,
    });
    const last = r === reports[reports.length - 1];
    const after = r.peakRssAfterMb;
    rows.push({
      part,
      figure: `${label}: peak RSS (process at start)`,
      value: `${fixed(r.peakRssMb, 0)} MB (${fixed(r.baseRssMb, 0)} MB)`,
      ...(last ? { target: `<= ${PEAK_RSS_TARGET_MB} MB`, met: r.peakRssMb <= PEAK_RSS_TARGET_MB } : {}),
    });
    if (last) {
      rows.push({
        part,
        figure: `${label}: listByFeed of ${int(r.records)} rows`,
        value: `${fixed(r.recordsMs, 0)} ms`,
      });
      rows.push({
        part,
        figure: `${label}: maxRSS after expand/desired/rows/plan`,
        value: `${fixed(after.expand, 0)} / ${fixed(after.desired, 0)} / ${fixed(after.records, 0)} / ${fixed(r.peakRssMb, 0)} MB`,
      });
    }
  }
  const largest = sizes[sizes.length - 1] as number;
  const split = (await planChild(largest, true)).retainedMb;
  if (split) {
    rows.push({
      part,
      figure: `heap retained at ${int(largest)}: text/occ./sessions/records/plan`,
      value: `${fixed(split.text, 0)} / +${fixed(split.occurrences - split.text, 0)} / +${fixed(split.sessions - split.text, 0)} / +${fixed(split.records - split.sessions, 0)} / +${fixed(split.plan - split.records, 0)} MB`,
    });
  }
  const small = reports[0] as PlanChildReport;
  const large = reports[reports.length - 1] as PlanChildReport;
  const timeGrowth = large.totalMs / large.occurrences / (small.totalMs / small.occurrences);
  const memGrowth =
    (large.peakRssMb - large.baseRssMb) /
    large.occurrences /
    ((small.peakRssMb - small.baseRssMb) / small.occurrences);
  rows.push({
    part,
    figure: `time per occurrence, ${int(large.occurrences)} vs ${int(small.occurrences)}`,
    value: `${fixed(timeGrowth, 2)}x`,
    target: '<= 1.5x (linear)',
    met: timeGrowth <= 1.5,
  });
  rows.push({
    part,
    figure: `RSS growth per occurrence, ${int(large.occurrences)} vs ${int(small.occurrences)}`,
    value: `${fixed(memGrowth, 2)}x`,
    target: '<= 1.5x (linear)',
    met: memGrowth <= 1.5,
  });
  rows.push({
    part,
    figure: `operations planned at ${int(large.occurrences)}`,
    value: int(large.operations),
  });
  return {
    part,
    rows,
    notes: [
      "plan: one feed, 15-week semester from bench/expand-data.ts via bench/university.ts; in syncFeed's order: expand, desired sessions, occurrences dropped, listByFeed (the storage module against a fake TableClient serving the rows of an earlier sync as JSON pages of 1,000: 98 % unchanged, 1 % changed, 1 % new, 0.5 % removed), plan; each size in a fresh `node --expose-gc` child reading the text from a file; peak RSS = maxRSS of the child; total = expand + desired + plan (listByFeed apart: it includes the fake service's JSON); the heap split is a separate run with two full GCs after each phase, sessions counted from the text (occurrences already dropped).",
    ],
  };
}
