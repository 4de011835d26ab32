// @ts-check

// The Plan view (#plan/<feed id>, or #plan for the preview of a file not stored yet): what the next
// sync would do, grouped — new meetings, moves, updates, cancellations, what a guard holds, blocked
// lecturers, skipped sessions — each with the session, its time and its lecturer. Reached from a feed
// card, from an upload (its result links here), and from the upload form's Preview, which sends the
// file to POST /api/feeds/{id}/plan so nothing is stored. The deletion guard's confirmation lives here,
// under the list of the cancellations it lets through.

/** @import { PlanOperation, PlanView } from './types.js' */
import { api, feedAction, showError } from './api.js';
import { $, announce, busy, buttonOf, fmtTime, h, plural, replace } from './dom.js';
import { watchSync } from './feeds.js';
import { state } from './state.js';

/** Rows shown per group; the rest are counted ("… and 40 more"). */
const ROWS_SHOWN = 200;

/** Group titles by operation kind, in reading order; a kind not listed is shown after, by its name. */
const KINDS = [
  ['create', 'New meetings'],
  ['move', 'Moved (the meeting and its link go with the session)'],
  ['update', 'Updated'],
  ['replace', 'New lecturer (the meeting is replaced)'],
  ['cancel', 'Cancelled'],
];

/** The deletion guard's reasons, in words (core/plan.ts GuardReason). */
/** @type {Record<string, string>} */
const GUARD_REASONS = {
  feedEmptied: 'the timetable lost every session',
  shareExceeded: 'more than MAX_CANCEL_SHARE of them at once',
  awaitingConfirmation: 'held since an earlier run and not confirmed yet',
};

/** @param {string} kind */
function titleOf(kind) {
  const known = KINDS.filter((k) => k[0] === kind)[0];
  return known ? known[1] || kind : kind;
}

/** @param {PlanOperation} op */
function timeText(op) {
  const range = `${fmtTime(op.start)}${op.end ? ` – ${new Date(op.end).toLocaleTimeString(undefined, { timeStyle: 'short' })}` : ''}`;
  return op.was && op.was.start && op.was.start !== op.start
    ? `${range} (was ${fmtTime(op.was.start)})`
    : range;
}

/** @param {PlanOperation} op */
function detailText(op) {
  if (op.reason === 'removed') return 'no longer in the timetable';
  if (op.reason === 'cancelled') return 'STATUS:CANCELLED in the timetable';
  if (op.reason) return op.reason;
  if (op.was && op.was.subject && op.was.subject !== op.subject) return `was '${op.was.subject}'`;
  return '';
}

/**
 * @param {PlanOperation[]} ops
 * @returns {Array<[string, PlanOperation[]]>}
 */
function groupByKind(ops) {
  /** @type {Record<string, PlanOperation[]>} */
  const groups = {};
  ops.forEach((op) => {
    (groups[op.kind] = groups[op.kind] || []).push(op);
  });
  const order = KINDS.map((k) => k[0] || '');
  return Object.keys(groups)
    .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map((kind) => [kind, groups[kind] || []]);
}

/**
 * A group of sessions as a table (a list of cards on a phone).
 * @param {string} id
 * @param {string} title
 * @param {PlanOperation[]} ops
 * @param {string} [tone]
 */
function group(id, title, ops, tone) {
  const shown = ops.slice(0, ROWS_SHOWN);
  return h(
    'section',
    { class: `plan-group${tone ? ` ${tone}` : ''}`, id, 'aria-labelledby': `${id}-h` },
    h('h3', { id: `${id}-h` }, `${title} (${ops.length})`),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, 'Session'),
          h('th', null, 'Time'),
          h('th', null, 'Lecturer'),
          h('th', null, 'Why'),
        ),
      ),
      h(
        'tbody',
        null,
        shown.map((op) =>
          h(
            'tr',
            null,
            h('td', { 'data-label': 'Session' }, h('b', null, op.subject || '(no title)')),
            h('td', { 'data-label': 'Time' }, timeText(op)),
            h('td', { 'data-label': 'Lecturer' }, op.organizerEmail || '—'),
            h('td', { 'data-label': 'Why' }, detailText(op)),
          ),
        ),
      ),
    ),
    ops.length > shown.length ? h('p', { class: 'small' }, `… and ${ops.length - shown.length} more.`) : null,
  );
}

