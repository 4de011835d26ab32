// docs/runbook.md promises an entry (what it means, the query to see it, the fix) for every error-level
// event. The events are found in the code: `.error('name'`, a level chosen between 'error' and another
// (`[cond ? 'error' : 'warning']('name'`), or a level held in a variable (`[level]('name'`, counted as
// possibly error). The alerts' links into the runbook must land on a heading.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');
const runbook = readFileSync(path.join(root, 'docs', 'runbook.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Event names the code may log at error level. */
export function errorLevelEvents(source: string): string[] {
  const name = String.raw`'([a-zA-Z]+(?:\.[a-zA-Z]+)+)'`;
  const patterns = [
    new RegExp(String.raw`\.error\(\s*${name}`, 'g'),
    new RegExp(String.raw`\[[^\]\n]*'error'[^\]\n]*\]\(\s*${name}`, 'g'),
    new RegExp(String.raw`\[[a-zA-Z_]\w*\]\(\s*${name}`, 'g'),
  ];
  return [...new Set(patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1] as string)))];
}

/** The runbook's entries: `### \`name\`` headings with their text up to the next heading. */
function entries(): Map<string, string> {
  const map = new Map<string, string>();
  for (const section of runbook.split(/^### /m).slice(1)) {
    const heading = /^`([^`]+)`/.exec(section)?.[1];
    if (heading) map.set(heading, section);
  }
  return map;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

describe('runbook', () => {
  const events = new Set(
    sourceFiles(path.join(root, 'src')).flatMap((file) => errorLevelEvents(readFileSync(file, 'utf8'))),
  );

  it('finds error-level events in every form the code logs them', () => {
    expect(
      errorLevelEvents(
        "log.error('a.b', {}); log[x > 1 ? 'error' : 'warning']('c.d', {}); log[level]('e.f'); log.warning('g.h')",
      ).sort(),
    ).toEqual(['a.b', 'c.d', 'e.f']);
    for (const name of ['policy.missing', 'storage.unavailable', 'sync.run.completed', 'credential.expiring'])
      expect(events).toContain(name);
  });

  it('has an entry for every error-level event: what it means, the query that shows it, the fix', () => {
    const byName = entries();
    expect([...events].filter((name) => !byName.has(name)).sort()).toEqual([]);
    for (const name of events) {
      const entry = byName.get(name) ?? '';
      expect(entry, name).toMatch(/\*\*Means:\*\*/);
      expect(entry, name).toMatch(/\*\*Fix:\*\*/);
      const query = /\*\*See it:\*\*\s*```kusto\n([\s\S]+?)```/.exec(entry)?.[1] ?? '';
      expect(query, `${name}: its query names the event`).toContain(`customDimensions.event == "${name}"`);
    }
  });

  it('every runbook link of the alerts lands on a heading, and the README links the runbook', () => {
    const headings = new Set(
      [...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => anchor((m[1] as string).replace(/`/g, ''))),
    );
    const alerts = readFileSync(path.join(root, 'infra', 'monitoring', 'alerts.bicep'), 'utf8');
    const links = [...alerts.matchAll(/docs\/runbook\.md#([\w-]+)/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThanOrEqual(5);
    expect(links.filter((link) => !headings.has(link))).toEqual([]);
    const inDocs = [...runbook.matchAll(/\]\(#([\w-]+)\)/g)].map((m) => m[1] as string);
    expect(inDocs.filter((link) => !headings.has(link))).toEqual([]);
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain('(docs/runbook.md)');
  });
});
