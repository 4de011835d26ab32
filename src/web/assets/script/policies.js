// @ts-check

// The Organizers & policies view: each lecturer's access policy state with what to do, Record grant,
// and the grant script with its copy button.

/** @import { Organizer, Policies } from './types.js' */
import { api, showError } from './api.js';
import { $, announce, busy, buttonOf, copyText, fmtTime, h, replace } from './dom.js';

/** @type {Record<string, string>} */
const STATE_CLASS = {
  active: 'ok',
  propagating: 'warn',
  missing: 'err',
  unresolved: 'err',
  unknown: 'plain',
};

export function loadPolicies() {
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

export function initScriptCopy() {
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
