// `npm start`: with Graph and Storage settings (environment or local.settings.json) it syncs the real
// tenant; without them it runs the local demo. It says which it is doing.
import type { CommandArgs } from './args.js';
import { loadCliConfig } from './settings.js';
import { UsageError } from './errors.js';

/** The options `start` passes to the demo only. */
const DEMO_ONLY = ['keep', 'serve', 'port'];

export async function run(args: CommandArgs): Promise<number> {
  const config = loadCliConfig();
  if (config.graph && config.storage) {
    const demoOnly = DEMO_ONLY.find((name) => args.has(name));
    if (demoOnly)
      throw new UsageError(
        `start: --${demoOnly} applies to the demo only, and Graph settings are present (environment or ./local.settings.json), so \`start\` syncs the tenant at ${config.graph.graphBaseUrl}. ` +
          (/^https:\/\/127\./.test(config.graph.graphBaseUrl)
            ? `They point at a local stack the demo kept: \`timetable-sync dev up\` starts it again, \`timetable-sync demo --${demoOnly}\` runs the demo afresh`
            : `Leave --${demoOnly} out, or run \`timetable-sync demo --${demoOnly}\``),
      );
    console.log(
      `Syncing every enabled feed against tenant ${config.graph.tenantId} (Graph ${config.graph.graphBaseUrl}).`,
    );
    return (await import('./sync.js')).run(args);
  }
  console.log(
    'No GRAPH_* settings found: running the local demo (Azurite + Graph emulator + the bundled sample timetable).\n',
  );
  return (await import('./demo.js')).run(args);
}
