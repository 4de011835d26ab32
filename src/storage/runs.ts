import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { InvalidInputError } from './errors.js';
import { azureTable } from './entity.js';
import { entity, readPartition, readRow, requireFeedId, type StoredRow, type Table } from './table.js';
import type { RunOutcome, RunSummary } from './types.js';

/**
 * Every run is written twice: under its feed (history of one feed) and under this partition (latest
 * runs of all feeds, one query). Feed ids start with a letter or digit, so `_all` never collides.
 */
export const ALL_RUNS_PARTITION = '_all';
/** Largest valid Date value in ms; subtracting from it makes newer runs sort first (RowKeys sort as strings). */
const MAX_TIME_MS = 8_640_000_000_000_000;
/** Table string properties hold ≤64 KiB; a run message is a summary, not a log. */
const MAX_MESSAGE_LENGTH = 2_000;
const OUTCOMES: readonly RunOutcome[] = ['completed', 'partial', 'failed', 'skipped', 'unchanged'];
const COUNTS = [
  'created',
  'updated',
  'cancelled',
  'unchanged',
  'blocked',
  'failed',
  'skipped',
  'held',
  'graphCalls',
  'throttled',
] as const;

export interface RunRepository {
  add(summary: RunSummary): Promise<void>;
  /** Newest first (by finishedAt). */
  latest(feedId: string, limit: number): Promise<RunSummary[]>;
  /** Newest first across all feeds. */
  latestAll(limit: number): Promise<RunSummary[]>;
}

export function runRowKey(finishedAt: string): string {
  const ms = Date.parse(finishedAt);
  if (Number.isNaN(ms))
    throw new InvalidInputError(`run finishedAt ${JSON.stringify(finishedAt)} is not a date`);
  // The random suffix keeps two runs finishing in the same millisecond apart.
  return `${String(MAX_TIME_MS - ms).padStart(16, '0')}-${randomBytes(4).toString('hex')}`;
}

export function createRunRepository(client: TableClient, table: string): RunRepository {
  return runRepository(azureTable(client, table));
}

/** The repository on any Table adapter (Azure above, or the in-memory one). */
export function runRepository(rows: Table): RunRepository {
  const table = rows.name;
  return {
    async add(summary) {
      const rowKey = runRowKey(summary.finishedAt);
      const properties = {
        feedId: requireFeedId(summary.feedId),
        startedAt: summary.startedAt,
        finishedAt: summary.finishedAt,
        durationMs: summary.durationMs,
        ...Object.fromEntries(COUNTS.map((name) => [name, summary[name]])),
        outcome: summary.outcome,
        message: summary.message?.slice(0, MAX_MESSAGE_LENGTH),
      };
      await rows.write(entity(summary.feedId, rowKey, properties), undefined);
      await rows.write(entity(ALL_RUNS_PARTITION, rowKey, properties), undefined);
    },
    async latest(feedId, limit) {
      return (await readPartition(rows, requireFeedId(feedId), { limit: positive(limit) })).map((row) =>
        fromEntity(row, table),
      );
    },
    async latestAll(limit) {
      return (await readPartition(rows, ALL_RUNS_PARTITION, { limit: positive(limit) })).map((row) =>
        fromEntity(row, table),
      );
    },
  };
}

function positive(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidInputError('runs limit must be a positive integer');
  return limit;
}

function fromEntity(row: StoredRow, table: string): RunSummary {
  const r = readRow(row, table);
  const message = r.stringOrNull('message');
  const summary: RunSummary = {
    feedId: r.string('feedId'),
    startedAt: r.string('startedAt'),
    finishedAt: r.string('finishedAt'),
    durationMs: r.number('durationMs'),
    created: r.number('created'),
    updated: r.number('updated'),
    cancelled: r.number('cancelled'),
    unchanged: r.number('unchanged'),
    blocked: r.number('blocked'),
    failed: r.number('failed'),
    skipped: r.number('skipped'),
    held: r.number('held'),
    graphCalls: r.number('graphCalls'),
    throttled: r.number('throttled'),
    outcome: r.oneOf('outcome', OUTCOMES),
  };
  if (message !== null) summary.message = message;
  return summary;
}
