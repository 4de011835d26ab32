// `timetable-sync attendance …`: turn collection on or off for a feed, collect now (in this process),
// export a feed's attendance as CSV or JSON, and erase one person's records (right to erasure).
import { writeFile } from 'node:fs/promises';

import { updateFeedSettings } from '../admin/feeds.js';
import { collectAttendance, type CollectSummary } from '../attendance/collect.js';
import {
  attendanceCsv,
  attendanceReport,
  eraseParticipant,
  parseAttendanceQuery,
} from '../attendance/report.js';
import { userError } from '../errors.js';
import { attendanceDepsFor } from '../handlers/attendance.js';
import type { CommandArgs } from './args.js';
import { cliLogger, cliServices, clockFrom, formatTable } from './context.js';

function feedOf(args: CommandArgs): string {
  const feedId = args.string('feed');
  if (!feedId) throw userError('missingOption', '--feed ID is required');
  return feedId;
}

async function setAttendance(args: CommandArgs, on: boolean): Promise<number> {
  const services = await cliServices();
  const feed = await updateFeedSettings(services, feedOf(args), { attendance: on });
  console.log(
    on
      ? `${feed.id}: attendance is collected after each session from now on (it needs the application permission OnlineMeetingArtifact.Read.All: README, Attendance)`
      : `${feed.id}: attendance is no longer collected (what is stored stays until ATTENDANCE_RETENTION_DAYS or an erasure)`,
  );
  return 0;
}

export const enable = (args: CommandArgs): Promise<number> => setAttendance(args, true);
export const disable = (args: CommandArgs): Promise<number> => setAttendance(args, false);

export async function collect(args: CommandArgs): Promise<number> {
  const services = await cliServices();
  if (!services.graph)
    throw userError(
      'graphNotConfigured',
      'GRAPH_TENANT_ID, GRAPH_CLIENT_ID and a credential are needed to collect attendance (or run `npm start` for the local demo)',
    );
  const deps = {
    ...attendanceDepsFor(services, cliLogger(args.flag('verbose'))),
    now: clockFrom(args.string('now')),
  };
  const only = args.string('feed');
  const feeds = await services.store.feeds.list();
  if (only !== undefined && !feeds.some((f) => f.id === only))
    throw userError(
      'feedNotFound',
      `--feed ${only}: no such feed (\`timetable-sync feeds list\` shows the feeds)`,
    );
  const ids = only !== undefined ? [only] : feeds.filter((f) => f.attendance === true).map((f) => f.id);
  const runs: CollectSummary[] = [];
  for (const feedId of ids) runs.push(await collectAttendance(deps, feedId));
  if (args.flag('json')) console.log(JSON.stringify({ runs }, null, 2));
  else if (runs.length === 0)
    console.log('no feed collects attendance (`timetable-sync attendance enable --feed ID` turns it on)');
  else
    console.log(
      formatTable(
        [
          'feed',
          'checked',
          'collected',
          'records',
          'waiting',
          'no report',
          'policy missing',
          'permission missing',
        ],
        runs.map((r) => [
          r.feedId,
          r.checked,
          r.collected,
          r.records,
          r.waiting,
          r.noReport,
          r.policyMissing,
          r.permissionMissing,
        ]),
      ),
    );
  return runs.some((r) => r.permissionMissing > 0 || r.failed > 0) ? 1 : 0;
}

export async function exportAttendance(args: CommandArgs): Promise<number> {
  const query = {
    from: args.string('from') ?? null,
    to: args.string('to') ?? null,
    by: args.string('by') ?? null,
    format: args.string('format') ?? null,
  };
  // Checked before anything is read: a bad value names its option.
  const { format } = parseOptions(query);
  const services = await cliServices();
  const report = await attendanceReport(services, feedOf(args), query);
  const text = format === 'csv' ? attendanceCsv(report) : `${JSON.stringify(report, null, 2)}\n`;
  const out = args.string('out');
  if (out) {
    await writeFile(out, text, { encoding: 'utf8', mode: 0o600 });
    console.error(`wrote ${out}: ${report.records} records of ${report.sessionsHeld} sessions held`);
  } else process.stdout.write(text);
  return 0;
}

function parseOptions(
  query: Parameters<typeof parseAttendanceQuery>[0],
): ReturnType<typeof parseAttendanceQuery> {
  try {
    return parseAttendanceQuery(query);
  } catch (error) {
    // The API's words name the query parameter; here it is the option.
    if (error instanceof Error) throw userError('badOption', `--${error.message}`);
    throw error;
  }
}

export async function erase(args: CommandArgs): Promise<number> {
  const services = await cliServices();
  const result = await eraseParticipant(services, cliLogger(false), {
    email: args.string('email') ?? null,
    participantId: args.string('participant-id') ?? null,
  });
  console.log(`erased ${result.records} attendance records in ${result.feeds} feeds`);
  return 0;
}
