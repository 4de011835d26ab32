// `timetable-sync plan (--feed ID | --file FILE [--feed ID]) [--now ISO] [--json]`: dry run, nothing is
// written. `--feed ID` plans the stored feed; `--file FILE` plans that file as the feed's next upload.
import { readFile } from 'node:fs/promises';

import { decodeCalendarBody, dryRunPlan } from '../admin/feeds.js';
import { creationGuardWarning } from '../core/creationGuard.js';
import type { PlannedOperation, SyncPlan } from '../core/plan.js';
import type { CommandArgs } from './args.js';
import { cliServices, clockFrom, formatTable } from './context.js';
import { aboutFile, unreadableFile } from './errors.js';

/** The feed id a file is planned under when no `--feed` says which feed it would update. */
const PREVIEW_FEED_ID = 'preview';

/** What a person reads first: creates, moves, updates, then what goes away. Other kinds follow. */
const KIND_ORDER = ['create', 'move', 'update', 'replace', 'cancel'];
const KIND_TITLE: Record<string, string> = {
  create: 'new meetings',
  move: 'moved',
  update: 'updated',
  replace: 'new organizer (meeting replaced)',
  cancel: 'cancelled',
};

/** Session, time and lecturer of an operation, whatever its kind. */
function row(op: PlannedOperation): [string, string, string, string] {
  const session = 'desired' in op ? op.desired : op.record;
  const was =
    'desired' in op && op.record && op.record.start !== op.desired.start ? ` (was ${op.record.start})` : '';
  const reason = 'reason' in op ? String(op.reason) : '';
  return [session.start + was, session.subject, session.organizerEmail || '-', reason];
}

function byKind(ops: readonly PlannedOperation[]): Array<[string, PlannedOperation[]]> {
  const groups = new Map<string, PlannedOperation[]>();
  for (const op of ops) groups.set(op.kind, [...(groups.get(op.kind) ?? []), op]);
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return [...groups].sort(([a], [b]) => rank(a) - rank(b));
}

/** The guards' sentences for a plan: what they will hold and the command that releases it. */
export function guardLines(feedId: string, plan: SyncPlan): string[] {
  const lines: string[] = [];
  if (plan.guard.held)
    lines.push(
      `deletion guard: holds ${plan.guard.wouldCancel} cancellations of ${plan.guard.futureMeetings} future meetings (${plan.guard.reason}); see them with \`timetable-sync plan --feed ${feedId}\`, let them go ahead with \`timetable-sync feeds confirm ${feedId}\``,
    );
  const creation = creationGuardWarning(feedId, plan.creationGuard);
  if (creation) lines.push(`creation guard: ${creation}`);
  return lines;
}

export async function run(args: CommandArgs): Promise<number> {
  const file = args.string('file');
  const body =
    file === undefined
      ? undefined
      : await readFile(file).catch((e: unknown) => Promise.reject(unreadableFile('--file', file, e)));
  const services = { ...(await cliServices()), now: clockFrom(args.string('now')) };
  const text =
    body && file ? decodeCalendarBody(body, services.config.sync.maxFeedBytes, `--file ${file}`) : undefined;
  const feedId = args.string('feed') ?? PREVIEW_FEED_ID;
  const dryRun = () => dryRunPlan(services, feedId, text);
  const { plan, skipped, skippedOmitted, warnings, warningsOmitted, blockedOrganizers } = await (file
    ? aboutFile('--file', file, dryRun)
    : dryRun());
  if (args.flag('json')) {
    console.log(
      JSON.stringify(
        {
          feedId,
          counts: plan.counts,
          guard: plan.guard,
          creationGuard: plan.creationGuard,
          operations: plan.operations,
          held: plan.held,
          skipped,
          warnings,
          blockedOrganizers,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(
    file
      ? `plan of ${file} as ${args.has('feed') ? `the next upload of feed ${feedId}` : 'a new feed'} (nothing is stored):`
      : `plan of feed ${feedId} (nothing is changed):`,
  );
  const sections: Array<[string, PlannedOperation[]]> = [
    ...byKind(plan.operations).map(([kind, ops]): [string, PlannedOperation[]] => [
      KIND_TITLE[kind] ?? kind,
      ops,
    ]),
    ...byKind(plan.held).map(([kind, ops]): [string, PlannedOperation[]] => [
      `held by a guard: ${KIND_TITLE[kind] ?? kind}`,
      ops,
    ]),
  ];
  if (sections.length === 0) console.log('\nnothing to create, update or cancel');
  for (const [title, ops] of sections) {
    // Moved series first say how far they moved: "10 sessions moved +1 h" (each keeps its meeting).
    const moved = title === KIND_TITLE.move ? plan.moves.map((m) => m.text).join(', ') : '';
    console.log(`\n${title} (${ops.length})${moved ? `: ${moved}, each keeping its meeting and link` : ''}:`);
    console.log(formatTable(['start (UTC)', 'session', 'lecturer', 'why'], ops.map(row)));
  }
  if (blockedOrganizers.length > 0) {
    console.log(`\nblocked lecturers (${blockedOrganizers.length}):`);
    for (const b of blockedOrganizers) console.log(`  ${b.email}: ${b.reason}`);
  }
  console.log(
    `\n${plan.counts.unchanged} unchanged, ${plan.counts.waiting} waiting for a retry, ${skipped.length + skippedOmitted} sessions skipped, ${warnings.length + warningsOmitted} warnings about events (each says what became of its event)`,
  );
  for (const line of guardLines(feedId, plan)) console.log(line);
  for (const s of skipped.slice(0, 20)) console.log(`skipped (${s.reason}): ${s.detail}`);
  for (const w of warnings.slice(0, 20)) console.log(`warning: ${w.uid || '(no UID)'}: ${w.reason}`);
  return 0;
}
