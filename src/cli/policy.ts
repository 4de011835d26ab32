// `timetable-sync policy grant|list|script`: record Grant-CsApplicationAccessPolicy runs and see who lacks one.
import { listOrganizerPolicies, policyScript, recordPolicyGrant } from '../admin/policies.js';
import { UsageError, parseArgs } from './errors.js';
import { cliServices, formatTable } from './context.js';

const USAGE = `usage:
  timetable-sync policy grant (--user EMAIL|OBJECT_ID | --global) [--at ISO]
  timetable-sync policy list [--json]
  timetable-sync policy script`;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, flags } = parseArgs(rest, { values: ['user', 'at'], flags: ['global', 'json'] });
  const services = await cliServices();
  switch (action) {
    case 'grant': {
      const { objectId, email, record } = await recordPolicyGrant(services, {
        ...(values.has('user') ? { user: values.get('user') } : {}),
        ...(flags.has('global') ? { global: true } : {}),
        ...(values.has('at') ? { grantedAt: values.get('at') } : {}),
      });
      console.log(
        `recorded grant for ${email ? `${email} (${objectId})` : objectId} at ${record.grantedAt}; state ${record.state}. Graph may take up to 30 minutes to honour it; the sync retries meanwhile.`,
      );
      return 0;
    }
    case 'list': {
      const { global, organizers } = await listOrganizerPolicies(services);
      if (flags.has('json')) {
        console.log(JSON.stringify({ global, organizers }, null, 2));
        return 0;
      }
      if (global) console.log(`global grant recorded at ${global.grantedAt}`);
      console.log(
        formatTable(
          ['organizer', 'object id', 'state', 'since', 'blocked'],
          organizers.map((o) => [o.email, o.objectId ?? '-', o.state, o.since ?? '-', o.blockedSessions]),
        ),
      );
      return 0;
    }
    case 'script':
      process.stdout.write(await policyScript(services, services.config.graph?.clientId ?? null));
      return 0;
    default:
      throw new UsageError(USAGE);
  }
}
