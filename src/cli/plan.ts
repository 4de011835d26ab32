// `timetable-sync plan --feed FILE|ID [--id FEED_ID] [--now ISO] [--json]`: dry run; nothing is written.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { decodeCalendarBody, dryRunPlan } from '../admin/feeds.js';
import { creationGuardWarning } from '../core/creationGuard.js';
import type { PlannedOperation } from '../core/plan.js';
import { UsageError, parseArgs } from './errors.js';
import { cliServices, clockFrom, formatTable } from './context.js';

function describe(op: PlannedOperation): [string, string, string, string] {
  if (op.kind === 'cancel') return [op.kind, op.record.start, op.record.subject, op.reason];
  return [op.kind, op.desired.start, op.desired.subject, op.desired.organizerEmail];
}

export async function run(args: string[]): Promise<number> {
  const { values, flags } = parseArgs(args, { values: ['feed', 'id', 'now'], flags: ['json'] });
  const target = values.get('feed');
  if (!target)
    throw new UsageError('usage: timetable-sync plan --feed FILE|ID [--id FEED_ID] [--now ISO] [--json]');
  const services = { ...(await cliServices()), now: clockFrom(values.get('now')) };
  const isFile = existsSync(target);
  const text = isFile
    ? decodeCalendarBody(await readFile(target), services.config.sync.maxFeedBytes, target)
    : undefined;
  const feedId = values.get('id') ?? (isFile ? 'dry-run' : target);
  const { plan, skipped, warnings, blockedOrganizers } = await dryRunPlan(services, feedId, text);
  if (flags.has('json')) {
    console.log(
      JSON.stringify(
        {
          counts: plan.counts,
          guard: plan.guard,
          operations: plan.operations,
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
    formatTable(['action', 'start (UTC)', 'subject', 'organizer / reason'], plan.operations.map(describe)),
  );
  console.log(
    `\n${Object.entries(plan.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (plan.guard.held)
    console.log(
      `deletion guard: holding ${plan.guard.wouldCancel} of ${plan.guard.futureMeetings} future meetings (${plan.guard.reason})`,
    );
  const creationWarning = creationGuardWarning(feedId, plan.creationGuard);
  if (creationWarning) console.log(`creation guard: ${creationWarning}`);
  for (const s of skipped.slice(0, 20)) console.log(`skipped (${s.reason}): ${s.detail}`);
  for (const w of warnings.slice(0, 20)) console.log(`warning: ${w.uid || '(no UID)'}: ${w.reason}`);
  for (const b of blockedOrganizers) console.log(`blocked organizer ${b.email}: ${b.reason}`);
  return 0;
}
