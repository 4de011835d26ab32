// Text rendering of run summaries shared by `sync`, `start` and the demo.
import type { RunSummary } from '../storage/index.js';
import { formatTable } from './context.js';

export const SUMMARY_COLUMNS = [
  'created',
  'updated',
  'cancelled',
  'unchanged',
  'blocked',
  'failed',
  'skipped',
  'held',
] as const;

export function formatRunTable(
  summaries: readonly RunSummary[],
  label: (s: RunSummary) => string = (s) => s.feedId,
): string {
  return formatTable(
    ['feed', 'outcome', ...SUMMARY_COLUMNS, 'graph calls', 'ms'],
    summaries.map((s) => [
      label(s),
      s.outcome,
      ...SUMMARY_COLUMNS.map((c) => s[c]),
      s.graphCalls,
      s.durationMs,
    ]),
  );
}
