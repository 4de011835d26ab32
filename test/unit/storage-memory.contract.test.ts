// The StateStore contract on the in-memory store (src/storage/memory.ts), on a clock the tests move, plus
// what only the memory store promises: it loads no SDK, and two stores share nothing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../src/storage/memory.js';
import { describeStateStoreContract } from '../support/state-store-contract.js';
import { feedRecord } from '../support/records.js';

describeStateStoreContract('in memory', () => {
  let nowMs = Date.parse('2027-01-04T08:00:00.000Z');
  const store = createMemoryStateStore({ now: () => new Date(nowMs) });
  return Promise.resolve({
    store,
    cleanup: () => Promise.resolve(),
    elapse: (seconds: number) => {
      nowMs += seconds * 1000;
      return Promise.resolve();
    },
  });
});

describe('in-memory state store', () => {
  it('loads no Azure SDK: its modules import SDK types at most', async () => {
    const root = path.resolve(import.meta.dirname, '../../src/storage');
    // Value imports only: type-only imports are erased by tsc.
    const valueImports = (source: string): string[] =>
      [...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map(
        (m) => m[1] ?? '',
      );
    const seen = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of valueImports(await readFile(file, 'utf8'))) {
        expect({ file: path.relative(root, file), specifier }).not.toMatchObject({
          specifier: expect.stringMatching(/^@azure\//) as unknown,
        });
        if (specifier.startsWith('.'))
          await visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    };
    await visit(path.join(root, 'memory.ts'));
    expect(seen.size).toBeGreaterThan(10);
  });

  it('two stores share nothing, and names follow the prefix as the Azure store names them', async () => {
    const a = createMemoryStateStore({ namePrefix: 'one' });
    const b = createMemoryStateStore({ namePrefix: 'two' });
    await Promise.all([a.ensure(), a.ensure(), b.ensure()]);
    await a.feeds.create(feedRecord());
    expect(await b.feeds.list()).toEqual([]);
    expect(a.syncQueue.name).toBe('one-sync-feeds');
    expect(a.names.tables.meetings).toBe('onemeetings');
    expect(() => createMemoryStateStore({ namePrefix: 'Bad-Prefix' })).toThrow(/namePrefix/);
  });

  it('feed-body versions and deployment-key timestamps come from the injected clock', async () => {
    const store = createMemoryStateStore({ now: () => new Date('2027-01-04T08:00:00.123Z') });
    expect((await store.feedBodies.put('cs-101', 'BEGIN:VCALENDAR')).version).toMatch(
      /^20270104T080000123Z-/,
    );
    expect((await store.deploymentKeys.rotate('k', 'v')).createdAt).toBe('2027-01-04T08:00:00.123Z');
  });
});
