// `timetable-sync` command: dispatches to one module per command so that each command loads only
// what it needs (the emulator or Azurite are never imported by `expand`).
import { UsageError, cliExitCode, formatCliError } from './cli/errors.js';

type CommandModule = { run(args: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  expand: {
    summary: 'expand FILE --from DATE --to DATE [--format json|table] [--tz ZONE]',
    load: () => import('./cli/expand.js'),
  },
  emulator: {
    summary: 'emulator [--port N] [--propagation-seconds N] [--users FILE.json]: run the Graph emulator',
    load: () => import('./cli/emulator.js'),
  },
  start: {
    summary:
      '(npm start) the demo on Azurite + the Graph emulator, or a real sync when Graph settings are given',
    load: () => import('./cli/start.js'),
  },
  demo: {
    summary: 'demo [--feed FILE] [--now ISO] [--horizon-days N] [--json] [--serve [--port N]]',
    load: () => import('./cli/demo.js'),
  },
  sync: {
    summary: 'sync [--feed ID] [--now ISO] [--force] [--json] [--verbose]',
    load: () => import('./cli/sync.js'),
  },
  plan: { summary: 'plan --feed FILE|ID [--now ISO] [--json]: dry run', load: () => import('./cli/plan.js') },
  feeds: { summary: 'feeds add|list|remove|confirm|sync', load: () => import('./cli/feeds.js') },
  policy: { summary: 'policy grant|list|script', load: () => import('./cli/policy.js') },
  status: { summary: 'status [--json]', load: () => import('./cli/status.js') },
  serve: {
    summary:
      'serve [--port N] [--host ADDR] [--no-sync] [--verbose]: the admin page and HTTP API on this machine',
    load: () => import('./cli/serve.js'),
  },
};

function usage(): string {
  return [
    'usage: timetable-sync <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}'\n${usage()}`);
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(formatCliError(error));
    process.exitCode = cliExitCode(error);
  },
);
