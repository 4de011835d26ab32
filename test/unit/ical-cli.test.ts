import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandArgs } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { run as runExpand } from '../../src/cli/expand.js';
import { UsageError, formatCliError } from '../../src/cli/errors.js';
import { isUserError } from '../../src/errors.js';
import { cal, event } from '../support/ical.js';

const expand = COMMANDS.find((c) => c.name === 'expand');
/** `timetable-sync expand ARGS` as the CLI reads it. */
async function run(args: string[]): Promise<number> {
  if (!expand) throw new Error('no expand command');
  return runExpand(parseCommandArgs(expand, args));
}

const dir = mkdtempSync(join(tmpdir(), 'ical-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function output(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    expect(await run(args)).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('timetable-sync expand', () => {
  const ics = file(
    't.ics',
    cal(
      ...event(
        'UID:a',
        'SUMMARY:Algebra',
        'DTSTART:20240105T090000Z',
        'DTEND:20240105T100000Z',
        'RRULE:FREQ=WEEKLY;COUNT=2',
      ),
      ...event('UID:bad'),
    ),
  );

  it('prints occurrences and warnings as JSON', async () => {
    const json = JSON.parse(
      await output([ics, '--from', '2024-01-01', '--to', '2024-02-01', '--format', 'json']),
    ) as { occurrences: { uid: string; start: string; end: string; summary: string }[]; warnings: unknown[] };
    expect(json.occurrences.map((o) => [o.uid, o.start, o.end, o.summary])).toEqual([
      ['a', '2024-01-05T09:00:00Z', '2024-01-05T10:00:00Z', 'Algebra'],
      ['a', '2024-01-12T09:00:00Z', '2024-01-12T10:00:00Z', 'Algebra'],
    ]);
    expect(json.warnings).toHaveLength(1);
  });

  it('prints an aligned table by default', async () => {
    const lines = (await output([ics, '--from', '2024-01-01', '--to', '2024-02-01'])).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^START\s+END\s+STATUS\s+SUMMARY\s+UID$/);
    expect(lines[1]?.indexOf('2024-01-05T10:00:00Z')).toBe(lines[0]?.indexOf('END'));
    expect(lines).toContain('2 occurrences');
    expect(lines.at(-1)).toMatch(/^warning: bad: line \d+: event skipped: it has no DTSTART$/);
  });

  it('reads the window in --tz when given', async () => {
    const berlin = file('b.ics', cal(...event('UID:late', 'DTSTART:20240131T233000Z')));
    // 23:30Z on 31 January is 00:30 on 1 February in Berlin: outside a Berlin January window.
    expect(
      await output([
        berlin,
        '--from',
        '2024-01-01',
        '--to',
        '2024-02-01',
        '--format',
        'json',
        '--tz',
        'Europe/Berlin',
      ]),
    ).toContain('"occurrences":[]');
  });

  it('rejects wrong arguments with usage errors', async () => {
    await expect(run([ics, '--from', '2024-01-01'])).rejects.toThrow(UsageError);
    await expect(run([ics, '--from', '2024-02-30', '--to', '2024-03-01'])).rejects.toThrow(
      /--from must be a date YYYY-MM-DD/,
    );
    await expect(run([ics, '--from', '2024-01-01', '--to', '2024-02-01', '--format', 'xml'])).rejects.toThrow(
      /--format must be json or table/,
    );
  });

  it('prints whole-file errors as one line naming the file', async () => {
    const html = file('x.html', '<html></html>');
    const error = await run([html, '--from', '2024-01-01', '--to', '2024-02-01']).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect(formatCliError(error)).toBe(
      `timetable-sync: ${html}: not an iCalendar file: it should start with BEGIN:VCALENDAR but starts with "<html></html>"`,
    );
    const missing = await run([join(dir, 'missing.ics'), '--from', '2024-01-01', '--to', '2024-02-01']).catch(
      (e: unknown) => e,
    );
    expect(formatCliError(missing)).toMatch(/missing\.ics: cannot read it \(no such file: check the path\)$/);
  });
});
