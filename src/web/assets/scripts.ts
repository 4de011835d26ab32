// The admin page's scripts, served as /api/manage/<file> (so the page's CSP can forbid inline script):
// every .js file of ./script/, by file name. They are native ES modules: the page loads main.js, which
// imports the others by relative URL (./api.js → /api/manage/api.js). Plain browser JavaScript,
// type-checked through their JSDoc by tsconfig.web.json and linted with browser globals. The folder's
// listing is the one list of them: what is in it is served, nothing else. Read once, when the page
// module loads:
//   - from src/ (vitest, tsx): src/web/assets/script/*.js;
//   - from dist/ (npm run build, npm start): dist/src/web/assets/script/*.js, which the build copies there;
//   - in the deployed bundle (scripts/bundle.mjs): not read at all, esbuild replaces this module by one
//     holding the same map with the files' text.
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('./script/', import.meta.url);

/** File name (`main.js`) → the file's text. */
export const PAGE_SCRIPTS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    readdirSync(DIR)
      .filter((name) => name.endsWith('.js'))
      .sort()
      .map((name) => [name, readFileSync(new URL(name, DIR), 'utf8')]),
  ),
);
