// `timetable-sync status [--json]`: last run per feed, meeting states, blocked sessions by reason, poison messages.
import { buildStatus } from '../admin/status.js';
import type { CommandArgs } from './args.js';
import { cliServices, formatTable } from './context.js';

export async function run(args: CommandArgs): Promise<number> {
  const status = await buildStatus(await cliServices());
  if (args.flag('json')) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  if (status.feeds.length === 0)
    console.log(
      'no feeds yet: add one with `timetable-sync feeds add ID --file FILE` (or run `npm start -- --keep`)',
    );
  else
    console.log(
      formatTable(
        ['feed', 'last run', 'outcome', 'active', 'blocked', 'failed', 'guard'],
        status.feeds.map((f) => [
          f.id,
          f.lastRun?.finishedAt ?? '-',
          f.lastRun?.outcome ?? '-',
          f.meetings.active,
          f.meetings.blocked,
          f.meetings.failed,
          [
            f.guard?.held ? `holding ${f.guard.wouldCancel} cancels` : null,
            f.creationGuard?.held ? `holding ${f.creationGuard.heldCreates} new meetings` : null,
          ]
            .filter((part) => part !== null)
            .join(', ') || '-',
        ]),
      ),
    );
  for (const b of status.blocked)
    console.log(`blocked (${b.code}): ${b.sessions} sessions${b.example ? ` — ${b.example}` : ''}`);
  if (status.poison.count > 0)
    console.log(`poison messages: ${status.poison.count} (${status.poison.feedIds.join(', ')})`);
  return 0;
}
