// The admin page's script, served as /api/manage/app.js (so the page's CSP can forbid inline script).
// The script itself is app.js next to this module: plain browser JavaScript, type-checked through its
// JSDoc by tsconfig.web.json and linted with browser globals. Read once, when the page module loads:
//   - from src/ (vitest, tsx): src/web/assets/app.js;
//   - from dist/ (npm run build, npm start): dist/src/web/assets/app.js, which the build copies there;
//   - in the deployed bundle (scripts/bundle.mjs): not read at all, esbuild inlines the file's text in
//     place of this module.
import { readFileSync } from 'node:fs';

export const PAGE_JS: string = readFileSync(new URL('./app.js', import.meta.url), 'utf8');
