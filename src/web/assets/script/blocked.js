// @ts-check

// The Blocked sessions view: sessions without a meeting by reason with what to do, poison messages and
// the Graph credential's expiry.

/** @import { Credential, Status } from './types.js' */
import { getStatus, showError } from './api.js';
import { $, fmtTime, h, plural, replace } from './dom.js';
import { state } from './state.js';

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
  organizerRefused: [
    'Teams refuses this lecturer as an organizer (guest, disabled or unlicensed account)',
    'Use the lecturer\u2019s member account, enable it, or assign a Teams licence; retried automatically.',
  ],
  organizerMonthlyLimit: [
    'The lecturer reached this month\u2019s limit of new meetings',
    'Nothing: the sessions get meetings when the month turns. Shorten HORIZON_DAYS or use per-lecturer organizers.',
  ],
  transient: ['Graph failed for a moment', 'Nothing: retried on the next run.'],
  throttled: ['Graph throttled the requests', 'Nothing: retried on the next run.'],
  failed: ['The meeting could not be written', 'See the example; retried on the next run.'],
};

export function loadBlocked() {
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
