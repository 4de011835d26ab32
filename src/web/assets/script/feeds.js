// @ts-check

// The Feeds view: each feed with its last run, meetings and guards; Sync now, Enable/Disable, Plan (the
// Plan view, where held cancellations are listed and confirmed); after a sync is queued, watchSync()
// polls /api/status until its run is recorded, updating the feed's counts meanwhile.

/** @import { CreationGuard, Feed, Run, RunCount } from './types.js' */
import { feedAction, getFeeds, getStatus, showError } from './api.js';
import { $, announce, busy, buttonOf, fmtTime, h, plural, replace } from './dom.js';
import { state } from './state.js';

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

export function loadFeeds() {
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
  const creations = feed.creationGuard && feed.creationGuard.held ? feed.creationGuard : null;
  const badges = h(
    'div',
    { class: 'badges' },
    h('span', { class: `badge ${feed.enabled ? 'info' : 'plain'}` }, feed.enabled ? 'enabled' : 'disabled'),
    outcomeBadge(run),
    guard && guard.held ? h('span', { class: 'badge warn' }, 'cancellations held') : null,
    creations ? h('span', { class: 'badge warn' }, 'new meetings held') : null,
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
    feed.defaultOrganizer ? [h('dt', null, 'Default organizer'), h('dd', null, feed.defaultOrganizer)] : null,
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
    creations ? [h('dt', null, 'Creation guard'), h('dd', null, creationGuardText(creations))] : null,
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
    h(
      'a',
      {
        href: `#plan/${encodeURIComponent(feed.id)}`,
        class: `button-like${guard && guard.held ? ' danger' : ''}`,
        'aria-label': guard && guard.held ? undefined : `Plan of ${feed.id}`,
      },
      // The held cancellations are confirmed there, under their list: never blind from here.
      guard && guard.held ? `Review ${plural(guard.wouldCancel, 'cancellation')}` : 'Plan',
    ),
    // New meetings that only wait for the held cancellations are released by that confirmation.
    creations && creations.reasons.some((r) => r !== 'cancellationsHeld')
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: (e) => {
              void confirmCreations(feed, creations, buttonOf(e));
            },
          },
          `Confirm ${plural(creations.heldCreates, 'new meeting')}`,
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

/** @param {Run} run */
function runSummary(run) {
  return `${run.outcome}: created ${run.created}, updated ${run.updated}, cancelled ${run.cancelled}, blocked ${run.blocked}, failed ${run.failed}`;
}

/**
 * After a sync is queued, watch /api/status until the feed's last run changes, then say how it went.
 * @param {string} feedId
 * @param {string | null} since  the finishedAt of the feed's last run before the sync was queued
 */
export function watchSync(feedId, since) {
  const pending = state.polls[feedId];
  if (pending) window.clearTimeout(pending);
  const started = Date.now();
  let noted = false;
  /** @type {string | null} the feed's counts when the watch began */
  let first = null;
  let moving = false;
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
        // While it runs, the feed's meeting counts change: show them as they are now.
        const counts = feed && feed.meetings ? JSON.stringify(feed.meetings) : '';
        if (first === null) first = counts;
        if (feed && feed.meetings && counts !== first) {
          moving = true;
          showProgress(feedId, feed.meetings);
        }
        if (!noted && !moving && Date.now() - started > 10000) {
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

/**
 * The counts of a feed whose sync runs: on its card and in the status line.
 * @param {string} feedId
 * @param {{ active?: number, blocked?: number, failed?: number }} m
 */
function showProgress(feedId, m) {
  const card = document.querySelector(`[data-feed="${CSS.escape(feedId)}"]`);
  /** @type {Array<'active' | 'blocked' | 'failed'>} */ (['active', 'blocked', 'failed']).forEach((k) => {
    const cell = card && card.querySelector(`[data-count="${k}"]`);
    if (cell) cell.textContent = String(m[k] || 0);
  });
  replace(
    $('feeds-status'),
    h(
      'div',
      { class: 'notice', id: 'sync-progress', 'data-feed': feedId },
      `Sync of ${feedId} queued or running — so far ${m.active || 0} meetings active, ${m.blocked || 0} blocked, ${m.failed || 0} failed…`,
    ),
  );
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
 * What the creation guard holds, by event: "1,500 of 1,503 new meetings held (eventSessions): 1,500 from 'CS101 Lab' (UID …)".
 * @param {CreationGuard} g
 */
export function creationGuardText(g) {
  const events = g.events
    .slice(0, 3)
    .map((e) => `${e.sessions} from '${e.summary}' (UID ${e.uid}${e.line ? `, line ${e.line}` : ''})`);
  return `${g.heldCreates} of ${plural(g.wouldCreate, 'new meeting')} held (${g.reasons.join(', ')})${events.length ? `: ${events.join('; ')}` : ''}`;
}

/**
 * @param {Feed} feed
 * @param {CreationGuard} creations
 * @param {HTMLButtonElement | null} button
 */
function confirmCreations(feed, creations, button) {
  if (
    !window.confirm(
      `Let the creation guard create ${plural(creations.heldCreates, 'new meeting')} for ${feed.id}? Check the events first: ${creationGuardText(creations)}`,
    )
  )
    return Promise.resolve();
  return busy(button, feedAction('POST', `feeds/${encodeURIComponent(feed.id)}/confirm-creations`))
    .then((result) => {
      const text = `New meetings of ${feed.id} confirmed${result && result.syncQueued ? '; a sync was queued to create them.' : '.'}`;
      const since = lastFinished(feed.id);
      return loadFeeds().then(() => {
        replace($('feeds-status'), h('div', { class: 'success' }, text));
        announce(text);
        if (result && result.syncQueued) watchSync(feed.id, since);
      });
    })
    .catch((/** @type {unknown} */ error) => showError($('feeds-status'), error, 'Could not confirm'));
}
