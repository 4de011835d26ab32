// The admin page's script (plain ES2020, no framework, no build step): hash-routed views over the admin
// API. Embedded as a string because tsc emits only .ts; served as /api/manage/app.js so the page's CSP
// can forbid inline script. It never uses innerHTML: every value from the API is set as text.
// Keep it free of backticks and dollar-brace sequences (it lives inside String.raw).
export const PAGE_JS = String.raw`
(function () {
  'use strict';

  var KEY_NAME = 'timetable-sync.functionKey';
  var state = { key: null, view: null, feeds: [], status: null, polls: {} };

  function $(id) { return document.getElementById(id); }

  // Builds an element; attributes (or properties for on*/checked/value), then children (text is never HTML).
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name.slice(0, 2) === 'on') el.addEventListener(name.slice(2), value);
        else if (name === 'text') el.textContent = value;
        else if (name === 'value') el.value = value;
        else el.setAttribute(name, value === true ? '' : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function replace(el) { clear(el); for (var i = 1; i < arguments.length; i++) append(el, arguments[i]); }

  function announce(text) {
    var live = $('live');
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function fmtTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }

  // ---- the admin API --------------------------------------------------------------------------

  function ApiError(status, body, text) {
    this.status = status;
    this.body = body;
    var title = body && typeof body.title === 'string' ? body.title : statusText(status);
    var detail = body && typeof body.detail === 'string' ? body.detail : (text || '').slice(0, 300);
    this.title = title;
    this.detail = detail;
    this.message = status + ' ' + title + (detail ? ': ' + detail : '');
  }
  function statusText(status) {
    return ({ 400: 'Bad request', 401: 'Authentication required', 403: 'Not allowed', 404: 'Not found', 409: 'Conflict', 413: 'Too large', 415: 'Unsupported content type', 500: 'Internal error', 502: 'Bad gateway', 503: 'Service unavailable' })[status] || 'HTTP ' + status;
  }

  function api(method, path, options) {
    options = options || {};
    var headers = { accept: 'application/json, application/problem+json, text/plain' };
    if (state.key) headers['x-functions-key'] = state.key;
    if (options.contentType) headers['content-type'] = options.contentType;
    return fetch('/api/' + path, { method: method, headers: headers, body: options.body, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        var type = response.headers.get('content-type') || '';
        return response.text().then(function (text) {
          var body = null;
          if (/json/.test(type) && text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
          if (!response.ok) {
            var error = new ApiError(response.status, body, text);
            if (response.status === 401 || response.status === 403) authFailed(error);
            throw error;
          }
          return body !== null ? body : text;
        });
      }, function (networkError) {
        var error = new ApiError(0, null, 'the admin API could not be reached (' + (networkError && networkError.message ? networkError.message : 'network error') + ')');
        error.title = 'Network error';
        error.message = 'Network error: ' + error.detail;
        throw error;
      });
  }

  function problemBox(error, prefix) {
    var box = h('div', { class: 'error', role: 'alert' },
      h('strong', null, (prefix ? prefix + ' — ' : '') + (error.status ? error.status + ' ' : '') + (error.title || 'Error')),
      error.detail ? h('span', { class: 'detail' }, error.detail) : null);
    var body = error.body || {};
    if (Array.isArray(body.errors) && body.errors.length) {
      box.appendChild(h('ul', null, body.errors.map(function (e) { return h('li', null, (e.path ? e.path + ': ' : '') + (e.message || String(e))); })));
    }
    if (body.code) box.appendChild(h('p', { class: 'small' }, 'Code: ', h('code', null, String(body.code))));
    if (body.graphRequestId) box.appendChild(h('p', { class: 'small' }, 'Graph request id: ', h('code', null, String(body.graphRequestId))));
    return box;
  }
  function showError(target, error, prefix) {
    if (error && (error.status === 401 || error.status === 403)) { replace(target); return; }
    replace(target, problemBox(error, prefix));
  }

  // ---- key and sign-in -------------------------------------------------------------------------

  function setConnection() {
    var text = state.key ? 'Using a function key (this tab only)' : 'No function key entered';
    $('connection').textContent = text;
    $('key-forget').hidden = !state.key;
    $('key-input').placeholder = state.key ? 'key set — type a new one to replace it' : '';
  }

  function authFailed(error) {
    var banner = $('auth-banner');
    var what = error.status === 401 ? 'The admin API refused the request (401 ' + error.title + ')' : 'The admin API refused the request (403 ' + error.title + ')';
    var hint = error.status === 401
      ? (state.key ? 'Check the function key and enter it again.' : 'Enter the function key (Function App → App keys, or the key the local server printed).')
      : 'You are signed in, but without the admin app role. Ask for the role, or sign in as another user.';
    replace(banner, h('strong', null, what), error.detail ? h('span', { class: 'detail' }, error.detail + '. ') : null, h('span', null, hint));
    banner.hidden = false;
    if (error.status === 401 && state.key) {
      state.key = null;
      try { sessionStorage.removeItem(KEY_NAME); } catch (e) { /* storage blocked */ }
      setConnection();
    }
    if (!/key-input/.test(document.activeElement ? document.activeElement.id : '')) $('key-input').focus();
    announce(what);
  }

  function clearAuthBanner() { var b = $('auth-banner'); b.hidden = true; clear(b); }

  function initKey() {
    try { state.key = sessionStorage.getItem(KEY_NAME); } catch (e) { state.key = null; }
    setConnection();
    $('key-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var value = $('key-input').value.trim();
      if (!value) { $('key-input').focus(); return; }
      state.key = value;
      try { sessionStorage.setItem(KEY_NAME, value); } catch (e) { /* kept in memory only */ }
      $('key-input').value = '';
      clearAuthBanner();
      setConnection();
      announce('Function key set. Loading ' + state.view + '.');
      load(state.view);
    });
    $('key-forget').addEventListener('click', function () {
      state.key = null;
      try { sessionStorage.removeItem(KEY_NAME); } catch (e) { /* ignore */ }
      setConnection();
      announce('Function key forgotten.');
      $('key-input').focus();
    });
    // Behind App Service Authentication the platform answers /.auth/me; elsewhere it is a 404.
    fetch('/.auth/me', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) return null;
      return r.json().then(function (me) {
        var principal = Array.isArray(me) ? me[0] : null;
        $('signin').hidden = false;
        if (principal && principal.user_id) {
          $('signin').textContent = 'Signed in with Entra ID as ' + principal.user_id + '.';
        }
      });
    }).catch(function () { /* not deployed behind Easy Auth */ });
  }

  // ---- views -----------------------------------------------------------------------------------

  var VIEWS = ['feeds', 'upload', 'policies', 'blocked', 'calendars'];

  function currentView() {
    var name = (location.hash || '#feeds').slice(1);
    return VIEWS.indexOf(name) >= 0 ? name : 'feeds';
  }

  function showView(focus) {
    var name = currentView();
    state.view = name;
    VIEWS.forEach(function (v) {
      $('view-' + v).hidden = v !== name;
      var link = document.querySelector('nav.views a[data-view="' + v + '"]');
      if (v === name) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    });
    document.title = $('h-' + name).textContent + ' · timetable-sync admin';
    if (focus) $('h-' + name).focus();
    load(name);
  }

  function load(name) {
    if (!state.key) {
      var target = $(name + '-status') || $('upload-result');
      if (name !== 'upload') replace(target, h('div', { class: 'notice' }, 'Enter the function key above to load this view.'));
      return Promise.resolve();
    }
    if (name === 'feeds') return loadFeeds();
    if (name === 'policies') return loadPolicies();
    if (name === 'blocked') return loadBlocked();
    if (name === 'calendars') return loadCalendars();
    return Promise.resolve();
  }

  // -- feeds

  function outcomeBadge(run) {
    if (!run) return h('span', { class: 'badge plain' }, 'never synced');
    var cls = run.outcome === 'completed' ? 'ok' : run.outcome === 'failed' ? 'err' : run.outcome === 'partial' ? 'warn' : 'plain';
    return h('span', { class: 'badge ' + cls }, 'last run ' + run.outcome);
  }

  function loadFeeds() {
    var status = $('feeds-status');
    return Promise.all([api('GET', 'status'), api('GET', 'feeds')]).then(function (results) {
      state.status = results[0];
      var settings = {};
      (results[1].feeds || []).forEach(function (f) { settings[f.id] = f; });
      state.feeds = state.status.feeds.map(function (f) { return Object.assign({}, settings[f.id] || {}, f); });
      replace(status);
      renderFeeds();
    }).catch(function (error) { showError(status, error, 'Could not load the feeds'); });
  }

  function renderFeeds() {
    var list = $('feeds-list');
    if (!state.feeds.length) {
      replace(list, h('p', { class: 'empty' }, 'No feeds yet. ', h('a', { href: '#upload' }, 'Upload a timetable'), ' to start.'));
      return;
    }
    replace(list, state.feeds.map(feedCard));
  }

  function feedCard(feed) {
    var run = feed.lastRun;
    var m = feed.meetings || {};
    var badges = h('div', { class: 'badges' },
      h('span', { class: 'badge ' + (feed.enabled ? 'info' : 'plain') }, feed.enabled ? 'enabled' : 'disabled'),
      outcomeBadge(run),
      feed.guard && feed.guard.held ? h('span', { class: 'badge warn' }, 'cancellations held') : null,
      (m.blocked || 0) + (m.failed || 0) > 0 ? h('span', { class: 'badge err' }, plural((m.blocked || 0) + (m.failed || 0), 'session') + ' without meeting') : null);
    var facts = h('dl', { class: 'facts' },
      h('dt', null, 'Source'), h('dd', null, feed.source === 'url' ? (feed.url || 'URL') : 'uploaded file'),
      h('dt', null, 'Last run'), h('dd', null, run ? fmtTime(run.finishedAt) + (run.message ? ' — ' + run.message : '') : '—'),
      run ? [h('dt', null, 'Run counts'), h('dd', null, h('ul', { class: 'counts' },
        ['created', 'updated', 'cancelled', 'unchanged', 'blocked', 'failed', 'held'].map(function (k) { return h('li', null, k + ' ', h('b', null, String(run[k] || 0))); })))] : null,
      h('dt', null, 'Meetings'), h('dd', null, h('ul', { class: 'counts' },
        h('li', null, 'active ', h('b', { 'data-count': 'active' }, String(m.active || 0))),
        h('li', null, 'blocked ', h('b', { 'data-count': 'blocked' }, String(m.blocked || 0))),
        h('li', null, 'failed ', h('b', { 'data-count': 'failed' }, String(m.failed || 0))),
        h('li', null, 'cancelled ', h('b', null, String(m.cancelled || 0))))),
      h('dt', null, 'Next retry'), h('dd', null, feed.nextRetryAt ? fmtTime(feed.nextRetryAt) : 'none due'),
      feed.defaultOrganizer ? [h('dt', null, 'Default organizer'), h('dd', null, feed.defaultOrganizer)] : null,
      feed.guard && feed.guard.held ? [h('dt', null, 'Deletion guard'), h('dd', null, plural(feed.guard.wouldCancel, 'meeting') + ' of ' + feed.guard.futureMeetings + ' would be cancelled' + (feed.guard.reason ? ' (' + feed.guard.reason + ')' : ''))] : null);
    var actions = h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'aria-label': 'Sync ' + feed.id + ' now', onclick: function (e) { syncNow(feed, e.currentTarget); } }, 'Sync now'),
      h('button', { type: 'button', 'aria-label': (feed.enabled ? 'Disable ' : 'Enable ') + feed.id, onclick: function (e) { setEnabled(feed, !feed.enabled, e.currentTarget); } }, feed.enabled ? 'Disable' : 'Enable'),
      feed.guard && feed.guard.held ? h('button', { type: 'button', class: 'danger', onclick: function (e) { confirmHeld(feed, e.currentTarget); } }, 'Confirm ' + plural(feed.guard.wouldCancel, 'cancellation')) : null);
    return h('article', { class: 'card', 'data-feed': feed.id, 'aria-labelledby': 'feed-' + feed.id },
      h('h3', { id: 'feed-' + feed.id }, feed.id), badges, facts, actions);
  }

  function busy(button, promise) {
    if (button) button.disabled = true;
    return promise.then(function (v) { if (button) button.disabled = false; return v; }, function (e) { if (button) button.disabled = false; throw e; });
  }

  function runSummary(run) {
    return run.outcome + ': created ' + run.created + ', updated ' + run.updated + ', cancelled ' + run.cancelled + ', blocked ' + run.blocked + ', failed ' + run.failed;
  }

  // After a sync is queued, watch /api/status until the feed's last run changes, then say how it went.
  function watchSync(feedId, since) {
    if (state.polls[feedId]) window.clearTimeout(state.polls[feedId]);
    var started = Date.now();
    var noted = false;
    var tick = function () {
      api('GET', 'status').then(function (status) {
        var feed = (status.feeds || []).filter(function (f) { return f.id === feedId; })[0];
        var finished = feed && feed.lastRun ? feed.lastRun.finishedAt : null;
        if (finished && finished !== since) {
          delete state.polls[feedId];
          var text = 'Sync of ' + feedId + ' finished — ' + runSummary(feed.lastRun) + '.';
          replace($('feeds-status'), h('div', { class: feed.lastRun.outcome === 'completed' ? 'success' : 'warning' }, text));
          announce(text);
          if (state.view === 'feeds') loadFeeds().then(function () { replace($('feeds-status'), h('div', { class: feed.lastRun.outcome === 'completed' ? 'success' : 'warning' }, text)); });
          return;
        }
        if (!noted && Date.now() - started > 10000) {
          noted = true;
          replace($('feeds-status'), h('div', { class: 'notice' }, 'Sync of ' + feedId + ' queued; no new run recorded yet. A feed unchanged since its last successful run (same file, nothing due) is skipped without recording a run.'));
        }
        if (Date.now() - started > 120000) {
          delete state.polls[feedId];
          replace($('feeds-status'), h('div', { class: 'notice' }, 'The sync of ' + feedId + ' is still queued; it runs when the queue worker picks it up. Refresh later.'));
          return;
        }
        state.polls[feedId] = window.setTimeout(tick, 1500);
      }).catch(function () { delete state.polls[feedId]; });
    };
    state.polls[feedId] = window.setTimeout(tick, 1000);
  }

  function lastFinished(feedId) {
    var feed = state.feeds.filter(function (f) { return f.id === feedId; })[0];
    return feed && feed.lastRun ? feed.lastRun.finishedAt : null;
  }

  function syncNow(feed, button) {
    var since = lastFinished(feed.id);
    return busy(button, api('POST', 'feeds/' + encodeURIComponent(feed.id) + '/sync')).then(function () {
      var text = 'Sync of ' + feed.id + ' queued. Waiting for it to run…';
      replace($('feeds-status'), h('div', { class: 'notice' }, text));
      announce(text);
      watchSync(feed.id, since);
    }).catch(function (error) { showError($('feeds-status'), error, 'Sync of ' + feed.id + ' was not queued'); });
  }

  function setEnabled(feed, enabled, button) {
    return busy(button, api('PUT', 'feeds/' + encodeURIComponent(feed.id), { contentType: 'application/json', body: JSON.stringify({ enabled: enabled }) })).then(function (result) {
      var text = feed.id + (enabled ? ' enabled' : ' disabled') + (result && result.syncQueued ? '; a sync was queued.' : '.');
      return loadFeeds().then(function () {
        replace($('feeds-status'), h('div', { class: 'success' }, text));
        announce(text);
        var again = document.querySelector('[data-feed="' + feed.id + '"] .actions button:nth-child(2)');
        if (again) again.focus();
        if (result && result.syncQueued) watchSync(feed.id, lastFinished(feed.id));
      });
    }).catch(function (error) { showError($('feeds-status'), error, 'Could not change ' + feed.id); });
  }

  function confirmHeld(feed, button) {
    var n = feed.guard ? feed.guard.wouldCancel : 0;
    if (!window.confirm('Let the deletion guard cancel ' + plural(n, 'meeting') + ' of ' + feed.id + '? Students lose these Teams meetings.')) return Promise.resolve();
    return busy(button, api('POST', 'feeds/' + encodeURIComponent(feed.id) + '/confirm-cancellations')).then(function (result) {
      var text = 'Cancellations of ' + feed.id + ' confirmed' + (result && result.syncQueued ? '; a sync was queued to carry them out.' : '.');
      replace($('feeds-status'), h('div', { class: 'success' }, text));
      announce(text);
      var since = lastFinished(feed.id);
      return loadFeeds().then(function () { replace($('feeds-status'), h('div', { class: 'success' }, text)); if (result && result.syncQueued) watchSync(feed.id, since); });
    }).catch(function (error) { showError($('feeds-status'), error, 'Could not confirm'); });
  }

  // -- upload

  var chosenFile = null;

  function chooseFile(file) {
    chosenFile = file || null;
    $('upload-file-name').textContent = file ? file.name + ' (' + Math.max(1, Math.round(file.size / 1024)) + ' KB)' : 'No file chosen';
    var id = $('upload-id');
    if (file && !id.value) {
      id.value = file.name.replace(/\.ics$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
    }
  }

  function initUpload() {
    var zone = $('dropzone');
    var input = $('upload-file');
    input.addEventListener('change', function () { chooseFile(input.files && input.files[0]); });
    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add('dragover'); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
    });
    ['dragleave', 'dragend'].forEach(function (type) { zone.addEventListener(type, function () { zone.classList.remove('dragover'); }); });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      zone.classList.remove('dragover');
      var files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) { chooseFile(files[0]); announce('File ' + files[0].name + ' chosen.'); }
    });
    // A file dropped anywhere else must not navigate away from the page.
    window.addEventListener('dragover', function (e) { e.preventDefault(); });
    window.addEventListener('drop', function (e) { e.preventDefault(); });
    $('upload-form').addEventListener('submit', function (e) { e.preventDefault(); upload(); });
  }

  function upload() {
    var result = $('upload-result');
    var id = $('upload-id').value.trim();
    var problems = [];
    if (!chosenFile) problems.push({ field: 'upload-file', text: 'Choose or drop an .ics file.' });
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(id)) problems.push({ field: 'upload-id', text: 'Feed id: 1–63 letters, digits, - or _, starting with a letter or digit.' });
    if (problems.length) {
      replace(result, h('div', { class: 'error', role: 'alert' }, h('strong', null, 'Not uploaded'), h('ul', null, problems.map(function (p) { return h('li', null, p.text); }))));
      $(problems[0].field).focus();
      return Promise.resolve();
    }
    if (!state.key) { authFailed(new ApiError(401, null, 'no function key entered')); return Promise.resolve(); }
    var query = [];
    var organizer = $('upload-organizer').value.trim();
    var tz = $('upload-tz').value.trim();
    if (organizer) query.push('organizer=' + encodeURIComponent(organizer));
    if (tz) query.push('timeZone=' + encodeURIComponent(tz));
    var path = 'feeds/' + encodeURIComponent(id) + (query.length ? '?' + query.join('&') : '');
    var button = $('upload-submit');
    replace(result, h('div', { class: 'notice' }, 'Uploading and validating ' + chosenFile.name + '…'));
    return chosenFile.arrayBuffer().then(function (bytes) {
      return busy(button, api('PUT', path, { contentType: 'text/calendar; charset=utf-8', body: bytes }));
    }).then(function (body) {
      renderUploadResult(body);
      if (body.syncQueued) watchSync(id, body.feed && body.feed.lastRun ? body.feed.lastRun.finishedAt : null);
    }).catch(function (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) { replace(result); return; }
      replace(result, problemBox(error, 'Upload rejected'), h('p', { class: 'small' }, 'Nothing was stored: the feed, its meetings and its published calendar are as they were.'));
      announce('Upload rejected: ' + error.message);
      var box = result.querySelector('[role=alert]');
      if (box) { box.setAttribute('tabindex', '-1'); box.focus(); }
    });
  }

  function renderUploadResult(body) {
    var result = $('upload-result');
    var feed = body.feed || {};
    var warnings = body.warnings || [];
    var skipped = body.skipped || [];
    var summary = (body.created ? 'Created feed ' : 'Uploaded a new version of ') + feed.id + ': ' + plural(body.sessions, 'session') + ' in the horizon.' +
      (body.syncQueued ? ' A sync was queued.' : feed.enabled === false ? ' The feed is disabled: nothing will be synced.' : ' The sync could not be queued; use Sync now.');
    var parts = [h('div', { class: 'success', id: 'upload-summary' }, h('strong', null, summary))];
    if (warnings.length) {
      parts.push(h('div', { class: 'warning', id: 'upload-warnings' },
        h('strong', null, plural(warnings.length, 'event') + ' skipped as unreadable'),
        h('ul', null, warnings.map(function (w) {
          return h('li', null, h('code', null, w.uid || '(no UID)'), w.line ? ' (line ' + w.line + ')' : '', ': ' + w.reason);
        }))));
    }
    if (skipped.length) {
      parts.push(h('div', { class: 'warning', id: 'upload-skipped' },
        h('strong', null, plural(skipped.length, 'session') + ' will not get a meeting'),
        h('ul', null, skipped.slice(0, 200).map(function (s) {
          return h('li', null, h('b', null, s.summary || s.uid), ' — ' + fmtTime(s.start) + ' (' + s.reason + '): ' + s.detail);
        })),
        skipped.length > 200 ? h('p', { class: 'small' }, '… and ' + (skipped.length - 200) + ' more.') : null));
    }
    replace(result, parts);
    announce(summary + (warnings.length ? ' ' + plural(warnings.length, 'warning') + '.' : ''));
  }

  // -- policies

  var STATE_CLASS = { active: 'ok', propagating: 'warn', missing: 'err', unresolved: 'err', unknown: 'plain' };

  function loadPolicies() {
    var status = $('policies-status');
    return Promise.all([api('GET', 'policies'), api('GET', 'policies/script')]).then(function (results) {
      replace(status);
      renderPolicies(results[0]);
      $('script').textContent = typeof results[1] === 'string' ? results[1].replace(/\r\n/g, '\n') : '';
    }).catch(function (error) { showError(status, error, 'Could not load the organizers'); });
  }

  function renderPolicies(data) {
    var list = $('policies-list');
    var organizers = data.organizers || [];
    var head = h('p', null, 'Policy ', h('code', null, data.policyName), data.global ? ' — a global grant was recorded at ' + fmtTime(data.global.grantedAt) + '.' : '.');
    if (!organizers.length) { replace(list, head, h('p', { class: 'empty' }, 'No organizers yet: they appear after the first sync.')); return; }
    var rows = organizers.map(function (o) {
      return h('tr', { 'data-organizer': o.email || o.objectId, 'data-state': o.state },
        h('td', { 'data-label': 'Lecturer' }, h('div', null, o.email || '(e-mail unknown)'), o.objectId ? h('div', { class: 'muted small mono' }, o.objectId) : null),
        h('td', { 'data-label': 'Policy' }, h('span', { class: 'badge ' + (STATE_CLASS[o.state] || 'plain') }, o.state), o.since ? h('div', { class: 'muted small' }, 'since ' + fmtTime(o.since)) : null),
        h('td', { 'data-label': 'Blocked sessions', class: 'num' }, String(o.blockedSessions)),
        h('td', { 'data-label': 'What to do' },
          o.grantCommand ? [h('code', { class: 'cmd' }, o.grantCommand),
            h('button', { type: 'button', 'aria-label': 'Record that the policy was granted to ' + (o.email || o.objectId), onclick: function (e) { recordGrant(o, e.currentTarget); } }, 'Record grant')]
            : o.state === 'propagating' ? 'Granted; waiting for it to reach Graph (retried automatically).'
            : o.state === 'unresolved' ? (o.reason || 'Not found in the directory: fix the ORGANIZER in the timetable.')
            : o.state === 'active' ? 'Nothing: meetings are being created.'
            : (o.reason || '—')));
    });
    replace(list, head, h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, 'Organizers and their access policy state'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Lecturer'), h('th', { scope: 'col' }, 'Policy'), h('th', { scope: 'col' }, 'Blocked sessions'), h('th', { scope: 'col' }, 'What to do'))),
      h('tbody', null, rows)));
  }

  function recordGrant(o, button) {
    return busy(button, api('POST', 'policies/grants', { contentType: 'application/json', body: JSON.stringify({ user: o.objectId || o.email }) })).then(function () {
      var text = 'Grant recorded for ' + (o.email || o.objectId) + ': its 403s now count as propagation and are retried.';
      return loadPolicies().then(function () { replace($('policies-status'), h('div', { class: 'success' }, text)); announce(text); });
    }).catch(function (error) { showError($('policies-status'), error, 'Could not record the grant'); });
  }

  function copyText(text, statusEl, what) {
    var done = function () { statusEl.textContent = what + ' copied to the clipboard.'; statusEl.setAttribute('data-copied', 'true'); };
    var fallback = function () {
      var area = h('textarea', { 'aria-hidden': 'true', readonly: true, class: 'sr-only' });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) done();
      else { statusEl.textContent = 'Copying is blocked here: the text is selected, press Ctrl+C (⌘C).'; }
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
    $('script-copy').addEventListener('click', function () {
      var text = $('script').textContent || '';
      var status = $('script-copy-status');
      copyText(text, status, 'Script').then(function () {
        if (status.getAttribute('data-copied') !== 'true') {
          var range = document.createRange();
          range.selectNodeContents($('script'));
          var sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }
      });
    });
  }

  // -- blocked

  var REASONS = {
    policyMissing: ['No Teams application access policy covers the lecturer', 'Run the grant script (Organizers & policies), then record the grant.'],
    policyPropagating: ['The policy was granted but has not reached Graph yet', 'Nothing: retried automatically for POLICY_PROPAGATION_MINUTES.'],
    organizerUnresolved: ['The lecturer\u2019s e-mail is not in the directory', 'Fix the ORGANIZER in the timetable, or create the account.'],
    transient: ['Graph failed for a moment', 'Nothing: retried on the next run.'],
    throttled: ['Graph throttled the requests', 'Nothing: retried on the next run.'],
    failed: ['The meeting could not be written', 'See the example; retried on the next run.']
  };

  function loadBlocked() {
    var status = $('blocked-status');
    return api('GET', 'status').then(function (report) {
      state.status = report;
      replace(status);
      renderBlocked(report);
    }).catch(function (error) { showError(status, error, 'Could not load the status'); });
  }

  function renderBlocked(report) {
    var blocked = report.blocked || [];
    var total = blocked.reduce(function (n, b) { return n + b.sessions; }, 0);
    var parts = [h('p', null, total ? plural(total, 'session') + ' without a meeting.' : 'Every session in the horizon has its meeting.')];
    if (blocked.length) {
      parts.push(h('table', { class: 'grid', id: 'blocked-table' },
        h('caption', { class: 'sr-only' }, 'Blocked sessions by reason'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Reason'), h('th', { scope: 'col' }, 'Sessions'), h('th', { scope: 'col' }, 'Example'), h('th', { scope: 'col' }, 'What to do'))),
        h('tbody', null, blocked.map(function (b) {
          var known = REASONS[b.code] || [b.code, 'See the example and the sync.run.completed events.'];
          return h('tr', { 'data-reason': b.code },
            h('td', { 'data-label': 'Reason' }, h('div', null, known[0]), h('code', { class: 'small' }, b.code)),
            h('td', { 'data-label': 'Sessions', class: 'num' }, String(b.sessions)),
            h('td', { 'data-label': 'Example', class: 'small' }, b.example || '—'),
            h('td', { 'data-label': 'What to do' }, known[1], b.code === 'policyMissing' ? [' ', h('a', { href: '#policies' }, 'Open the grant script')] : null));
        }))));
    }
    var poison = report.poison || { count: 0, feedIds: [] };
    parts.push(h('h3', null, 'Poison messages'),
      h('p', null, poison.count ? plural(poison.count, 'queued sync') + ' failed 5 times and stopped' + (poison.feedIds.length ? ' (' + poison.feedIds.join(', ') + ')' : '') + '. Fix the cause, then clear the poison queue.' : 'None.'));
    var cred = report.credential || {};
    parts.push(h('h3', null, 'Graph credential'),
      h('p', null, cred.kind === 'none' ? 'No Graph credential is configured.' : 'Kind: ' + cred.kind + (cred.expiresAt ? '; expires ' + fmtTime(cred.expiresAt) + ' (' + plural(cred.daysLeft, 'day') + ' left)' : '') + '.'));
    replace($('blocked-list'), parts);
  }

  // -- calendars

  function loadCalendars() {
    var status = $('calendars-status');
    return api('GET', 'feeds').then(function (list) {
      var feeds = list.feeds || [];
      if (!feeds.length) { replace(status); replace($('calendars-list'), h('p', { class: 'empty' }, 'No feeds yet.')); return; }
      return Promise.all(feeds.map(function (f) { return api('GET', 'feeds/' + encodeURIComponent(f.id)); })).then(function (details) {
        replace(status);
        replace($('calendars-list'), details.map(calendarCard));
      });
    }).catch(function (error) { showError(status, error, 'Could not load the calendar links'); });
  }

  function linkField(feedId, kind, label, url) {
    var id = 'cal-' + feedId + '-' + kind;
    var status = h('span', { class: 'small', role: 'status' });
    return h('div', { class: 'link-field' },
      h('label', { for: id }, label),
      h('div', { class: 'link-row' },
        h('input', { id: id, type: 'text', readonly: true, value: url, onfocus: function (e) { e.currentTarget.select(); } }),
        h('button', { type: 'button', 'aria-label': 'Copy the ' + label + ' of ' + feedId, onclick: function () { copyText(url, status, label); } }, 'Copy')),
      status);
  }

  function calendarCard(detail) {
    var feed = detail.feed;
    var cal = detail.calendar || {};
    return h('article', { class: 'card', 'data-calendar': feed.id, 'aria-labelledby': 'cal-h-' + feed.id },
      h('h3', { id: 'cal-h-' + feed.id }, feed.id),
      linkField(feed.id, 'webcal', 'Subscribe link (webcal)', cal.webcal),
      linkField(feed.id, 'ics', 'iCalendar (.ics)', cal.ics),
      linkField(feed.id, 'json', 'JSON', cal.json),
      h('div', { class: 'actions' },
        h('a', { href: cal.webcal, class: 'button-like' }, 'Open in a calendar app'),
        h('button', { type: 'button', class: 'danger', onclick: function (e) { rotate(feed.id, e.currentTarget); } }, 'Rotate link')));
  }

  function rotate(feedId, button) {
    if (!window.confirm('Issue a new link for ' + feedId + '? Everyone subscribed with the old link stops getting updates.')) return Promise.resolve();
    return busy(button, api('POST', 'feeds/' + encodeURIComponent(feedId) + '/calendar-token')).then(function () {
      return loadCalendars().then(function () {
        var text = 'New calendar link issued for ' + feedId + '; the old one no longer works.';
        replace($('calendars-status'), h('div', { class: 'success' }, text));
        announce(text);
      });
    }).catch(function (error) { showError($('calendars-status'), error, 'Could not rotate'); });
  }

  // ---- start -----------------------------------------------------------------------------------

  function start() {
    initKey();
    initUpload();
    initScriptCopy();
    Array.prototype.forEach.call(document.querySelectorAll('[data-refresh]'), function (button) {
      button.addEventListener('click', function () { busy(button, load(button.getAttribute('data-refresh'))).then(function () { announce('Refreshed.'); }); });
    });
    window.addEventListener('hashchange', function () { showView(true); });
    showView(false);
    if (!state.key) $('key-input').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
