// Every command of the README's command table, as a person types it into a terminal (the built CLI in
// its own process): `--help` answers with the usage and an example and exit status 0, without loading
// the command or touching Storage; a misspelt option is refused with exit status 2 and the right one.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'timetable-sync.js');
// No local.settings.json here: a command that tried to reach Storage would fail, not answer.
const cwd = mkdtempSync(path.join(tmpdir(), 'tts-cli-help-'));

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## HTTP routes'));
/** The README's rows: usage as written (`feeds add ID (--file FILE | --url URL) …`). */
const usages = [...section.matchAll(/^\| `(.+?)` \|/gm)].map((m) => (m[1] as string).replace(/\\\|/g, '|'));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

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

describe('the README command table, walked on the built CLI', () => {
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
    const [long, short] = await Promise.all([cli(['feeds', 'add', '--help']), cli(['feeds', 'add', '-h'])]);
    expect(short).toEqual(long);
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
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]?.[0].join(' ')).toBe(2);
      expect(result.stderr).toContain(cases[i]?.[1]);
    });
  });
});