/**
 * The counts line: "3 new, 2 moved, 1 updated, 154 cancelled (held), 208 unchanged".
 * @param {PlanView} plan
 */
export function planSummary(plan) {
  const counts = /** @type {Record<string, number>} */ (plan.counts || {});
  const parts = [
    ['create', 'new'],
    ['move', 'moved'],
    ['update', 'updated'],
    ['replace', 'new lecturer'],
    ['cancel', 'cancelled'],
    ['held', 'held by a guard'],
  ]
    .filter(([k]) => (counts[k || ''] || 0) > 0)
    .map(([k, label]) => `${counts[k || '']} ${label}`);
  parts.push(`${plan.unchanged || 0} unchanged`);
  return parts.join(', ');
}

/**
 * @param {string} feedId
 * @param {PlanView} plan
 * @param {HTMLButtonElement | null} button
 */
function confirmCancellations(feedId, plan, button) {
  const held = (plan.held || []).filter((op) => op.kind === 'cancel');
  const first = held
    .slice(0, 5)
    .map(
      (op) => `• ${op.subject} — ${fmtTime(op.start)}${op.organizerEmail ? ` (${op.organizerEmail})` : ''}`,
    );
  const more =
    held.length > first.length ? `\n… and ${held.length - first.length} more (listed on the page)` : '';
  if (
    !window.confirm(
      `Cancel these ${plural(held.length, 'meeting')} of ${feedId}? Students lose these Teams meetings.\n${first.join('\n')}${more}`,
    )
  )
    return Promise.resolve();
  const since = (state.feeds.filter((f) => f.id === feedId)[0] || {}).lastRun;
  return busy(button, feedAction('POST', `feeds/${encodeURIComponent(feedId)}/confirm-cancellations`))
    .then((result) => {
      const text = `Cancellations of ${feedId} confirmed${result && result.syncQueued ? '; a sync was queued to carry them out.' : '.'}`;
      location.hash = '#feeds';
      window.setTimeout(() => {
        replace($('feeds-status'), h('div', { class: 'success' }, text));
        announce(text);
      }, 0);
      if (result && result.syncQueued) watchSync(feedId, since ? since.finishedAt : null);
    })
    .catch((/** @type {unknown} */ error) => showError($('plan-status'), error, 'Could not confirm'));
}

/**
 * @param {PlanView} plan
 * @param {{ feedId: string, preview?: string }} about  preview: the file's name when it is not stored
 */
