#!/usr/bin/env node
// Entry for `npx timetable-sync`: runs the compiled CLI (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli.js');
if (!existsSync(cli)) {
  console.error('timetable-sync: the CLI is not built yet; run `npm run build` (npm install does it).');
  process.exit(2);
}
await import(pathToFileURL(cli).href);
