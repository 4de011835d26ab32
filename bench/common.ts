// Shared pieces of the performance harness: options, machine facts, the result table, small stats.
// Figures are rows (part, figure, value, target, met); every part returns rows and the runner prints
// one table, so a ratio is always computed from two measurements taken in the same run.
import { cpus, freemem, totalmem, type as osType, release } from 'node:os';

export interface BenchOptions {
  /** Small sizes: the whole harness in seconds (smoke test, CI). */
  quick: boolean;
  /** Exit non-zero when a target is missed. */
  strict: boolean;
  /** Print progress lines to stderr. */
  verbose: boolean;
}

export interface Row {
  part: string;
  figure: string;
  value: string;
  /** Human-readable target, e.g. ">= 90 %". */
  target?: string;
  /** true = met, false = missed, undefined = informational. */
  met?: boolean;
}

export interface PartResult {
  part: string;
  rows: Row[];
  /** Free-form lines printed under the table (settings used, caveats). */
  notes: string[];
}

export function parseOptions(argv: readonly string[]): BenchOptions & { parts: string[] } {
  const parts = argv.filter((a) => !a.startsWith('--'));
  return {
    parts,
    quick: argv.includes('--quick'),
    strict: argv.includes('--strict'),
    verbose: !argv.includes('--silent'),
  };
}

export function progress(options: Pick<BenchOptions, 'verbose'>, message: string): void {
  if (options.verbose) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function machineFacts(): string[] {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown cpu';
  const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return [
    `machine: ${list.length} cpus (${model}), memory ${gb(totalmem())} total / ${gb(freemem())} free, ${osType()} ${release()}`,
    `node ${process.version}, ${process.arch}; started ${new Date().toISOString()}`,
  ];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : String(n);
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

export function percent(share: number, digits = 1): string {
  return `${fixed(share * 100, digits)} %`;
}

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.part,
    r.figure,
    r.value,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['part', 'figure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string =>
    c
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), rule, ...cells.map(line)].join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `tasks` with at most `parallel` in flight, in order; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  parallel: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}
