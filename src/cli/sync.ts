// `timetable-sync sync [--feed ID] [--now ISO] [--force] [--json] [--verbose]`: runs the sync here, now.
import { syncDepsFor } from '../handlers/sync.js';
import { FeedBusyError } from '../sync/fence.js';
import { syncFeed } from '../sync/syncFeed.js';
import type { RunSummary } from '../storage/index.js';
import type { CommandArgs } from './args.js';
import { cliLogger, cliServices, clockFrom } from './context.js';
import { formatRunTable } from './report.js';
import { userError } from '../errors.js';

export async function run(args: CommandArgs): Promise<number> {
  const services = await cliServices();
  if (!services.graph)
    throw userError(
      'graphNotConfigured',
      'GRAPH_TENANT_ID, GRAPH_CLIENT_ID and a credential are needed to sync (or run `npm start` for the local demo)',
    );
  const deps = {
    ...syncDepsFor(services, cliLogger(args.flag('verbose'))),
    now: clockFrom(args.string('now')),
  };
  const only = args.string('feed');
  if (only !== undefined && !(await services.store.feeds.get(only)))
    throw userError(
      'feedNotFound',
      `--feed ${only}: no such feed (\`timetable-sync feeds list\` shows the feeds; \`feeds add\` registers one)`,
    );
  const feedIds = args.has('feed')
    ? [args.string('feed') as string]
    : (await services.store.feeds.list()).filter((f) => f.enabled).map((f) => f.id);
  const summaries: RunSummary[] = [];
  const showProgress = process.stderr.isTTY && !args.flag('json') && feedIds.length > 1;
  for (const [index, feedId] of feedIds.entries()) {
    if (showProgress) process.stderr.write(`\rsyncing ${index + 1}/${feedIds.length}: ${feedId.padEnd(40)}`);
    try {
      summaries.push(await syncFeed(deps, feedId, { force: args.flag('force') }));
    } catch (error) {
      if (!(error instanceof FeedBusyError)) throw error;
      // Another run (the deployed daemon, another terminal) is syncing it: that run does the work.
      console.error(`${feedId}: ${error.message}; not synced here`);
    }
  }
  if (showProgress) process.stderr.write('\r\x1b[K');
  console.log(
    args.flag('json')
      ? JSON.stringify({ runs: summaries }, null, 2)
      : summaries.length
        ? formatRunTable(summaries)
        : 'no enabled feeds: nothing to sync (`timetable-sync feeds list` shows every feed)',
  );
  return summaries.some((s) => s.outcome === 'failed') ? 1 : 0;
}
