// @ts-check
// The admin page's script (plain ES2020 in a classic script, no framework, no build step): hash-routed
// views over the admin API. Served as /api/manage/app.js (see ../page.ts and app-js.ts) so the page's CSP
// can forbid inline script. It never uses innerHTML: every value from the API is set as text.
// Type-checked against the DOM (tsconfig.web.json) and linted with browser globals (eslint.config.js).
(() => {
  'use strict';

  // ---- the admin API's answers, as this page reads them (src/admin/*.ts has the server's types) ------

  /**
   * @typedef {object} Run  A feed's last sync run.
   * @property {string} outcome  completed, partial or failed
   * @property {string} finishedAt
   * @property {string} [message]
   * @property {number} created
   * @property {number} updated
   * @property {number} cancelled
   * @property {number} unchanged
   * @property {number} blocked
   * @property {number} failed
   * @property {number} held
   */
  /** @typedef {'created' | 'updated' | 'cancelled' | 'unchanged' | 'blocked' | 'failed' | 'held'} RunCount */
  /**
   * @typedef {object} Guard  The deletion guard's state of a feed.
   * @property {boolean} held
   * @property {string | null} [reason]
   * @property {number} wouldCancel
   * @property {number} futureMeetings
   */
  /**
   * @typedef {object} Feed  A feed: GET /api/feeds gives its settings, GET /api/status its state.
   * @property {string} id
   * @property {boolean} [enabled]
   * @property {string} [source]
   * @property {string | null} [url]
   * @property {string | null} [defaultOrganizer]
   * @property {Run | null} [lastRun]
   * @property {{ active?: number, blocked?: number, failed?: number, cancelled?: number }} [meetings]
   * @property {Guard | null} [guard]
   * @property {string | null} [nextRetryAt]
   */
  /**
   * @typedef {object} Status  GET /api/status
   * @property {Feed[]} feeds
   * @property {Array<{ code: string, sessions: number, example: string | null }>} [blocked]
   * @property {{ count: number, feedIds: string[] }} [poison]
   * @property {Credential} [credential]
   */
  /**
   * @typedef {{ kind?: string, expiresAt: string, daysLeft: number }
   *   | { kind?: string, expiresAt?: null, daysLeft?: null }} Credential  The Graph credential; certificates
   *   whose PEM includes the certificate itself have an expiry.
   */
  /** @typedef {{ feeds?: Feed[] }} FeedList  GET /api/feeds */
  /** @typedef {{ webcal?: string, ics?: string, json?: string }} CalendarLinks */
  /** @typedef {{ feed: Feed, calendar?: CalendarLinks }} FeedDetail  GET /api/feeds/{id} */
  /**
   * @typedef {object} UploadResult  PUT /api/feeds/{id} with a calendar file
   * @property {Feed} [feed]
   * @property {boolean} [created]
   * @property {number} sessions
   * @property {boolean} [syncQueued]
   * @property {Array<{ uid?: string, line?: number, reason: string }>} [warnings]
   * @property {Array<{ uid: string, summary?: string, start: string, reason: string, detail: string }>} [skipped]
   */
  /**
   * @typedef {object} Organizer  One row of GET /api/policies
   * @property {string | null} [email]
   * @property {string | null} [objectId]
   * @property {string} state
   * @property {string | null} [since]
   * @property {number} blockedSessions
   * @property {string | null} [reason]
   * @property {string | null} [grantCommand]
   */
  /**
   * @typedef {object} Policies  GET /api/policies
   * @property {string} policyName
   * @property {{ grantedAt: string } | null} [global]
   * @property {Organizer[]} [organizers]
   */
  /** @typedef {{ syncQueued?: boolean }} Queued  What the feed actions answer. */
  /**
   * @typedef {object} Problem  An application/problem+json body (RFC 9457) as the admin API writes it.
   * @property {unknown} [title]
   * @property {unknown} [detail]
   * @property {Array<{ path?: string, message?: string } | string>} [errors]  what failed validation
   * @property {string | number} [code]
   * @property {string} [graphRequestId]
   */

  // ---- the page ---------------------------------------------------------------------------------

  /** @typedef {Node | string | number | null | undefined | false | ChildList} Child */
  /** @typedef {Child[]} ChildList */
  /** @typedef {Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>} Attrs */

  const KEY_NAME = 'timetable-sync.functionKey';
  /** @type {{ key: string | null, view: string, feeds: Feed[], status: Status | null, polls: Record<string, number> }} */
  const state = { key: null, view: 'feeds', feeds: [], status: null, polls: {} };

  /**
   * An element of the page (html.ts); they are all there from the start.
   * @param {string} id
   * @returns {HTMLElement}
   */
  function $(id) {
    const el = document.getElementById(id);
    if (!el) throw new Error(`admin page: no element #${id}`);
    return el;
  }
  /**
   * An <input> of the page.
   * @param {string} id
   * @returns {HTMLInputElement}
   */
  function $input(id) {
    const el = $(id);
    if (!(el instanceof HTMLInputElement)) throw new Error(`admin page: #${id} is not an input`);
    return el;
  }

  /**
   * Builds an element; attributes (or properties for on* and value), then children (text is never HTML).
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Attrs | null} attrs
   * @param {...Child} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach((name) => {
        const value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (typeof value === 'function') el.addEventListener(name.slice(2), value);
        else if (name === 'text') el.textContent = String(value);
        else if (name === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement))
          el.value = String(value);
        else el.setAttribute(name, value === true ? '' : String(value));
      });
    }
    for (const child of children) append(el, child);
    return el;
  }
  /**
   * @param {Node} el
   * @param {Child} child
   */
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      child.forEach((c) => append(el, c));
      return;
    }
    el.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
  /**
   * @template {Node} T
   * @param {T} el
   * @returns {T}
   */
  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }
  /**
   * @param {Node} el
   * @param {...Child} children
   */
  function replace(el, ...children) {
    clear(el);
    for (const child of children) append(el, child);
  }

  /** @param {string} text */
  function announce(text) {
    const live = $('live');
    live.textContent = '';
    window.setTimeout(() => {
      live.textContent = text;
    }, 50);
  }

  /**
   * @param {string | null | undefined} iso
   * @returns {string}
   */
  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
  /**
   * @param {number} n
   * @param {string} one
   * @param {string} [many]
   */
  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || `${one}s`}`;
  }

  /**
   * The button an event was dispatched to (what busy() disables while its request runs).
   * @param {Event} event
   */
  function buttonOf(event) {
    return event.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null;
  }

  // ---- the admin API --------------------------------------------------------------------------

  class ApiError extends Error {
    /**
     * @param {number} status  0 when the API could not be reached
     * @param {unknown} body  the parsed JSON body, if any
     * @param {string} [text]  the body as text
     */
    constructor(status, body, text) {
      const problem = /** @type {Problem | null} */ (typeof body === 'object' ? body : null);
      const title = problem && typeof problem.title === 'string' ? problem.title : statusText(status);
      const detail =
        problem && typeof problem.detail === 'string' ? problem.detail : (text || '').slice(0, 300);
      super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
      this.status = status;
      this.body = problem;
      this.title = title;
      this.detail = detail;
    }
  }
  /** @param {number} status */
  function statusText(status) {
    /** @type {Record<number, string>} */
    const texts = {
      400: 'Bad request',
      401: 'Authentication required',
      403: 'Not allowed',
      404: 'Not found',
      409: 'Conflict',
      413: 'Too large',
      415: 'Unsupported content type',
      500: 'Internal error',
      502: 'Bad gateway',
      503: 'Service unavailable',
    };
    return texts[status] || `HTTP ${status}`;
  }

  /**
   * A call to the admin API: the parsed JSON answer (or the text when it is not JSON); an ApiError when
   * the status is not 2xx or the API cannot be reached. The caller's declared type T is what the route
   * answers (the typed helpers below); the page trusts the API for that, as it always has.
   * @template [T=unknown]
   * @param {string} method
   * @param {string} path
   * @param {{ contentType?: string, body?: BodyInit }} [options]
   * @returns {Promise<T>}
   */
  function api(method, path, options) {
    options = options || {};
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json, application/problem+json, text/plain' };
    if (state.key) headers['x-functions-key'] = state.key;
    if (options.contentType) headers['content-type'] = options.contentType;
    return fetch(`/api/${path}`, {
      method,
      headers,
      body: options.body,
      credentials: 'same-origin',
      cache: 'no-store',
    }).then(
      (response) => {
        const type = response.headers.get('content-type') || '';
        return response.text().then((text) => {
          /** @type {unknown} */
          let body = null;
          if (/json/.test(type) && text) {
            try {
              body = JSON.parse(text);
            } catch {
              body = null;
            }
          }
          if (!response.ok) {
            const error = new ApiError(response.status, body, text);
            if (response.status === 401 || response.status === 403) authFailed(error);
            throw error;
          }
          return /** @type {T} */ (body !== null ? body : text);
        });
      },
      (/** @type {unknown} */ networkError) => {
        const error = new ApiError(
          0,
          null,
          `the admin API could not be reached (${networkError instanceof Error && networkError.message ? networkError.message : 'network error'})`,
        );
        error.title = 'Network error';
        error.message = `Network error: ${error.detail}`;
        throw error;
      },
    );
  }

  /** @returns {Promise<Status>} */
  function getStatus() {
    return api('GET', 'status');
  }
  /** @returns {Promise<FeedList>} */
  function getFeeds() {
    return api('GET', 'feeds');
  }
  /**
   * @param {string} id
   * @returns {Promise<FeedDetail>}
   */
  function getFeed(id) {
    return api('GET', `feeds/${encodeURIComponent(id)}`);
  }
  /**
   * @param {string} method
   * @param {string} path
   * @param {{ contentType?: string, body?: BodyInit }} [options]
   * @returns {Promise<Queued>}
   */
  function feedAction(method, path, options) {
    return api(method, path, options);
  }

  /**
   * What went wrong, for the page: an ApiError as it is; anything else (a bug) as a bare "Error".
   * @param {unknown} error
   * @returns {{ status: number, title: string, detail: string, body: Problem | null }}
   */
  function problemOf(error) {
    return error instanceof ApiError ? error : { status: 0, title: '', detail: '', body: null };
  }

  /**
   * @param {unknown} error
   * @param {string} [prefix]
   */
  function problemBox(error, prefix) {
    const problem = problemOf(error);
    const box = h(
      'div',
      { class: 'error', role: 'alert' },
      h(
        'strong',
        null,
        `${prefix ? `${prefix} — ` : ''}${problem.status ? `${problem.status} ` : ''}${problem.title || 'Error'}`,
      ),
      problem.detail ? h('span', { class: 'detail' }, problem.detail) : null,
    );
    const body = problem.body || {};
    if (Array.isArray(body.errors) && body.errors.length) {
      box.appendChild(
        h(
          'ul',
          null,
          body.errors.map((e) =>
            h(
              'li',
              null,
              typeof e === 'string' ? e : (e.path ? `${e.path}: ` : '') + (e.message || JSON.stringify(e)),
            ),
          ),
        ),
      );
    }
    if (body.code) box.appendChild(h('p', { class: 'small' }, 'Code: ', h('code', null, String(body.code))));
    if (body.graphRequestId)
      box.appendChild(
        h('p', { class: 'small' }, 'Graph request id: ', h('code', null, String(body.graphRequestId))),
      );
    return box;
  }
  /**
   * @param {HTMLElement} target
   * @param {unknown} error
   * @param {string} [prefix]
   */
  function showError(target, error, prefix) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      replace(target);
      return;
    }
    replace(target, problemBox(error, prefix));
  }

  // ---- key and sign-in -------------------------------------------------------------------------

  function setConnection() {
    const text = state.key ? 'Using a function key (this tab only)' : 'No function key entered';
    $('connection').textContent = text;
    $('key-forget').hidden = !state.key;
    $input('key-input').placeholder = state.key ? 'key set — type a new one to replace it' : '';
  }

  /** @param {ApiError} error */
  function authFailed(error) {
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

  function clearAuthBanner() {
    const b = $('auth-banner');
    b.hidden = true;
    clear(b);
  }

  function initKey() {
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

  // ---- views -----------------------------------------------------------------------------------

  const VIEWS = ['feeds', 'upload', 'policies', 'blocked', 'calendars'];

  function currentView() {
    const name = (location.hash || '#feeds').slice(1);
    return VIEWS.indexOf(name) >= 0 ? name : 'feeds';
  }

  /** @param {boolean} focus */
  function showView(focus) {
    const name = currentView();
    state.view = name;
    VIEWS.forEach((v) => {
      $(`view-${v}`).hidden = v !== name;
      const link = document.querySelector(`nav.views a[data-view="${v}"]`);
      if (!link) return;
      if (v === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    });
    document.title = `${$(`h-${name}`).textContent} · timetable-sync admin`;
    if (focus) $(`h-${name}`).focus();
    void load(name);
  }

  /**
   * @param {string} name
   * @returns {Promise<void>}
   */
  function load(name) {
    if (!state.key) {
      const target = document.getElementById(`${name}-status`) || $('upload-result');
      if (name !== 'upload')
        replace(target, h('div', { class: 'notice' }, 'Enter the function key above to load this view.'));
      return Promise.resolve();
    }
    if (name === 'feeds') return loadFeeds();
    if (name === 'policies') return loadPolicies();
    if (name === 'blocked') return loadBlocked();
    if (name === 'calendars') return loadCalendars();
    return Promise.resolve();
  }

  // -- feeds

  /** @param {Run | null | undefined} run */
  function outcomeBadge(run) {
    if (!run) return h('span', { class: 'badge plain' }, 'never synced');
    const cls =
      run.outcome === 'completed'
        ? 'ok'
        : run.outcome === 'failed'
          ? 'err'
          : run.outcome === 'partial'
            ? 'warn'
            : 'plain';
    return h('span', { class: `badge ${cls}` }, `last run ${run.outcome}`);
  }

  function loadFeeds() {
    const status = $('feeds-status');
    return Promise.all([getStatus(), getFeeds()])
      .then(([report, list]) => {
        state.status = report;
        /** @type {Record<string, Feed>} */
        const settings = {};
        (list.feeds || []).forEach((f) => {
          settings[f.id] = f;
        });
        state.feeds = report.feeds.map((f) => ({ ...(settings[f.id] || {}), ...f }));
        replace(status);
        renderFeeds();
      })
      .catch((/** @type {unknown} */ error) => showError(status, error, 'Could not load the feeds'));
  }

  function renderFeeds() {
    const list = $('feeds-list');
    if (!state.feeds.length) {
      replace(
        list,
        h(
          'p',
          { class: 'empty' },
          'No feeds yet. ',
          h('a', { href: '#upload' }, 'Upload a timetable'),
          ' to start.',
        ),
      );
      return;
    }
    replace(list, state.feeds.map(feedCard));
  }

  /** @type {RunCount[]} */
  const RUN_COUNTS = ['created', 'updated', 'cancelled', 'unchanged', 'blocked', 'failed', 'held'];

  /** @param {Feed} feed */
  function feedCard(feed) {
    const run = feed.lastRun;
    const m = feed.meetings || {};
    const guard = feed.guard;
    const badges = h(
      'div',
      { class: 'badges' },
      h('span', { class: `badge ${feed.enabled ? 'info' : 'plain'}` }, feed.enabled ? 'enabled' : 'disabled'),
      outcomeBadge(run),
      guard && guard.held ? h('span', { class: 'badge warn' }, 'cancellations held') : null,
      (m.blocked || 0) + (m.failed || 0) > 0
        ? h(
            'span',
            { class: 'badge err' },
            `${plural((m.blocked || 0) + (m.failed || 0), 'session')} without meeting`,
          )
        : null,
    );
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Source'),
      h('dd', null, feed.source === 'url' ? feed.url || 'URL' : 'uploaded file'),
      h('dt', null, 'Last run'),
      h('dd', null, run ? fmtTime(run.finishedAt) + (run.message ? ` — ${run.message}` : '') : '—'),
      run
        ? [
            h('dt', null, 'Run counts'),
            h(
              'dd',
              null,
              h(
                'ul',
                { class: 'counts' },
                RUN_COUNTS.map((k) => h('li', null, `${k} `, h('b', null, String(run[k] || 0)))),
              ),
            ),
          ]
        : null,
      h('dt', null, 'Meetings'),
      h(
        'dd',
        null,
        h(
          'ul',
          { class: 'counts' },
          h('li', null, 'active ', h('b', { 'data-count': 'active' }, String(m.active || 0))),
          h('li', null, 'blocked ', h('b', { 'data-count': 'blocked' }, String(m.blocked || 0))),
          h('li', null, 'failed ', h('b', { 'data-count': 'failed' }, String(m.failed || 0))),
          h('li', null, 'cancelled ', h('b', null, String(m.cancelled || 0))),
        ),
      ),
      h('dt', null, 'Next retry'),
      h('dd', null, feed.nextRetryAt ? fmtTime(feed.nextRetryAt) : 'none due'),
      feed.defaultOrganizer
        ? [h('dt', null, 'Default organizer'), h('dd', null, feed.defaultOrganizer)]
        : null,
      guard && guard.held
        ? [
            h('dt', null, 'Deletion guard'),
            h(
              'dd',
              null,
              `${plural(guard.wouldCancel, 'meeting')} of ${guard.futureMeetings} would be cancelled${guard.reason ? ` (${guard.reason})` : ''}`,
            ),
          ]
        : null,
    );
    const actions = h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          'aria-label': `Sync ${feed.id} now`,
          onclick: (e) => {
            void syncNow(feed, buttonOf(e));
          },
        },
        'Sync now',
      ),
      h(
        'button',
        {
          type: 'button',
          'aria-label': (feed.enabled ? 'Disable ' : 'Enable ') + feed.id,
          onclick: (e) => {
            void setEnabled(feed, !feed.enabled, buttonOf(e));
          },
        },
        feed.enabled ? 'Disable' : 'Enable',
      ),
      guard && guard.held
        ? h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: (e) => {
                void confirmHeld(feed, buttonOf(e));
              },
            },
            `Confirm ${plural(guard.wouldCancel, 'cancellation')}`,
          )
        : null,
    );
    return h(
      'article',
      { class: 'card', 'data-feed': feed.id, 'aria-labelledby': `feed-${feed.id}` },
      h('h3', { id: `feed-${feed.id}` }, feed.id),
      badges,
      facts,
      actions,
    );
  }

  /**
   * Disables the button while the promise runs.
   * @template T
   * @param {HTMLButtonElement | null} button
   * @param {Promise<T>} promise
   * @returns {Promise<T>}
   */
  function busy(button, promise) {
    if (button) button.disabled = true;
    return promise.then(
      (v) => {
        if (button) button.disabled = false;
        return v;
      },
      (/** @type {unknown} */ e) => {
        if (button) button.disabled = false;
        throw e;
      },
    );
  }

  /** @param {Run} run */
  function runSummary(run) {
    return `${run.outcome}: created ${run.created}, updated ${run.updated}, cancelled ${run.cancelled}, blocked ${run.blocked}, failed ${run.failed}`;
  }

  /**
   * After a sync is queued, watch /api/status until the feed's last run changes, then say how it went.
   * @param {string} feedId
   * @param {string | null} since  the finishedAt of the feed's last run before the sync was queued
   */
  function watchSync(feedId, since) {
    const pending = state.polls[feedId];
    if (pending) window.clearTimeout(pending);
    const started = Date.now();
    let noted = false;
    const tick = () => {
      getStatus()
        .then((status) => {
          const feed = (status.feeds || []).filter((f) => f.id === feedId)[0];
          const run = feed && feed.lastRun;
          const finished = run ? run.finishedAt : null;
          if (run && finished && finished !== since) {
            delete state.polls[feedId];
            const text = `Sync of ${feedId} finished — ${runSummary(run)}.`;
            const cls = run.outcome === 'completed' ? 'success' : 'warning';
            replace($('feeds-status'), h('div', { class: cls }, text));
            announce(text);
            if (state.view === 'feeds')
              void loadFeeds().then(() => {
                replace($('feeds-status'), h('div', { class: cls }, text));
              });
            return;
          }
          if (!noted && Date.now() - started > 10000) {
            noted = true;
            replace(
              $('feeds-status'),
              h(
                'div',
                { class: 'notice' },
                `Sync of ${feedId} queued; no new run recorded yet. A feed unchanged since its last successful run (same file, nothing due) is skipped without recording a run.`,
              ),
            );
          }
          if (Date.now() - started > 120000) {
            delete state.polls[feedId];
            replace(
              $('feeds-status'),
              h(
                'div',
                { class: 'notice' },
                `The sync of ${feedId} is still queued; it runs when the queue worker picks it up. Refresh later.`,
              ),
            );
            return;
          }
          state.polls[feedId] = window.setTimeout(tick, 1500);
        })
        .catch(() => {
          delete state.polls[feedId];
        });
    };
    state.polls[feedId] = window.setTimeout(tick, 1000);
  }

  /** @param {string} feedId */
  function lastFinished(feedId) {
    const feed = state.feeds.filter((f) => f.id === feedId)[0];
    return feed && feed.lastRun ? feed.lastRun.finishedAt : null;
  }

  /**
   * @param {Feed} feed
   * @param {HTMLButtonElement | null} button
   */
  function syncNow(feed, button) {
    const since = lastFinished(feed.id);
    return busy(button, feedAction('POST', `feeds/${encodeURIComponent(feed.id)}/sync`))
      .then(() => {
        const text = `Sync of ${feed.id} queued. Waiting for it to run…`;
        replace($('feeds-status'), h('div', { class: 'notice' }, text));
        announce(text);
        watchSync(feed.id, since);
      })
      .catch((/** @type {unknown} */ error) =>
        showError($('feeds-status'), error, `Sync of ${feed.id} was not queued`),
      );
  }

  /**
   * @param {Feed} feed
   * @param {boolean} enabled
   * @param {HTMLButtonElement | null} button
   */
  function setEnabled(feed, enabled, button) {
    return busy(
      button,
      feedAction('PUT', `feeds/${encodeURIComponent(feed.id)}`, {
        contentType: 'application/json',
        body: JSON.stringify({ enabled }),
      }),
    )
      .then((result) => {
        const text =
          feed.id +
          (enabled ? ' enabled' : ' disabled') +
          (result && result.syncQueued ? '; a sync was queued.' : '.');
        return loadFeeds().then(() => {
          replace($('feeds-status'), h('div', { class: 'success' }, text));
          announce(text);
          const again = document.querySelector(`[data-feed="${feed.id}"] .actions button:nth-child(2)`);
          if (again instanceof HTMLElement) again.focus();
          if (result && result.syncQueued) watchSync(feed.id, lastFinished(feed.id));
        });
      })
      .catch((/** @type {unknown} */ error) =>
        showError($('feeds-status'), error, `Could not change ${feed.id}`),
      );
  }

  /**
   * @param {Feed} feed
   * @param {HTMLButtonElement | null} button
   */
  function confirmHeld(feed, button) {
    const n = feed.guard ? feed.guard.wouldCancel : 0;
    if (
      !window.confirm(
        `Let the deletion guard cancel ${plural(n, 'meeting')} of ${feed.id}? Students lose these Teams meetings.`,
      )
    )
      return Promise.resolve();
    return busy(button, feedAction('POST', `feeds/${encodeURIComponent(feed.id)}/confirm-cancellations`))
      .then((result) => {
        const text = `Cancellations of ${feed.id} confirmed${result && result.syncQueued ? '; a sync was queued to carry them out.' : '.'}`;
        replace($('feeds-status'), h('div', { class: 'success' }, text));
        announce(text);
        const since = lastFinished(feed.id);
        return loadFeeds().then(() => {
          replace($('feeds-status'), h('div', { class: 'success' }, text));
          if (result && result.syncQueued) watchSync(feed.id, since);
        });
      })
      .catch((/** @type {unknown} */ error) => showError($('feeds-status'), error, 'Could not confirm'));
  }

  // -- upload

  /** @type {File | null} */
  let chosenFile = null;

  /** @param {File | null | undefined} file */
  function chooseFile(file) {
    chosenFile = file || null;
    $('upload-file-name').textContent = file
      ? `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`
      : 'No file chosen';
    const id = $input('upload-id');
    if (file && !id.value) {
      id.value = file.name
        .replace(/\.ics$/i, '')
        .replace(/[^A-Za-z0-9_-]+/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '')
        .slice(0, 63);
    }
  }

  function initUpload() {
    const zone = $('dropzone');
    const input = $input('upload-file');
    input.addEventListener('change', () => chooseFile(input.files && input.files[0]));
    /** @type {const} */ (['dragenter', 'dragover']).forEach((type) => {
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        zone.classList.add('dragover');
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      });
    });
    ['dragleave', 'dragend'].forEach((type) => {
      zone.addEventListener(type, () => {
        zone.classList.remove('dragover');
      });
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragover');
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) {
        chooseFile(file);
        announce(`File ${file.name} chosen.`);
      }
    });
    // A file dropped anywhere else must not navigate away from the page.
    window.addEventListener('dragover', (e) => {
      e.preventDefault();
    });
    window.addEventListener('drop', (e) => {
      e.preventDefault();
    });
    $('upload-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void upload();
    });
  }

  function upload() {
    const result = $('upload-result');
    const id = $input('upload-id').value.trim();
    const file = chosenFile;
    /** @type {Array<{ field: string, text: string }>} */
    const problems = [];
    if (!file) problems.push({ field: 'upload-file', text: 'Choose or drop an .ics file.' });
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(id))
      problems.push({
        field: 'upload-id',
        text: 'Feed id: 1–63 letters, digits, - or _, starting with a letter or digit.',
      });
    if (problems.length || !file) {
      replace(
        result,
        h(
          'div',
          { class: 'error', role: 'alert' },
          h('strong', null, 'Not uploaded'),
          h(
            'ul',
            null,
            problems.map((p) => h('li', null, p.text)),
          ),
        ),
      );
      const first = problems[0];
      if (first) $(first.field).focus();
      return Promise.resolve();
    }
    if (!state.key) {
      authFailed(new ApiError(401, null, 'no function key entered'));
      return Promise.resolve();
    }
    const query = [];
    const organizer = $input('upload-organizer').value.trim();
    const tz = $input('upload-tz').value.trim();
    if (organizer) query.push(`organizer=${encodeURIComponent(organizer)}`);
    if (tz) query.push(`timeZone=${encodeURIComponent(tz)}`);
    const path = `feeds/${encodeURIComponent(id)}${query.length ? `?${query.join('&')}` : ''}`;
    const button = $('upload-submit');
    replace(result, h('div', { class: 'notice' }, `Uploading and validating ${file.name}…`));
    return file
      .arrayBuffer()
      .then((bytes) =>
        busy(
          button instanceof HTMLButtonElement ? button : null,
          /** @type {Promise<UploadResult>} */ (
            api('PUT', path, { contentType: 'text/calendar; charset=utf-8', body: bytes })
          ),
        ),
      )
      .then((body) => {
        renderUploadResult(body);
        if (body.syncQueued)
          watchSync(id, body.feed && body.feed.lastRun ? body.feed.lastRun.finishedAt : null);
      })
      .catch((/** @type {unknown} */ error) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          replace(result);
          return;
        }
        replace(
          result,
          problemBox(error, 'Upload rejected'),
          h(
            'p',
            { class: 'small' },
            'Nothing was stored: the feed, its meetings and its published calendar are as they were.',
          ),
        );
        announce(`Upload rejected: ${error instanceof Error ? error.message : String(error)}`);
        const box = result.querySelector('[role=alert]');
        if (box instanceof HTMLElement) {
          box.setAttribute('tabindex', '-1');
          box.focus();
        }
      });
  }

  /** @param {UploadResult} body */
  function renderUploadResult(body) {
    const result = $('upload-result');
    /** @type {Partial<Feed>} */
    const feed = body.feed || {};
    const warnings = body.warnings || [];
    const skipped = body.skipped || [];
    const summary =
      `${body.created ? 'Created feed ' : 'Uploaded a new version of '}${feed.id}: ${plural(body.sessions, 'session')} in the horizon.` +
      (body.syncQueued
        ? ' A sync was queued.'
        : feed.enabled === false
          ? ' The feed is disabled: nothing will be synced.'
          : ' The sync could not be queued; use Sync now.');
    const parts = [h('div', { class: 'success', id: 'upload-summary' }, h('strong', null, summary))];
    if (warnings.length) {
      parts.push(
        h(
          'div',
          { class: 'warning', id: 'upload-warnings' },
          h('strong', null, `${plural(warnings.length, 'event')} skipped as unreadable`),
          h(
            'ul',
            null,
            warnings.map((w) =>
              h(
                'li',
                null,
                h('code', null, w.uid || '(no UID)'),
                w.line ? ` (line ${w.line})` : '',
                `: ${w.reason}`,
              ),
            ),
          ),
        ),
      );
    }
    if (skipped.length) {
      parts.push(
        h(
          'div',
          { class: 'warning', id: 'upload-skipped' },
          h('strong', null, `${plural(skipped.length, 'session')} will not get a meeting`),
          h(
            'ul',
            null,
            skipped
              .slice(0, 200)
              .map((s) =>
                h(
                  'li',
                  null,
                  h('b', null, s.summary || s.uid),
                  ` — ${fmtTime(s.start)} (${s.reason}): ${s.detail}`,
                ),
              ),
          ),
          skipped.length > 200 ? h('p', { class: 'small' }, `… and ${skipped.length - 200} more.`) : null,
        ),
      );
    }
    replace(result, parts);
    announce(summary + (warnings.length ? ` ${plural(warnings.length, 'warning')}.` : ''));
  }

  // -- policies

  /** @type {Record<string, string>} */
  const STATE_CLASS = {
    active: 'ok',
    propagating: 'warn',
    missing: 'err',
    unresolved: 'err',
    unknown: 'plain',
  };

  function loadPolicies() {
    const status = $('policies-status');
    return Promise.all([
      /** @type {Promise<Policies>} */ (api('GET', 'policies')),
      api('GET', 'policies/script'),
    ])
      .then(([policies, script]) => {
        replace(status);
        renderPolicies(policies);
        $('script').textContent = typeof script === 'string' ? script.replace(/\r\n/g, '\n') : '';
      })
      .catch((/** @type {unknown} */ error) => showError(status, error, 'Could not load the organizers'));
  }

  /** @param {Policies} data */
  function renderPolicies(data) {
    const list = $('policies-list');
    const organizers = data.organizers || [];
    const head = h(
      'p',
      null,
      'Policy ',
      h('code', null, data.policyName),
      data.global ? ` — a global grant was recorded at ${fmtTime(data.global.grantedAt)}.` : '.',
    );
    if (!organizers.length) {
      replace(list, head, h('p', { class: 'empty' }, 'No organizers yet: they appear after the first sync.'));
      return;
    }
    const rows = organizers.map((o) =>
      h(
        'tr',
        { 'data-organizer': o.email || o.objectId, 'data-state': o.state },
        h(
          'td',
          { 'data-label': 'Lecturer' },
          h('div', null, o.email || '(e-mail unknown)'),
          o.objectId ? h('div', { class: 'muted small mono' }, o.objectId) : null,
        ),
        h(
          'td',
          { 'data-label': 'Policy' },
          h('span', { class: `badge ${STATE_CLASS[o.state] || 'plain'}` }, o.state),
          o.since ? h('div', { class: 'muted small' }, `since ${fmtTime(o.since)}`) : null,
        ),
        h('td', { 'data-label': 'Blocked sessions', class: 'num' }, String(o.blockedSessions)),
        h(
          'td',
          { 'data-label': 'What to do' },
          o.grantCommand
            ? [
                h('code', { class: 'cmd' }, o.grantCommand),
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Record that the policy was granted to ${o.email || o.objectId}`,
                    onclick: (e) => {
                      void recordGrant(o, buttonOf(e));
                    },
                  },
                  'Record grant',
                ),
              ]
            : o.state === 'propagating'
              ? 'Granted; waiting for it to reach Graph (retried automatically).'
              : o.state === 'unresolved'
                ? o.reason || 'Not found in the directory: fix the ORGANIZER in the timetable.'
                : o.state === 'active'
                  ? 'Nothing: meetings are being created.'
                  : o.reason || '—',
        ),
      ),
    );
    replace(
      list,
      head,
      h(
        'table',
        { class: 'grid' },
        h('caption', { class: 'sr-only' }, 'Organizers and their access policy state'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Lecturer'),
            h('th', { scope: 'col' }, 'Policy'),
            h('th', { scope: 'col' }, 'Blocked sessions'),
            h('th', { scope: 'col' }, 'What to do'),
          ),
        ),
        h('tbody', null, rows),
      ),
    );
  }

  /**
   * @param {Organizer} o
   * @param {HTMLButtonElement | null} button
   */
  function recordGrant(o, button) {
    return busy(
      button,
      api('POST', 'policies/grants', {
        contentType: 'application/json',
        body: JSON.stringify({ user: o.objectId || o.email }),
      }),
    )
      .then(() => {
        const text = `Grant recorded for ${o.email || o.objectId}: its 403s now count as propagation and are retried.`;
        return loadPolicies().then(() => {
          replace($('policies-status'), h('div', { class: 'success' }, text));
          announce(text);
        });
      })
      .catch((/** @type {unknown} */ error) =>
        showError($('policies-status'), error, 'Could not record the grant'),
      );
  }

  /**
   * Copies the text, with the clipboard API or else by selecting it and the copy command.
   * @param {string} text
   * @param {HTMLElement} statusEl  says how it went (data-copied="true" once copied)
   * @param {string} what
   * @returns {Promise<unknown>}
   */
  function copyText(text, statusEl, what) {
    const done = () => {
      statusEl.textContent = `${what} copied to the clipboard.`;
      statusEl.setAttribute('data-copied', 'true');
    };
    const fallback = () => {
      const area = h('textarea', { 'aria-hidden': 'true', readonly: true, class: 'sr-only' });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) done();
      else {
        statusEl.textContent = 'Copying is blocked here: the text is selected, press Ctrl+C (⌘C).';
      }
      return ok;
    };
    statusEl.removeAttribute('data-copied');
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(done, fallback);
    }
    fallback();
    return Promise.resolve();
  }

  function initScriptCopy() {
    $('script-copy').addEventListener('click', () => {
      const text = $('script').textContent || '';
      const status = $('script-copy-status');
      void copyText(text, status, 'Script').then(() => {
        if (status.getAttribute('data-copied') !== 'true') {
          const range = document.createRange();
          range.selectNodeContents($('script'));
          const sel = window.getSelection();
          if (!sel) return;
          sel.removeAllRanges();
          sel.addRange(range);
        }
      });
    });
  }

  // -- blocked

  /** @type {Record<string, [string, string]>} */
  const REASONS = {
    policyMissing: [
      'No Teams application access policy covers the lecturer',
      'Run the grant script (Organizers & policies), then record the grant.',
    ],
    policyPropagating: [
      'The policy was granted but has not reached Graph yet',
      'Nothing: retried automatically for POLICY_PROPAGATION_MINUTES.',
    ],
    organizerUnresolved: [
      'The lecturer\u2019s e-mail is not in the directory',
      'Fix the ORGANIZER in the timetable, or create the account.',
    ],
    transient: ['Graph failed for a moment', 'Nothing: retried on the next run.'],
    throttled: ['Graph throttled the requests', 'Nothing: retried on the next run.'],
    failed: ['The meeting could not be written', 'See the example; retried on the next run.'],
  };

  function loadBlocked() {
    const status = $('blocked-status');
    return getStatus()
      .then((report) => {
        state.status = report;
        replace(status);
        renderBlocked(report);
      })
      .catch((/** @type {unknown} */ error) => showError(status, error, 'Could not load the status'));
  }

  /** @param {Status} report */
  function renderBlocked(report) {
    const blocked = report.blocked || [];
    const total = blocked.reduce((n, b) => n + b.sessions, 0);
    const parts = [
      h(
        'p',
        null,
        total
          ? `${plural(total, 'session')} without a meeting.`
          : 'Every session in the horizon has its meeting.',
      ),
    ];
    if (blocked.length) {
      parts.push(
        h(
          'table',
          { class: 'grid', id: 'blocked-table' },
          h('caption', { class: 'sr-only' }, 'Blocked sessions by reason'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Reason'),
              h('th', { scope: 'col' }, 'Sessions'),
              h('th', { scope: 'col' }, 'Example'),
              h('th', { scope: 'col' }, 'What to do'),
            ),
          ),
          h(
            'tbody',
            null,
            blocked.map((b) => {
              const known = REASONS[b.code] || [b.code, 'See the example and the sync.run.completed events.'];
              return h(
                'tr',
                { 'data-reason': b.code },
                h(
                  'td',
                  { 'data-label': 'Reason' },
                  h('div', null, known[0]),
                  h('code', { class: 'small' }, b.code),
                ),
                h('td', { 'data-label': 'Sessions', class: 'num' }, String(b.sessions)),
                h('td', { 'data-label': 'Example', class: 'small' }, b.example || '—'),
                h(
                  'td',
                  { 'data-label': 'What to do' },
                  known[1],
                  b.code === 'policyMissing'
                    ? [' ', h('a', { href: '#policies' }, 'Open the grant script')]
                    : null,
                ),
              );
            }),
          ),
        ),
      );
    }
    const poison = report.poison || { count: 0, feedIds: [] };
    parts.push(
      h('h3', null, 'Poison messages'),
      h(
        'p',
        null,
        poison.count
          ? `${plural(poison.count, 'queued sync')} failed 5 times and stopped${poison.feedIds.length ? ` (${poison.feedIds.join(', ')})` : ''}. Fix the cause, then clear the poison queue.`
          : 'None.',
      ),
    );
    /** @type {Credential} */
    const cred = report.credential || {};
    parts.push(
      h('h3', null, 'Graph credential'),
      h(
        'p',
        null,
        cred.kind === 'none'
          ? 'No Graph credential is configured.'
          : `Kind: ${cred.kind}${cred.expiresAt ? `; expires ${fmtTime(cred.expiresAt)} (${plural(cred.daysLeft, 'day')} left)` : ''}.`,
      ),
    );
    replace($('blocked-list'), parts);
  }

  // -- calendars

  function loadCalendars() {
    const status = $('calendars-status');
    return getFeeds()
      .then((list) => {
        const feeds = list.feeds || [];
        if (!feeds.length) {
          replace(status);
          replace($('calendars-list'), h('p', { class: 'empty' }, 'No feeds yet.'));
          return;
        }
        return Promise.all(feeds.map((f) => getFeed(f.id))).then((details) => {
          replace(status);
          replace($('calendars-list'), details.map(calendarCard));
        });
      })
      .catch((/** @type {unknown} */ error) => showError(status, error, 'Could not load the calendar links'));
  }

  /**
   * @param {string} feedId
   * @param {string} kind
   * @param {string} label
   * @param {string | undefined} url
   */
  function linkField(feedId, kind, label, url) {
    const id = `cal-${feedId}-${kind}`;
    const status = h('span', { class: 'small', role: 'status' });
    return h(
      'div',
      { class: 'link-field' },
      h('label', { for: id }, label),
      h(
        'div',
        { class: 'link-row' },
        h('input', {
          id,
          type: 'text',
          readonly: true,
          value: url,
          onfocus: (e) => {
            if (e.currentTarget instanceof HTMLInputElement) e.currentTarget.select();
          },
        }),
        h(
          'button',
          {
            type: 'button',
            'aria-label': `Copy the ${label} of ${feedId}`,
            onclick: () => {
              void copyText(String(url), status, label);
            },
          },
          'Copy',
        ),
      ),
      status,
    );
  }

  /** @param {FeedDetail} detail */
  function calendarCard(detail) {
    const feed = detail.feed;
    const cal = detail.calendar || {};
    return h(
      'article',
      { class: 'card', 'data-calendar': feed.id, 'aria-labelledby': `cal-h-${feed.id}` },
      h('h3', { id: `cal-h-${feed.id}` }, feed.id),
      linkField(feed.id, 'webcal', 'Subscribe link (webcal)', cal.webcal),
      linkField(feed.id, 'ics', 'iCalendar (.ics)', cal.ics),
      linkField(feed.id, 'json', 'JSON', cal.json),
      h(
        'div',
        { class: 'actions' },
        h('a', { href: cal.webcal, class: 'button-like' }, 'Open in a calendar app'),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: (e) => {
              void rotate(feed.id, buttonOf(e));
            },
          },
          'Rotate link',
        ),
      ),
    );
  }

  /**
   * @param {string} feedId
   * @param {HTMLButtonElement | null} button
   */
  function rotate(feedId, button) {
    if (
      !window.confirm(
        `Issue a new link for ${feedId}? Everyone subscribed with the old link stops getting updates.`,
      )
    )
      return Promise.resolve();
    return busy(button, api('POST', `feeds/${encodeURIComponent(feedId)}/calendar-token`))
      .then(() =>
        loadCalendars().then(() => {
          const text = `New calendar link issued for ${feedId}; the old one no longer works.`;
          replace($('calendars-status'), h('div', { class: 'success' }, text));
          announce(text);
        }),
      )
      .catch((/** @type {unknown} */ error) => showError($('calendars-status'), error, 'Could not rotate'));
  }

  // ---- start -----------------------------------------------------------------------------------

  function start() {
    initKey();
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
})();
