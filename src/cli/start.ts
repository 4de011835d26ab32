// `npm start`: with Graph and Storage settings (environment or local.settings.json) it syncs the real
// tenant; without them it runs the local demo. It says which it is doing.
import { loadCliConfig } from './context.js';

export async function run(args: string[]): Promise<number> {
  const config = loadCliConfig();
  if (config.graph && config.storage) {
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
