// The Graph rate each syncing instance of the app has learned (src/core/rateShare.ts): one row per
// instance in the feeds table, written only by that instance, so the rows never race.
import type { TableClient } from '@azure/data-tables';

import type { RateReport } from '../core/rateShare.js';
import { azureTable } from './entity.js';
import { ConcurrencyError, NotFoundError } from './errors.js';
import { entity, readRow, requireKey, type Table } from './table.js';

const RATE_PARTITION = 'graph-rate';

export interface GraphRateRepository {
  /** Writes this instance's report over its previous one. */
  report(report: RateReport): Promise<void>;
  /** Every instance's latest report. */
  list(): Promise<RateReport[]>;
  /** Deletes an instance's row (one long gone). */
  remove(instance: string): Promise<void>;
}

export function createGraphRateRepository(client: TableClient, table: string): GraphRateRepository {
  return graphRateRepository(azureTable(client, table));
}

export function graphRateRepository(rows: Table): GraphRateRepository {
  /** The etag of each row this process wrote: a report replaces its own row without reading it first. */
  const etags = new Map<string, string>();
  const write = async (report: RateReport): Promise<void> => {
    const row = entity(RATE_PARTITION, requireKey(report.instance, 'instance id'), {
      ceiling: report.ceiling,
      at: report.at,
      left: report.left,
      idle: report.idle,
    });
    etags.set(report.instance, await rows.write(row, etags.get(report.instance)));
  };
  return {
    async report(report) {
      try {
        await write(report);
      } catch (error) {
        if (!(error instanceof ConcurrencyError) && !(error instanceof NotFoundError)) throw error;
        // Deleted as long gone (this process was suspended), or never written from here: start afresh.
        const current = await rows.read(RATE_PARTITION, report.instance);
        if (current) etags.set(report.instance, current.etag);
        else etags.delete(report.instance);
        await write(report);
      }
    },
    list: () =>
      rows.mapPartition(RATE_PARTITION, (row) => {
        const r = readRow(row, rows.name);
        return {
          instance: r.rowKey,
          ceiling: r.numberOrNull('ceiling'),
          at: r.number('at'),
          left: r.boolean('left'),
          idle: r.booleanOrNull('idle') ?? false,
        };
      }),
    async remove(instance) {
      await rows.delete(RATE_PARTITION, requireKey(instance, 'instance id'));
      etags.delete(instance);
    },
  };
}
