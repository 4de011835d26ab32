// `timetable-sync feeds add|list|remove|confirm|sync`: the admin feed operations from a terminal.
import { removeFeed } from '../admin/feedRemoval.js';
import { readFile } from 'node:fs/promises';

import {
  confirmCancellations,
  confirmCreations,
  registerFeedUrl,
  requestSync,
  uploadFeed,
  type FeedSettingsInput,
} from '../admin/feeds.js';
import { UsageError, parseArgs } from './errors.js';
import { cliLogger, cliServices, formatTable } from './context.js';
import { userError } from '../errors.js';

const USAGE = `usage:
  timetable-sync feeds add ID (--file FILE | --url URL) [--organizer EMAIL] [--tz ZONE] [--horizon-days N] [--disabled]
  timetable-sync feeds list [--json]
  timetable-sync feeds remove ID [--cancel-meetings]
  timetable-sync feeds confirm ID        (lets the deletion guard's held cancellations go ahead)
  timetable-sync feeds confirm ID --creations  (lets the creation guard's held new meetings go ahead)
  timetable-sync feeds sync ID           (enqueue a sync now)`;

function settingsFrom(values: Map<string, string>, flags: Set<string>): FeedSettingsInput {
  const horizon = values.get('horizon-days');
  return {
    ...(values.has('organizer') ? { defaultOrganizer: values.get('organizer') } : {}),
    ...(values.has('tz') ? { timeZone: values.get('tz') } : {}),
    ...(horizon !== undefined ? { horizonDays: Number(horizon) } : {}),
    ...(flags.has('disabled') ? { enabled: false } : {}),
  };
}

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { positionals, values, flags } = parseArgs(rest, {
    values: ['file', 'url', 'organizer', 'tz', 'horizon-days'],
    flags: ['json', 'cancel-meetings', 'disabled', 'creations'],
  });
  const id = positionals[0];
  if (!action || (action !== 'list' && !id)) throw new UsageError(USAGE);
  const services = await cliServices();
  switch (action) {
    case 'add': {
      const settings = settingsFrom(values, flags);
      if (values.has('file') === values.has('url'))
        throw new UsageError(`give exactly one of --file or --url\n${USAGE}`);
      if (values.has('url')) {
        const { created } = await registerFeedUrl(
          services,
          id as string,
          values.get('url') as string,
          settings,
        );
        console.log(`${created ? 'registered' : 'updated'} URL feed ${id}`);
        return 0;
      }
      const path = values.get('file') as string;
      const body = await readFile(path).catch(() => {
        throw userError('unreadableFile', `cannot read ${path}`);
      });
      const result = await uploadFeed(services, id as string, body, settings);
      const warnings = result.warnings.length + result.warningsOmitted;
      const skipped = result.skipped.length + result.skippedOmitted;
      const byReason = Object.entries(result.skippedByReason).map(([reason, n]) => `${n} ${reason}`);
      console.log(
        `${result.created ? 'added' : 'updated'} feed ${id}: ${result.sessions} sessions in the horizon, ${warnings} warnings, ${skipped} skipped${byReason.length > 0 ? ` (${byReason.join(', ')})` : ''}`,
      );
      // The answer lists at most 50 of each (UIDs cut); 20 are printed, then how many more there are.
      for (const w of result.warnings.slice(0, 20))
        console.log(`  warning: ${w.uid || '(no UID)'}${w.line ? ` line ${w.line}` : ''}: ${w.reason}`);
      if (result.creationGuard) console.log(`  creation guard: ${result.creationGuard.warning}`);
      if (warnings > 20) console.log(`  … and ${warnings - 20} more warnings`);
      return 0;
    }
    case 'list': {
      const feeds = await services.store.feeds.list();
      if (flags.has('json'))
        console.log(
          JSON.stringify(
            feeds.map(({ calendarToken: _token, etag: _etag, ...f }) => f),
            null,
            2,
          ),
        );
      else
        console.log(
          formatTable(
            ['feed', 'source', 'enabled', 'last run', 'outcome', 'created', 'blocked', 'guard'],
            feeds.map((f) => [
              f.id,
              f.source === 'url' ? (f.url ?? '') : 'upload',
              String(f.enabled),
              f.lastRun?.finishedAt ?? '-',
              f.lastRun?.outcome ?? '-',
              f.lastRun?.created ?? 0,
              f.lastRun?.blocked ?? 0,
              [
                f.guard?.held ? `held (${f.guard.wouldCancel})` : null,
                f.creationGuard?.held ? `new meetings held (${f.creationGuard.heldCreates})` : null,
              ]
                .filter((part) => part !== null)
                .join(', ') || '-',
            ]),
          ),
        );
      return 0;
    }
    case 'remove': {
      const result = await removeFeed({ ...services, logger: cliLogger(false) }, id as string, {
        cancelFutureMeetings: flags.has('cancel-meetings'),
      });
      console.log(
        result.status === 'queued'
          ? `feed ${id} is being synced right now: the removal is queued, and that sync removes the feed itself within a minute (check with \`timetable-sync feeds list\`)`
          : `removed feed ${id}: ${result.cancelled} future meetings cancelled, ${result.kept} kept`,
      );
      return 0;
    }
    case 'confirm':
      if (flags.has('creations')) {
        await confirmCreations(services, id as string);
        console.log(`confirmed: the next sync of ${id} creates the new meetings the creation guard held`);
        return 0;
      }
      await confirmCancellations(services, id as string);
      console.log(`confirmed: the next sync of ${id} applies its held cancellations`);
      return 0;
    case 'sync':
      await requestSync(services, id as string, 'cli');
      console.log(`sync of ${id} enqueued`);
      return 0;
    default:
      throw new UsageError(USAGE);
  }
}
