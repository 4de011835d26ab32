// The command line as the table (src/cli/commands.ts) reads it: each usage names exactly its options,
// help comes from the table, and the parser's refusals name the word and what to do.
import { describe, expect, it } from 'vitest';

import { commandHelp, inCliWords, parseCommandArgs } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { UsageError } from '../../src/cli/errors.js';

const spec = (name: string) => {
  const found = COMMANDS.find((c) => c.name === name);
  if (!found) throw new Error(`no command ${name}`);
  return found;
};
const parse = (name: string, args: string[]) => parseCommandArgs(spec(name), args, COMMANDS);

describe('the command table', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: its usage names exactly its options', (_, c) => {
    const inUsage = [...c.usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]);
    expect(new Set(inUsage)).toEqual(new Set(Object.keys(c.options)));
    expect(c.usage.startsWith(`${c.name}`)).toBe(true);
    expect(c.examples.every((e) => e.startsWith(c.name))).toBe(true);
  });

  it('help shows usage, every option with its value, and the example', () => {
    const help = commandHelp(spec('feeds add'));
    expect(help).toContain('usage: timetable-sync feeds add ID (--file FILE | --url URL)');
    expect(help).toMatch(/--horizon-days N\s+days ahead/);
    expect(help).toContain('  timetable-sync feeds add maths-y1 --file');
  });
});

describe('parseCommandArgs', () => {
  it('reads values, flags and positionals', () => {
    const args = parse('feeds add', ['maths', '--file', 'm.ics', '--disabled', '--tz=Europe/London']);
    expect(args.positionals).toEqual(['maths']);
    expect([args.string('file'), args.string('tz'), args.flag('disabled'), args.has('url')]).toEqual([
      'm.ics',
      'Europe/London',
      true,
      false,
    ]);
  });

  it.each([
    ['expand', ['a.ics', '--frm', '2027-01-01'], 'unknown option --frm; did you mean --from?'],
    ['sync', ['--verb'], 'did you mean --verbose?'],
    ['status', ['-v'], 'unknown option -v; the options are --json'],
    ['policy script', ['--json'], 'it is an option of'],
    ['demo', ['--port', '8080'], '--port applies only with --serve'],
    ['demo', ['--keep', '--serve'], 'give --keep or --serve, not both'],
    ['start', ['--keep', '--serve'], 'give --keep or --serve, not both'],
    ['plan', [], '--feed or --file is required'],
    ['sync', ['--feed', '--json'], '--feed needs a value: --feed ID'],
    ['sync', ['--json=yes'], '--json takes no value'],
    ['sync', ['--feed', 'a', '--feed', 'b'], '--feed is given twice'],
    ['feeds remove', [], 'ID is missing'],
    ['expand', ['a.ics', 'b.ics'], "unexpected argument 'b.ics'"],
  ])('%s %j: %s', (name, args, message) => {
    expect(() => parse(name, args)).toThrow(UsageError);
    expect(() => parse(name, args)).toThrow(message);
  });

  it("puts the API's field names in the flags' words", () => {
    expect(inCliWords(spec('feeds add'), 'horizonDays must be a whole number from 1 to 400')).toBe(
      '--horizon-days must be a whole number from 1 to 400',
    );
    expect(inCliWords(spec('policy grant'), "grantedAt '2027' is not an ISO 8601 date-time")).toBe(
      "--at '2027' is not an ISO 8601 date-time",
    );
  });
});
