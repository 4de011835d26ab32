// The command line, read against the command table (./commands.ts) with Node's own parser
// (`node:util` parseArgs, maintained with Node, no dependency). parseArgs splits the words; the rules a
// person notices are checked here against the table: an unknown option is refused with the nearest
// known one, an option that does not apply (another command's, or `--port` without `--serve`) is an
// error, a value-taking option needs its value, and `--help` answers before anything is loaded.
import { parseArgs } from 'node:util';

import { EXIT, UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder of the value in help: N, FILE, ISO. */
  value?: string;
  help: string;
  /** Applies only together with this option (`--port` with `--serve`). */
  requires?: string;
  /** The name the API's messages use for it (`horizonDays`): the CLI's messages say the flag instead. */
  field?: string;
}

export interface PositionalSpec {
  name: string;
  help: string;
}

/** What a command's run function gets: the words, checked against its spec. */
export interface CommandArgs {
  positionals: string[];
  string(name: string): string | undefined;
  flag(name: string): boolean;
  has(name: string): boolean;
}

export type CommandRun = (args: CommandArgs) => Promise<number>;

export interface CommandSpec {
  /** `feeds add`: one or two words. */
  name: string;
  /** The README's first column: the name and its arguments, exactly. */
  usage: string;
  /** The README's second column (Markdown): what the command does. */
  summary: string;
  positionals?: PositionalSpec[];
  options: Record<string, OptionSpec>;
  /** Groups of options: `exactly` one of them, or at most one (`atMostOne`), or `atLeastOne`. */
  groups?: Array<{ options: string[]; rule: 'exactly' | 'atMostOne' | 'atLeastOne' }>;
  examples: string[];
  /** Needs Table Storage: main.ts checks that it answers before the command (and its SDKs) is loaded. */
  storage?: boolean;
  load: () => Promise<CommandRun>;
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', help: 'show this help' };

const EXIT_TEXT = `exit status: ${EXIT.ok} done · ${EXIT.failed} it failed, or a sync run failed (the message says why) · ${EXIT.usage} the command line is wrong`;

/** Levenshtein distance (small strings: option and command names). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate nearest to the word (a prefix, or a few letters off), if any is near enough. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    // A prefix of any length (`--verb`); a few letters off only for words long enough to judge (`--frm`).
    const d =
      name.startsWith(word) || (word.length >= 3 && word.startsWith(name))
        ? 1
        : word.length >= 3
          ? distance(word, name)
          : Infinity;
    if (d <= Math.max(2, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

const stripMarkdown = (text: string): string => text.replace(/`/g, '');

export function commandHelp(spec: CommandSpec): string {
  const rows: Array<[string, string]> = [
    ...(spec.positionals ?? []).map((p): [string, string] => [p.name, p.help]),
    ...Object.entries(spec.options).map(([name, o]): [string, string] => [
      `--${name}${o.value ? ` ${o.value}` : ''}`,
      o.help + (o.requires ? ` (with --${o.requires})` : ''),
    ]),
    ['-h, --help', HELP_OPTION.help],
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `usage: timetable-sync ${stripMarkdown(spec.usage)}`,
    '',
    stripMarkdown(spec.summary),
    '',
    'arguments and options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    '',
    spec.examples.length > 1 ? 'examples:' : 'example:',
    ...spec.examples.map((e) => `  timetable-sync ${e}`),
    '',
    EXIT_TEXT,
  ].join('\n');
}

/** `timetable-sync --help`, or `timetable-sync feeds --help` (the commands under one word). */
export function overviewHelp(specs: readonly CommandSpec[], group?: string): string {
  const shown = group ? specs.filter((s) => s.name.split(' ')[0] === group) : specs;
  const width = Math.max(...shown.map((s) => s.name.length)) + 2;
  const firstSentence = (s: CommandSpec) => {
    const text = stripMarkdown(s.summary).split('. ')[0] ?? '';
    return text.length <= 100 ? text : `${text.slice(0, text.lastIndexOf(' ', 97))} …`;
  };
  return [
    `usage: timetable-sync ${group ?? '<command>'}${group ? ' <subcommand>' : ''} [options]`,
    '',
    'commands:',
    ...shown.map((s) => `  ${s.name.padEnd(width)}${firstSentence(s)}`),
    '',
    `\`timetable-sync ${group ? `${group} <subcommand>` : '<command>'} --help\` shows a command's options and an example.`,
    'Commands that touch state read the settings from the environment and ./local.settings.json.',
    EXIT_TEXT,
  ].join('\n');
}

function isHelp(word: string): boolean {
  return word === '--help' || word === '-h';
}

export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some(isHelp);
}