export function renderPlan(plan, about) {
  const body = $('plan-body');
  $('h-plan').textContent = about.preview
    ? `Preview: ${about.preview} as ${about.feedId}`
    : `Plan for ${about.feedId}`;
  const guard = plan.guard;
  const creation = plan.creationGuard;
  const heldCancels = (plan.held || []).filter((op) => op.kind === 'cancel');
  const heldCreates = (plan.held || []).filter((op) => op.kind !== 'cancel');
  /** @type {HTMLElement[]} */
  const parts = [
    h(
      'p',
      { id: 'plan-summary', class: 'lead' },
      about.preview
        ? `If ${about.preview} were uploaded as ${about.feedId}, the next sync would do this (nothing is stored yet): `
        : `What the next sync of ${about.feedId} would do (nothing changes until it runs): `,
      h('b', null, planSummary(plan)),
      '.',
    ),
  ];
  if (guard && guard.held)
    parts.push(
      h(
        'div',
        { class: 'warning', id: 'plan-guard', role: 'alert' },
        h('strong', null, `The deletion guard holds ${plural(guard.wouldCancel, 'cancellation')}`),
        `${guard.wouldCancel} of the feed's ${guard.futureMeetings} future meetings would go (${(guard.reason && GUARD_REASONS[guard.reason]) || guard.reason || 'too many at once'}). They are listed below; nothing is cancelled until someone confirms.`,
      ),
    );
  if (creation && creation.held)
    parts.push(
      h(
        'div',
        { class: 'warning', id: 'plan-creation-guard' },
        h('strong', null, `The creation guard holds ${plural(creation.heldCreates, 'new meeting')}`),
        (creation.reasons || []).join(', '),
      ),
    );
  groupByKind(plan.operations || []).forEach(([kind, ops]) =>
    parts.push(group(`plan-${kind}`, titleOf(kind), ops, kind === 'cancel' ? 'danger' : undefined)),
  );
  if (heldCancels.length) {
    parts.push(group('plan-held-cancel', 'Held: would be cancelled once confirmed', heldCancels, 'danger'));
    if (!about.preview)
      parts.push(
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              id: 'plan-confirm-cancellations',
              onclick: (e) => {
                void confirmCancellations(about.feedId, plan, buttonOf(e));
              },
            },
            `Confirm these ${plural(heldCancels.length, 'cancellation')}`,
          ),
        ),
      );
  }
  if (heldCreates.length)
    parts.push(group('plan-held-create', 'Held: new meetings waiting for confirmation', heldCreates));
  const blocked = plan.blockedOrganizers || [];
  if (blocked.length)
    parts.push(
      h(
        'section',
        { class: 'plan-group', id: 'plan-blocked', 'aria-labelledby': 'plan-blocked-h' },
        h('h3', { id: 'plan-blocked-h' }, `Blocked lecturers (${blocked.length})`),
        h(
          'ul',
          null,
          blocked.map((b) => h('li', null, h('b', null, b.email), `: ${b.reason}`)),
        ),
        h(
          'p',
          { class: 'small' },
          h('a', { href: '#policies' }, 'Organizers & policies'),
          ' has the grant script.',
        ),
      ),
    );
  const skipped = plan.skipped || [];
  const skippedCount = skipped.length + (plan.skippedOmitted || 0);
  if (skippedCount)
    parts.push(
      h(
        'section',
        { class: 'plan-group', id: 'plan-skipped', 'aria-labelledby': 'plan-skipped-h' },
        h('h3', { id: 'plan-skipped-h' }, `Sessions without a meeting (${skippedCount})`),
        h(
          'ul',
          null,
          skipped
            .slice(0, 50)
            .map((s) =>
              h('li', null, h('b', null, s.summary || s.uid), ` — ${fmtTime(s.start)}: ${s.detail}`),
            ),
        ),
        skippedCount > Math.min(50, skipped.length)
          ? h('p', { class: 'small' }, `… and ${skippedCount - Math.min(50, skipped.length)} more.`)
          : null,
      ),
    );
  if (about.preview)
    parts.push(
      h(
        'p',
        null,
        h('a', { href: '#upload', class: 'button-like primary' }, 'Back to the upload'),
        ' (the file is still chosen there).',
      ),
    );
  replace(body, parts);
  announce(`${$('h-plan').textContent}: ${planSummary(plan)}.`);
}

/** The feed id of `#plan/<id>`, if any. */
export function planFeedFromHash() {
  const match = /^#plan\/(.+)$/.exec(location.hash);
  return match && match[1] ? decodeURIComponent(match[1]) : null;
}

/** Loads the view: the feed in the hash, else the last preview. */
export function loadPlan() {
  const status = $('plan-status');
  const feedId = planFeedFromHash();
  if (!feedId) {
    if (state.preview) {
      replace(status);
      renderPlan(state.preview.plan, { feedId: state.preview.feedId, preview: state.preview.fileName });
    } else
      replace(
        status,
        h(
          'div',
          { class: 'notice' },
          'Choose Plan on a feed in ',
          h('a', { href: '#feeds' }, 'Feeds'),
          ', or Preview a file in ',
          h('a', { href: '#upload' }, 'Upload'),
          '.',
        ),
      );
    return Promise.resolve();
  }
  replace(status, h('div', { class: 'notice' }, `Planning ${feedId}…`));
  return /** @type {Promise<PlanView>} */ (api('GET', `feeds/${encodeURIComponent(feedId)}/plan`))
    .then((plan) => {
      replace(status);
      renderPlan(plan, { feedId });
    })
    .catch((/** @type {unknown} */ error) => {
      replace($('plan-body'));
      showError(status, error, `Could not plan ${feedId}`);
    });
}
