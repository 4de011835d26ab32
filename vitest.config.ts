import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take half a minute or more, longest first. They start before the rest so that none of them
 * is left running alone at the end: without a results cache (a fresh clone, CI) vitest would start the
 * largest files first, and these are small.
 */
const LONG_FILES = [
  'test/integration/bench-smoke.test.ts',
  'test/unit/ical-budget.property.test.ts',
  'test/reliability/convergence.test.ts',
  'test/reliability/faults.test.ts',
  'test/integration/cli-demo.test.ts',
  'test/integration/sync-storage-outage.test.ts',
  'test/integration/cli-newcomer.test.ts',
  'test/integration/graph-faults.test.ts',
  'test/reliability/crash.test.ts',
];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => {
      const at = LONG_FILES.findIndex((name) => file.moduleId.endsWith(name));
      return at === -1 ? LONG_FILES.length : at;
    };
    // Array.prototype.sort is stable: the rest keep the base order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Browser tests need Chromium: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most files spend their time waiting on other processes (Azurite, the Graph emulator, the built
    // CLI, the bench harness), so two workers overlap that waiting even on 2 cores, where vitest's
    // default (cores - 1) would run the files one at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongFilesFirst },
  },
});
