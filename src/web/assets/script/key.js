// @ts-check

// The function key (kept in this tab's sessionStorage) and sign-in: the key form, the connection line,
// the banner a refused request (401/403) raises, and Easy Auth's /.auth/me when deployed behind it.

/** @import { ApiError } from './api.js' */
import { $, $input, announce, clear, h, replace } from './dom.js';
import { KEY_NAME, state } from './state.js';

export function setConnection() {
  const text = state.key ? 'Using a function key (this tab only)' : 'No function key entered';
  $('connection').textContent = text;
  $('key-forget').hidden = !state.key;
  $input('key-input').placeholder = state.key ? 'key set — type a new one to replace it' : '';
}

/** @param {ApiError} error */
export function authFailed(error) {
  const banner = $('auth-banner');
  const what =
    error.status === 401
      ? `The admin API refused the request (401 ${error.title})`
      : `The admin API refused the request (403 ${error.title})`;
  const hint =
    error.status === 401
      ? state.key
        ? 'Check the function key and enter it again.'
        : 'Enter the function key (Function App → App keys, or the key the local server printed).'
      : 'You are signed in, but without the admin app role. Ask for the role, or sign in as another user.';
  replace(
    banner,
    h('strong', null, what),
    error.detail ? h('span', { class: 'detail' }, `${error.detail}. `) : null,
    h('span', null, hint),
  );
  banner.hidden = false;
  if (error.status === 401 && state.key) {
    state.key = null;
    try {
      sessionStorage.removeItem(KEY_NAME);
    } catch {
      /* storage blocked */
    }
    setConnection();
  }
  if (!/key-input/.test(document.activeElement ? document.activeElement.id : '')) $('key-input').focus();
  announce(what);
}

export function clearAuthBanner() {
  const b = $('auth-banner');
  b.hidden = true;
  clear(b);
}

/**
 * Wires the key form and Forget key, and shows the sign-in line when deployed behind Easy Auth.
 * @param {(view: string) => Promise<void>} load  loads a view once a key is entered (./views.js)
 */
export function initKey(load) {
  try {
    state.key = sessionStorage.getItem(KEY_NAME);
  } catch {
    state.key = null;
  }
  setConnection();
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $input('key-input').value.trim();
    if (!value) {
      $('key-input').focus();
      return;
    }
    state.key = value;
    try {
      sessionStorage.setItem(KEY_NAME, value);
    } catch {
      /* kept in memory only */
    }
    $input('key-input').value = '';
    clearAuthBanner();
    setConnection();
    announce(`Function key set. Loading ${state.view}.`);
    void load(state.view);
  });
  $('key-forget').addEventListener('click', () => {
    state.key = null;
    try {
      sessionStorage.removeItem(KEY_NAME);
    } catch {
      /* ignore */
    }
    setConnection();
    announce('Function key forgotten.');
    $('key-input').focus();
  });
  // Behind App Service Authentication the platform answers /.auth/me; elsewhere it is a 404.
  fetch('/.auth/me', { credentials: 'same-origin', cache: 'no-store' })
    .then((r) => {
      if (!r.ok) return null;
      return r.json().then((/** @type {unknown} */ me) => {
        /** @type {unknown} */
        const principal = Array.isArray(me) ? me[0] : null;
        $('signin').hidden = false;
        if (
          principal &&
          typeof principal === 'object' &&
          'user_id' in principal &&
          typeof principal.user_id === 'string' &&
          principal.user_id
        ) {
          $('signin').textContent = `Signed in with Entra ID as ${principal.user_id}.`;
        }
      });
    })
    .catch(() => {
      /* not deployed behind Easy Auth */
    });
}
