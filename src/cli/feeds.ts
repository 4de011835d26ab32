// `timetable-sync feeds add|list|remove|confirm|sync`: the admin feed operations from a terminal.
import { removeFeed } from '../admin/feedRemoval.js';
import { readFile } from 'node:fs/promises';

import {
  confirmCancellations,
  confirmCreations,
  dryRunPlan,
  registerFeedUrl,
  requestSync,
  uploadFeed,
  type FeedSettingsInput,
} from '../admin/feeds.js';
import type { CommandArgs } from './args.js';
import { UsageError, aboutFile, unreadableFile } from './errors.js';
import { cliLogger, cliServices, formatTable } from './context.js';
import { guardLines } from './plan.js';
import { validateFeedId } from '../storage/index.js';

/** The ID argument, checked here so that the message names it as typed (not as the API names it). */
function feedIdArg(args: CommandArgs): string {
  const id = args.positionals[0] as string;
  if (validateFeedId(id) !== null)
    throw new UsageError(
      `ID '${id.slice(0, 80)}' is not a feed id: use 1-63 letters, digits, '-' or '_', starting with a letter or digit`,
    );
  return id;
}

function settingsFrom(args: CommandArgs): FeedSettingsInput {
  const horizon = args.string('horizon-days');
  if (horizon !== undefined && !/^\d+$/.test(horizon))
    throw new UsageError(`--horizon-days must be a whole number of days from 1 to 400, got '${horizon}'`);
  return {
    ...(args.has('organizer') ? { defaultOrganizer: args.string('organizer') } : {}),
    ...(args.has('tz') ? { timeZone: args.string('tz') } : {}),
    ...(horizon !== undefined ? { horizonDays: Number(horizon) } : {}),
    ...(args.flag('disabled') ? { enabled: false } : {}),
  };
}

/** `feeds add ID (--file FILE | --url URL) [--organizer EMAIL] [--tz ZONE] [--horizon-days N] [--disabled]` */
export async function add(args: CommandArgs): Promise<number> {
  const id = feedIdArg(args);
  const settings = settingsFrom(args);
  const url = args.string('url');
  const file = args.string('file');
  let body: Buffer | undefined;
  if (file !== undefined)
    body = await readFile(file).catch((error: unknown) =>
      Promise.reject(unreadableFile('--file', file, error)),
    );
  const services = await cliServices();
  if (url !== undefined) {
    const { created } = await registerFeedUrl(services, id, url, settings);
    console.log(`${created ? 'registered' : 'updated'} URL feed ${id}: it is fetched on its next sync`);
    return 0;
  }
  const result = await aboutFile('--file', file as string, () =>
    uploadFeed(services, id, body as Buffer, settings),
  );
  const warnings = result.warnings.length + result.warningsOmitted;
  const skipped = result.skipped.length + result.skippedOmitted;
  const byReason = Object.entries(result.skippedByReason).map(([reason, n]) => `${n} ${reason}`);
  console.log(
    `${result.created ? 'added' : 'updated'} feed ${id}: ${result.sessions} sessions in the horizon, ${warnings} warnings, ${skipped} skipped${byReason.length > 0 ? ` (${byReason.join(', ')})` : ''}`,
  );
  // The answer lists at most 50 of each (UIDs cut); 20 are printed, then how many more there are.
  for (const w of result.warnings.slice(0, 20))
    console.log(`  warning: ${w.uid || '(no UID)'}${w.line ? ` line ${w.line}` : ''}: ${w.reason}`);
  if (warnings > 20) console.log(`  … and ${warnings - 20} more warnings`);
  // What the next sync will do with it: a guard that will hold is said here, not discovered later.
  const { plan } = await dryRunPlan(services, id);
  for (const line of guardLines(id, plan)) console.log(`  ${line}`);
  return 0;
}

/** `feeds list [--json]` */
export async function list(args: CommandArgs): Promise<number> {
  const feeds = await (await cliServices()).store.feeds.list();
  if (args.flag('json')) {
    console.log(
      JSON.stringify(
        feeds.map(({ calendarToken: _token, etag: _etag, ...f }) => f),
        null,
        2,
      ),
    );
    return 0;
  }
  if (feeds.length === 0) {
    console.log(
      'no feeds yet: add one with `timetable-sync feeds add ID --file FILE` (or run `npm start -- --keep`)',
    );
    return 0;
  }
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

/** `feeds remove ID [--cancel-meetings]` */
export async function remove(args: CommandArgs): Promise<number> {
  const id = feedIdArg(args);
  const services = await cliServices();
  const result = await removeFeed({ ...services, logger: cliLogger(false) }, id, {
    cancelFutureMeetings: args.flag('cancel-meetings'),
  });
  console.log(
    result.status === 'queued'
      ? `feed ${id} is being synced right now: the removal is queued, and that sync removes the feed itself within a minute (check with \`timetable-sync feeds list\`)`
      : `removed feed ${id}: ${result.cancelled} future meetings cancelled, ${result.kept} kept`,
  );
  return 0;
}

/** `feeds confirm ID [--creations]` */
export async function confirm(args: CommandArgs): Promise<number> {
  const id = feedIdArg(args);
  const services = await cliServices();
  if (args.flag('creations')) {
    await confirmCreations(services, id);
    console.log(`confirmed: the next sync of ${id} creates the new meetings the creation guard held`);
    return 0;
  }
  await confirmCancellations(services, id);
  console.log(`confirmed: the next sync of ${id} applies its held cancellations`);
  return 0;
}

/** `feeds sync ID` */
export async function enqueue(args: CommandArgs): Promise<number> {
  const id = feedIdArg(args);
  await requestSync(await cliServices(), id, 'cli');
  console.log(
    `sync of ${id} enqueued: the queue worker runs it (\`timetable-sync sync --feed ${id}\` runs it here, now)`,
  );
  return 0;
}
