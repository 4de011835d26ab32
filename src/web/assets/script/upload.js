// @ts-check

// The Upload view: a calendar file chosen or dropped, validated by PUT /api/feeds/{id}; the result lists
// the per-event warnings and the sessions that will not get a meeting, a rejection the problem, and what
// the next sync will do with it (GET …/plan: a guard that will hold says so, with a link to the Plan
// view). Preview sends the file to POST /api/feeds/{id}/plan instead: the plan, nothing stored.

/** @import { Feed, PlanView, UploadResult } from './types.js' */
import { api, ApiError, showError } from './api.js';
import { $, $input, announce, busy, fmtTime, h, plural, replace } from './dom.js';
import { watchSync } from './feeds.js';
import { planSummary } from './plan.js';
import { authFailed } from './key.js';
import { state } from './state.js';

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

export function initUpload() {
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
  $('upload-preview').addEventListener('click', () => {
    void preview();
  });
}

/**
 * The form's file, feed id and the query of its settings; null (with the problems shown) when incomplete.
 * @returns {{ id: string, file: File, query: string } | null}
 */
function formInput() {
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
    return null;
  }
  if (!state.key) {
    authFailed(new ApiError(401, null, 'no function key entered'));
    return null;
  }
  const query = [];
  const organizer = $input('upload-organizer').value.trim();
  const tz = $input('upload-tz').value.trim();
  if (organizer) query.push(`organizer=${encodeURIComponent(organizer)}`);
  if (tz) query.push(`timeZone=${encodeURIComponent(tz)}`);
  return { id, file, query: query.length ? `?${query.join('&')}` : '' };
}

/**
 * A refused preview or upload in `result`: the problem under `title`, then what was kept (`kept`). A
 * refused key (401/403) only clears it, as showError does: the sign-in banner says so. Returns the
 * problem box, or null when none is shown.
 * @param {HTMLElement} result
 * @param {unknown} error
 * @param {string} title
 * @param {string} kept
 * @returns {HTMLElement | null}
 */
function showRefusal(result, error, title, kept) {
  showError(result, error, title);
  const box = result.querySelector('[role=alert]');
  if (!(box instanceof HTMLElement)) return null;
  result.append(h('p', { class: 'small' }, kept));
  return box;
}

/** Preview: the plan of the chosen file as the feed's next upload, shown in the Plan view; nothing stored. */
function preview() {
  const input = formInput();
  if (!input) return Promise.resolve();
  const { id, file, query } = input;
  const result = $('upload-result');
  const button = $('upload-preview');
  replace(result, h('div', { class: 'notice' }, `Planning ${file.name} as ${id} (nothing is stored)…`));
  return file
    .arrayBuffer()
    .then((bytes) =>
      busy(
        button instanceof HTMLButtonElement ? button : null,
        /** @type {Promise<PlanView>} */ (
          api('POST', `feeds/${encodeURIComponent(id)}/plan${query}`, {
            contentType: 'text/calendar; charset=utf-8',
            body: bytes,
          })
        ),
      ),
    )
    .then((plan) => {
      replace(result);
      state.preview = { feedId: id, fileName: file.name, plan };
      location.hash = '#plan';
    })
    .catch((/** @type {unknown} */ error) => {
      showRefusal(result, error, 'Preview refused', 'Nothing was stored.');
    });
}

function upload() {
  const input = formInput();
  if (!input) return Promise.resolve();
  const { id, file, query } = input;
  const result = $('upload-result');
  const path = `feeds/${encodeURIComponent(id)}${query}`;
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
      return showNextSync(id);
    })
    .catch((/** @type {unknown} */ error) => {
      const box = showRefusal(
        result,
        error,
        'Upload rejected',
        'Nothing was stored: the feed, its meetings and its published calendar are as they were.',
      );
      if (!box) return;
      announce(`Upload rejected: ${error instanceof Error ? error.message : String(error)}`);
      box.setAttribute('tabindex', '-1');
      box.focus();
    });
}

/**
 * What the next sync does with the stored upload: a guard that will hold is said plainly, any change
 * links to the Plan view.
 * @param {string} id
 */
function showNextSync(id) {
  return /** @type {Promise<PlanView>} */ (api('GET', `feeds/${encodeURIComponent(id)}/plan`))
    .then((plan) => {
      const link = h('a', { href: `#plan/${encodeURIComponent(id)}` }, 'See the plan, session by session');
      const held = plan.guard && plan.guard.held;
      const box = h(
        'div',
        { class: held ? 'warning' : 'notice', id: 'upload-plan', role: held ? 'alert' : null },
        held
          ? h(
              'strong',
              null,
              `This upload will be held: the deletion guard holds ${plural(plan.guard.wouldCancel, 'cancellation')} of ${plan.guard.futureMeetings} future meetings until someone confirms them.`,
            )
          : h('strong', null, 'The next sync will do this:'),
        `${planSummary(plan)}. `,
        link,
      );
      $('upload-result').appendChild(box);
      if (held) announce(box.textContent || '');
    })
    .catch(() => {
      // The upload itself succeeded; the plan is one click away in the Plan view.
    });
}

/** @param {UploadResult} body */
function renderUploadResult(body) {
  const result = $('upload-result');
  /** @type {Partial<Feed>} */
  const feed = body.feed || {};
  const warnings = body.warnings || [];
  const skipped = body.skipped || [];
  // The answer lists at most 50 of each; the counts say how many there are in all.
  const warningCount = warnings.length + (body.warningsOmitted || 0);
  const skippedCount = skipped.length + (body.skippedOmitted || 0);
  const summary =
    `${body.created ? 'Created feed ' : 'Uploaded a new version of '}${feed.id}: ${plural(body.sessions, 'session')} in the horizon.` +
    (body.syncQueued
      ? ' A sync was queued.'
      : feed.enabled === false
        ? ' The feed is disabled: nothing will be synced.'
        : ' The sync could not be queued; use Sync now.');
  const parts = [h('div', { class: 'success', id: 'upload-summary' }, h('strong', null, summary))];
  if (body.creationGuard && body.creationGuard.warning) {
    parts.push(
      h(
        'div',
        { class: 'warning', id: 'upload-creation-guard', role: 'alert' },
        h('strong', null, 'New meetings will be held: '),
        body.creationGuard.warning,
      ),
    );
  }
  if (warnings.length) {
    parts.push(
      h(
        'div',
        { class: 'warning', id: 'upload-warnings' },
        // Each reason says what became of its event: skipped (unreadable, over a limit) or read another way
        // (an unknown zone's times as floating).
        h(
          'strong',
          null,
          `${plural(warningCount, 'warning')} about events of this file: each says what became of the event`,
        ),
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
        warningCount > warnings.length
          ? h('p', { class: 'small' }, `… and ${warningCount - warnings.length} more.`)
          : null,
      ),
    );
  }
  if (skipped.length) {
    parts.push(
      h(
        'div',
        { class: 'warning', id: 'upload-skipped' },
        h('strong', null, `${plural(skippedCount, 'session')} will not get a meeting`),
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
        skippedCount > Math.min(skipped.length, 200)
          ? h('p', { class: 'small' }, `… and ${skippedCount - Math.min(skipped.length, 200)} more.`)
          : null,
      ),
    );
  }
  replace(result, parts);
  announce(summary + (warningCount ? ` ${plural(warningCount, 'warning')}.` : ''));
}
