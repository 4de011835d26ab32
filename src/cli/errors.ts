// Errors the CLI prints as one clear line (never a stack trace): the user's input or the system's.

/** Wrong command-line words: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error whose message is safe and useful to show as-is (names the input and what is wrong). */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

export function formatCliError(error: unknown): string {
  if (error instanceof UsageError || error instanceof UserFacingError) return `timetable-sync: ${error.message}`;
  if (error instanceof Error) return `timetable-sync: ${error.name}: ${error.message.split('\n')[0]}`;
  return `timetable-sync: ${String(error)}`;
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
