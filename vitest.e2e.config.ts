// End-to-end tests of the admin page: Chromium (headless, /usr/bin/chromium) through playwright-core
// against the local server, Azurite and the Graph emulator. Run with `npm run test:e2e`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // A page update is a fetch plus a render away; 1 s (the default) is tight on a loaded CI machine.
    expect: { poll: { timeout: 10_000, interval: 100 } },
    // One browser and one world per file; the files are few and each starts its own Azurite.
    fileParallelism: false,
  },
});
