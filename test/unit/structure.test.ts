// docs/architecture.md's size promises: no file under src/ or functions/ over 500 lines, and a sync
// orchestrator short enough to read in one sitting.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory()
        ? sourceFiles(path.join(dir, e.name))
        : Promise.resolve(/\.(ts|js)$/.test(e.name) ? [path.join(dir, e.name)] : []),
    ),
  );
  return nested.flat();
}

const lineCount = async (file: string) => (await readFile(file, 'utf8')).split('\n').length;

describe('file sizes', () => {
  it('no file under src/ or functions/ is over 500 lines', async () => {
    const files = [...(await sourceFiles('src')), ...(await sourceFiles('functions'))];
    expect(files.length).toBeGreaterThan(50);
    const long = [];
    for (const file of files) if ((await lineCount(file)) > 500) long.push(file);
    expect(long).toEqual([]);
  });

  it('the sync orchestrator is under 150 lines', async () => {
    expect(await lineCount('src/sync/syncFeed.ts')).toBeLessThan(150);
  });
});
