// Every command of the README's command table, as a person types it: `--help` answers with the usage
// and an example and exit status 0, without loading the command or touching Storage; a misspelt option
// is refused with exit status 2 and the right one. The table is walked in-process (runCli, what the
// built CLI runs, with its output captured) in a directory without settings; a few words go through the
// built CLI in its own process, to pin that the exit status and streams reach the terminal.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { runCli } from '../../src/cli/main.js';
import { tempDirs } from '../support/temp-dirs.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'timetable-sync.js');
// No local.settings.json here: a command that tried to reach Storage would fail, not answer.
const cwd = tempDirs('tts-cli-help-')();

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## HTTP routes'));
/** The README's rows: usage as written (`feeds add ID (--file FILE | --url URL) …`). */
const usages = [...section.matchAll(/^\| `(.+?)` \|/gm)].map((m) => (m[1] as string).replace(/\\\|/g, '|'));

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI in its own process. */
function cliProcess(args: string[]): Promise<Answer> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The same words in-process: what runCli prints to stdout and stderr, and the status it returns. */
async function cli(args: string[]): Promise<Answer> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += `${format(...a)}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
    stderr += `${format(...a)}\n`;
  });
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const startedIn = process.cwd();
beforeAll(() => process.chdir(cwd));
afterAll(() => process.chdir(startedIn));

/** The command's words: `feeds add ID (--file …` → ['feeds', 'add']. */
function words(usage: string): string[] {
  const command: string[] = [];
  for (const word of usage.split(' ')) {
    if (!/^[a-z]+$/.test(word)) break;
    command.push(word);
  }
  return command;
}

/** `--from` → `--form` (two letters swapped): the typo a person makes. */
function misspelt(option: string): string {
  const name = option.slice(2);
  return `--${name[1]}${name[0]}${name.slice(2)}`;
}

describe('the README command table, walked through the CLI', () => {
  it('lists the commands', () => {
    expect(usages.length).toBeGreaterThanOrEqual(18);
    expect(usages.map(words)).toContainEqual(['feeds', 'add']);
  });

  it.each(usages)('%s: --help prints the usage and an example, exit 0', async (usage) => {
    const command = words(usage);
    const long = await cli([...command, '--help']);
    expect(long.code, long.stderr).toBe(0);
    expect(long.stdout).toContain(`usage: timetable-sync ${usage.replace(/`/g, '')}`);
    expect(long.stdout).toMatch(/examples?:\n {2}timetable-sync /);
    expect(long.stdout).toContain('exit status: 0');
  });

  it.each(usages)('%s: a misspelt option exits 2 naming the right one', async (usage) => {
    const command = words(usage);
    const option = /--[a-z][a-z-]+/.exec(usage)?.[0] ?? '--help';
    const wrong = misspelt(option);
    const result = await cli([...command, wrong]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`unknown option ${wrong}; did you mean ${option}?`);
  });

  it('-h is --help', async () => {
    const [long, short] = [await cli(['feeds', 'add', '--help']), await cli(['feeds', 'add', '-h'])];
    expect(short).toEqual(long);
  });

  it('the built CLI in its own process: --help on stdout with exit 0, a misspelt option on stderr with exit 2', async () => {
    const [help, short, wrong, inProcess] = await Promise.all([
      cliProcess(['feeds', 'add', '--help']),
      cliProcess(['feeds', 'add', '-h']),
      cliProcess(['feeds', 'add', '--flie', 'a.ics']),
      cli(['feeds', 'add', '--help']),
    ]);
    expect(help).toEqual(inProcess);
    expect(short).toEqual(help);
    expect(help.stdout).toContain('usage: timetable-sync feeds add ID');
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('unknown option --flie; did you mean --file?');
  });

  it('group words answer --help with their subcommands, and a wrong subcommand is named', async () => {
    const help = await cli(['feeds', '--help']);
    expect(help.code).toBe(0);
    for (const sub of ['add', 'list', 'remove', 'confirm', 'sync'])
      expect(help.stdout).toContain(`feeds ${sub}`);
    const wrong = await cli(['feeds', 'lst']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("did you mean 'feeds list'?");
    const top = await cli(['feed', 'list']);
    expect(top.stderr).toContain("did you mean 'feeds'?");
  });

  it('an option that does not apply is an error naming it', async () => {
    const cases: Array<[string[], string]> = [
      [['demo', '--port', '8080'], '--port applies only with --serve'],
      [['policy', 'script', '--json'], 'unknown option --json'],
      [
        ['expand', 'a.ics', 'b.ics', '--from', '2027-01-01', '--to', '2027-01-02'],
        "unexpected argument 'b.ics'",
      ],
      [['policy', 'grant', '--user', 'a@b.example', '--global'], 'give --user or --global, not both'],
      [
        ['feeds', 'add', 'x', '--file', 'a.ics', '--url', 'https://x.example/a.ics'],
        'give --file or --url, not both',
      ],
      [['serve', '--host', '0.0.0.0'], '--allow-remote'],
      [['sync', '--feed'], '--feed needs a value'],
      [['feeds', 'add', 'bad id', '--file', 'a.ics'], "ID 'bad id' is not a feed id"],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});
