// `timetable-sync policy grant|list|script`: record Grant-CsApplicationAccessPolicy runs and see who lacks one.
import { listOrganizerPolicies, policyScript, recordPolicyGrant } from '../admin/policies.js';
import type { CommandArgs } from './args.js';
import { cliServices, formatTable } from './context.js';

/** `policy grant (--user EMAIL|OBJECT_ID | --global) [--at ISO]` */
export async function grant(args: CommandArgs): Promise<number> {
  const services = await cliServices();
  const { objectId, email, record } = await recordPolicyGrant(services, {
    ...(args.has('user') ? { user: args.string('user') } : {}),
    ...(args.flag('global') ? { global: true } : {}),
    ...(args.has('at') ? { grantedAt: args.string('at') } : {}),
  });
  console.log(
    `recorded grant for ${email ? `${email} (${objectId})` : objectId} at ${record.grantedAt}; state ${record.state}. Graph may take up to 30 minutes to honour it; the sync retries meanwhile.`,
  );
  return 0;
}

/** `policy list [--json]` */
export async function list(args: CommandArgs): Promise<number> {
  const { global, organizers } = await listOrganizerPolicies(await cliServices());
  if (args.flag('json')) {
    console.log(JSON.stringify({ global, organizers }, null, 2));
    return 0;
  }
  if (global) console.log(`global grant recorded at ${global.grantedAt}`);
  if (organizers.length === 0) {
    console.log(
      'no lecturers yet: they appear once a feed names them and a sync has looked them up (`timetable-sync sync`)',
    );
    return 0;
  }
  console.log(
    formatTable(
      ['organizer', 'object id', 'state', 'since', 'blocked'],
      organizers.map((o) => [o.email || '-', o.objectId ?? '-', o.state, o.since ?? '-', o.blockedSessions]),
    ),
  );
  return 0;
}

/** `policy script` */
export async function script(): Promise<number> {
  const services = await cliServices();
  process.stdout.write(await policyScript(services, services.config.graph?.clientId ?? null));
  return 0;
}
