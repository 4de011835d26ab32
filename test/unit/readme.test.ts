// Keeps the README true: every setting, command and log event the code has is documented there.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { SETTING_DEFAULTS, SETTINGS } from '../../src/config.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('README', () => {
  it('starts with the two set-up commands', () => {
    const start = readme.indexOf('npm install && npm start');
    const test = readme.indexOf('npm test');
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThan(1500);
    expect(test).toBeGreaterThan(start);
  });

  it('documents every setting the code reads', () => {
    const missing = Object.keys(SETTINGS).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('gives each setting the default the schema has (configuration table: `NAME` | default | meaning)', () => {
    const rows = new Map(
      [...readme.matchAll(/^\| `([A-Za-z0-9_]+)` \| ([^|]+) \|/gm)].map((m) => [
        m[1] as string,
        (m[2] as string).trim(),
      ]),
    );
    const wrong = Object.entries(SETTING_DEFAULTS)
      .map(([name, value]) => ({
        name,
        readme: rows.get(name),
        code: value === undefined ? '—' : `\`${value}\``,
      }))
      .filter(({ readme, code }) => readme !== code);
    expect(wrong).toEqual([]);
  });

  it('has one command-table row per command of the CLI table, with its usage and summary (src/cli/commands.ts)', () => {
    const section = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## HTTP routes'));
    const rows = [...section.matchAll(/^\| `(.+?)` \| (.+) \|$/gm)].map((m) =>
      [m[1] as string, m[2] as string].map((cell) => cell.replace(/\\\|/g, '|')),
    );
    expect(rows).toEqual(COMMANDS.map((c) => [c.usage, c.summary]));
  });

  it('documents every log event the code emits', () => {
    const events = new Set<string>();
    for (const file of sourceFiles(path.join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:\.(?:debug|info|warning|error)|\])\(\s*'([a-zA-Z]+(?:\.[a-zA-Z]+)+)'/g,
      ))
        events.add(m[1] as string);
    }
    expect(events.size).toBeGreaterThan(10);
    expect([...events].filter((e) => !readme.includes(`\`${e}\``)).sort()).toEqual([]);
  });
});
