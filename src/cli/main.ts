// The CLI without its process: finds the command in the table (./commands.ts), answers `--help` from
// it, checks the words against it (./args.ts), then loads only that command's module (the emulator or
// Azurite are never imported by `expand` or by any `--help`). src/cli.ts runs it as the process; tests
// of the words and the help call it in-process.
import {
  commandHelp,
  inCliWords,
  nearest,
  overviewHelp,
  parseCommandArgs,
  wantsHelp,
  type CommandSpec,
} from './args.js';
import { COMMANDS } from './commands.js';
import { EXIT, UsageError, cliExitCode, formatCliError } from './errors.js';
import { checkStorageBeforeLoading } from './settings.js';
import { AppError, isUserError } from '../errors.js';

const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]));

/** The command the words name, and the words after its name; a usage error naming the nearest one. */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | { group: string | null } {
  const [first, second, ...more] = argv;
  if (!first || first.startsWith('-')) return { group: null };
  if (GROUPS.has(first)) {
    if (!second || second.startsWith('-')) return { group: first };
    const spec = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (spec) return { spec, rest: more };
    const subcommands = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) =>
      c.name.slice(first.length + 1),
    );
    const near = nearest(second, subcommands);
    throw new UsageError(
      `unknown command '${first} ${second}'${near ? `; did you mean '${first} ${near}'?` : ''} (${first} has ${subcommands.join(', ')}; \`timetable-sync ${first} --help\`)`,
    );
  }
  const spec = COMMANDS.find((c) => c.name === first);
  if (spec) return { spec, rest: argv.slice(1) };
  const near = nearest(first, [...new Set(COMMANDS.map((c) => c.name.split(' ')[0] as string))]);
  throw new UsageError(
    `unknown command '${first}'${near ? `; did you mean '${near}'?` : ''} (\`timetable-sync --help\` lists the commands)`,
  );
}

async function main(argv: string[]): Promise<number> {
  // `help feeds add` is `feeds add --help`.
  const words = argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
  const found = findCommand(words);
  if ('group' in found) {
    const rest = found.group ? words.slice(1) : words;
    if (wantsHelp(rest)) {
      console.log(overviewHelp(COMMANDS, found.group ?? undefined));
      return EXIT.ok;
    }
    if (rest.length === 0 && found.group === null) {
      console.log(overviewHelp(COMMANDS));
      return EXIT.usage;
    }
    throw new UsageError(
      found.group
        ? `${found.group} needs a subcommand: ${COMMANDS.filter((c) => c.name.startsWith(`${found.group} `))
            .map((c) => c.name)
            .join(', ')} (\`timetable-sync ${found.group} --help\`)`
        : `unknown option ${rest[0]}; the first word is a command (\`timetable-sync --help\` lists them)`,
    );
  }
  const { spec, rest } = found;
  if (wantsHelp(rest)) {
    console.log(commandHelp(spec));
    return EXIT.ok;
  }
  const args = parseCommandArgs(spec, rest, COMMANDS);
  if (spec.storage) await checkStorageBeforeLoading();
  const run = await spec.load();
  try {
    return await run(args);
  } catch (error) {
    // The API's field names (horizonDays, grantedAt) in the flags the person typed.
    if (isUserError(error))
      throw new AppError(error.code, inCliWords(spec, error.message), { isUserError: true, cause: error });
    throw error;
  }
}

/** Runs the command the words name, prints what it prints, and returns the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    console.error(formatCliError(error));
    return cliExitCode(error);
  }
}
