// Errors the CLI prints as one clear line (never a stack trace): the user's input or the system's.
import { AppError, describeError, isUserError } from '../errors.js';

/** Wrong command-line words: exit code 2. */
export class UsageError extends AppError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message, { isUserError: true });
  }
}

/** The process exit code for a failure: 2 for wrong command-line words, 1 for anything else. */
export function cliExitCode(error: unknown): number {
  return error instanceof AppError && error.code === 'usage' ? 2 : 1;
}

export function formatCliError(error: unknown): string {
  if (isUserError(error)) return `timetable-sync: ${error.message}`;
  return `timetable-sync: ${describeError(error)}`;
}

/** Minimal flag parser shared by the commands: `--name value`, `--flag`, and positionals. */
export function parseArgs(
  args: string[],
  spec: { values?: string[]; flags?: string[] },
): { positionals: string[]; values: Map<string, string>; flags: Set<string> } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (spec.flags?.includes(name)) {
      flags.add(name);
    } else if (spec.values?.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positionals, values, flags };
}