/**
 * The words after the command's name, checked against its spec. `others` are the other commands'
 * specs: an option one of them has is named as theirs ("--json is an option of policy list").
 */
export function parseCommandArgs(
  spec: CommandSpec,
  args: string[],
  others: readonly CommandSpec[] = [],
): CommandArgs {
  const hint = `(\`timetable-sync ${spec.name} --help\` lists them)`;
  const { tokens } = parseArgs({
    args,
    options: Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const option = spec.options[token.name];
    if (!option) {
      const known = Object.keys(spec.options);
      const near = nearest(token.name, [...known, 'help']);
      const elsewhere = others.filter((o) => o !== spec && token.name in o.options).map((o) => o.name);
      throw new UsageError(
        `${spec.name}: unknown option ${token.rawName}` +
          (near
            ? `; did you mean --${near}?`
            : elsewhere.length
              ? `; it is an option of ${elsewhere.slice(0, 3).join(', ')}${elsewhere.length > 3 ? ', …' : ''}, not of ${spec.name}`
              : known.length
                ? `; the options are ${known.map((k) => `--${k}`).join(', ')}`
                : `; it takes no options`) +
          (near ? ` ${hint}` : ''),
      );
    }
    if (values.has(token.name))
      throw new UsageError(`${spec.name}: --${token.name} is given twice; give it once`);
    if (option.type === 'boolean') {
      if (token.inlineValue)
        throw new UsageError(`${spec.name}: --${token.name} takes no value (got '${token.value ?? ''}')`);
      values.set(token.name, true);
      continue;
    }
    const value = token.value;
    // A value-taking option followed by another option (`--feed --json`) lacks its value.
    if (value === undefined || value === '' || (!token.inlineValue && /^--?[A-Za-z]/.test(value)))
      throw new UsageError(
        `${spec.name}: --${token.name} needs a value: --${token.name} ${option.value ?? 'VALUE'}`,
      );
    values.set(token.name, value);
  }
  const expected = spec.positionals ?? [];
  if (positionals.length > expected.length) {
    const extra = positionals[expected.length] as string;
    throw new UsageError(
      `${spec.name}: unexpected argument '${extra}'` +
        (expected.length ? ` (it takes ${expected.map((p) => p.name).join(' ')} only)` : ' (it takes none)') +
        `; usage: timetable-sync ${stripMarkdown(spec.usage)}`,
    );
  }
  const missing = expected[positionals.length];
  if (missing)
    throw new UsageError(
      `${spec.name}: ${missing.name} is missing; usage: timetable-sync ${stripMarkdown(spec.usage)}`,
    );
  for (const [name, option] of Object.entries(spec.options))
    if (option.requires && values.has(name) && !values.has(option.requires))
      throw new UsageError(
        `${spec.name}: --${name} applies only with --${option.requires}; add --${option.requires} or leave --${name} out`,
      );
  for (const group of spec.groups ?? []) {
    const given = group.options.filter((o) => values.has(o));
    const list = group.options.map((o) => `--${o}`).join(' or ');
    if (given.length > 1 && group.rule !== 'atLeastOne')
      throw new UsageError(
        `${spec.name}: give ${list}, not both${group.rule === 'exactly' ? '' : ' (leave one out)'}`,
      );
    if (given.length === 0 && group.rule !== 'atMostOne')
      throw new UsageError(
        `${spec.name}: ${list} is required; usage: timetable-sync ${stripMarkdown(spec.usage)}`,
      );
  }
  return {
    positionals,
    string: (name) => {
      const v = values.get(name);
      return typeof v === 'string' ? v : undefined;
    },
    flag: (name) => values.get(name) === true,
    has: (name) => values.has(name),
  };
}

/** An error message of the API in the CLI's words: `horizonDays` becomes `--horizon-days`. */
export function inCliWords(spec: CommandSpec, message: string): string {
  let text = message;
  for (const [name, option] of Object.entries(spec.options))
    if (option.field) text = text.replace(new RegExp(`\\b${option.field}\\b`, 'g'), `--${name}`);
  return text;
}
