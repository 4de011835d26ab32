// The layer rules of eslint.config.js, run through ESLint itself: a file that imports outwards fails
// `npm run lint`, one that imports inwards passes.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Only the layer rule, without type information: the type-aware rules would build the whole TypeScript
// program for each snippet (most of this file's time), and the layer rule does not use it.
const eslint = new ESLint({
  cwd: process.cwd(),
  ruleFilter: ({ ruleId }) => ruleId === '@typescript-eslint/no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  // A snippet ESLint could not parse has no rule messages at all: that must not read as "allowed".
  const fatal = (result?.messages ?? []).find((m) => m.fatal);
  if (fatal) throw new Error(`${filePath}: ESLint could not parse the snippet: ${fatal.message}`);
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('layer rules (npm run lint)', () => {
  it.each([
    [
      'src/core/plan.ts',
      "import { loadConfig } from '../config.js';\nexport const x = loadConfig;\n",
      'src/core may import only its own files',
    ],
    [
      'src/ical/expand.ts',
      "import { formatCliError } from '../cli/errors.js';\nexport const x = formatCliError;\n",
      'src/ical may import only core, errors',
    ],
    [
      'src/storage/feeds.ts',
      "import { syncFeed } from '../sync/syncFeed.js';\nexport const x = syncFeed;\n",
      'src/storage may import only core, errors',
    ],
    [
      'src/sync/syncFeed.ts',
      "import { removeFeed } from '../admin/feedRemoval.js';\nexport const x = removeFeed;\n",
      'src/sync may import only',
    ],
    [
      'src/sync/apply/run.ts',
      "import { toProblem } from '../../http/problem.js';\nexport const x = toProblem;\n",
      'src/sync may import only',
    ],
    [
      'src/calendar/render.ts',
      "import { problemResponse } from '../http/problem.js';\nexport const x = problemResponse;\n",
      'src/calendar may import only',
    ],
    [
      'src/admin/feeds.ts',
      "import { buildServices } from '../compose.js';\nexport const x = buildServices;\n",
      "the services' type only",
    ],
  ])('refuses an outward import in %s', async (file, code, message) => {
    const errors = await layerErrors(file, code);
    expect(errors.join('\n')).toContain(message);
  });

  it.each([
    ['src/sync/syncFeed.ts', "import { planSync } from '../core/plan.js';\nexport const x = planSync;\n"],
    [
      'src/admin/feeds.ts',
      "import type { AppServices } from '../compose.js';\nexport type X = AppServices;\n",
    ],
    ['src/ical/expand.ts', "import { AppError } from '../errors.js';\nexport const x = AppError;\n"],
  ])('allows an inward import in %s', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
