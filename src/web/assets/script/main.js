// @ts-check

// The admin page's script (plain ES2022 modules, no framework, no build step): hash-routed views over the
// admin API. The page loads this module (<script type="module" src="/api/manage/main.js">), which imports
// the others from the same folder; each is served as /api/manage/<file> (see ../../page.ts and
// ../scripts.ts) so the page's CSP can forbid inline script. Nothing uses innerHTML: every value from the
// API is set as text. Type-checked against the DOM (tsconfig.web.json) and linted with browser globals
// (eslint.config.js).

import { $, announce, busy } from './dom.js';
import { initKey } from './key.js';
import { initScriptCopy } from './policies.js';
import { state } from './state.js';
import { initUpload } from './upload.js';
import { load, showView } from './views.js';

function start() {
  initKey(load);
  initUpload();
  initScriptCopy();
  document.querySelectorAll('[data-refresh]').forEach((button) => {
    button.addEventListener('click', () => {
      void busy(
        button instanceof HTMLButtonElement ? button : null,
        load(button.getAttribute('data-refresh') || ''),
      ).then(() => announce('Refreshed.'));
    });
  });
  window.addEventListener('hashchange', () => showView(true));
  showView(false);
  if (!state.key) $('key-input').focus();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
