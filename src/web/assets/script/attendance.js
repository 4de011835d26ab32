// @ts-check

// The Attendance view: per feed with attendance on, its sessions (held, waiting, never held) with how many
// attended, and downloads (CSV per session, CSV per student, JSON) fetched with the admin's key and saved
// from memory: the key never goes into a link. Personal data: shown to admins only, never cached.

/**
 * @typedef {{ id: string, attendance?: boolean }} AttendanceFeed
 * @typedef {{ key: string, subject: string, start: string, state: string, reason: string | null,
 *   participants: number, attendees: Array<{ displayName: string, minutes: number }> }} AttendanceSession
 * @typedef {{ feedId: string, sessionsHeld: number, records: number, sessions?: AttendanceSession[] }} AttendanceView
 */
import { api, getFeeds, showError } from './api.js';
import { $, announce, busy, buttonOf, fmtTime, h, plural, replace } from './dom.js';

/** What each collection state means, in the admin's words. */
const STATES = /** @type {Record<string, string>} */ ({
  collected: 'collected',
  waiting: 'report not yet available',
  noReport: 'never held, or no one joined',
  permissionMissing: 'permission missing: add OnlineMeetingArtifact.Read.All and grant admin consent',
  policyMissing: 'access policy missing for the lecturer',
  failed: 'failed, retried later',
});

export function loadAttendance() {
  const status = $('attendance-status');
  return getFeeds()
    .then((list) => {
      const feeds = /** @type {AttendanceFeed[]} */ (list.feeds || []);
      const on = feeds.filter((f) => f.attendance === true);
      if (!on.length) {
        replace(status);
        replace(
          $('attendance-list'),
          h(
            'p',
            { class: 'empty' },
            'No feed collects attendance. Turn it on per feed: timetable-sync attendance enable --feed ID (or {"attendance": true} on PUT /api/feeds/{id}).',
          ),
        );
        return;
      }
      return Promise.all(
        on.map((f) =>
          api('GET', `feeds/${encodeURIComponent(f.id)}/attendance`).then(
            (view) => /** @type {AttendanceView} */ (view),
          ),
        ),
      ).then((views) => {
        replace(status);
        replace($('attendance-list'), views.map(attendanceCard));
      });
    })
    .catch((/** @type {unknown} */ error) => showError(status, error, 'Could not load attendance'));
}

/**
 * Fetches one export and saves it as a file (the key stays in the request header).
 * @param {string} feedId
 * @param {'session' | 'student'} by
 * @param {'csv' | 'json'} format
 * @param {HTMLElement} status
 */
function download(feedId, by, format, status) {
  const name = `attendance-${feedId}-${by}.${format}`;
  return api('GET', `feeds/${encodeURIComponent(feedId)}/attendance?by=${by}&format=${format}`)
    .then((body) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
      const url = URL.createObjectURL(
        new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/json' }),
      );
      const link = h('a', { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      replace(status, `Downloaded ${name}.`);
      announce(`Downloaded ${name}.`);
    })
    .catch((/** @type {unknown} */ error) => showError(status, error, `Could not download ${name}`));
}

/** @param {AttendanceView} view */
function attendanceCard(view) {
  const status = h('span', { class: 'small', role: 'status' });
  /**
   * @param {string} label
   * @param {'session' | 'student'} by
   * @param {'csv' | 'json'} format
   */
  const button = (label, by, format) =>
    h(
      'button',
      {
        type: 'button',
        'data-download': `${by}.${format}`,
        onclick: (/** @type {Event} */ e) => {
          void busy(buttonOf(e), download(view.feedId, by, format, status));
        },
      },
      label,
    );
  const sessions = view.sessions || [];
  return h(
    'article',
    { class: 'card', 'data-attendance': view.feedId, 'aria-labelledby': `att-h-${view.feedId}` },
    h('h3', { id: `att-h-${view.feedId}` }, view.feedId),
    h(
      'p',
      {},
      `${plural(view.sessionsHeld, 'session', 'sessions')} held, ${plural(view.records, 'attendance record', 'attendance records')}.`,
    ),
    h(
      'div',
      { class: 'row' },
      button('CSV per session', 'session', 'csv'),
      button('CSV per student', 'student', 'csv'),
      button('JSON', 'session', 'json'),
      status,
    ),
    sessions.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Session'),
              h('th', { scope: 'col' }, 'Subject'),
              h('th', { scope: 'col' }, 'Attended'),
              h('th', { scope: 'col' }, 'State'),
            ),
          ),
          h(
            'tbody',
            {},
            sessions.map((s) =>
              h(
                'tr',
                { 'data-session': s.key },
                h('td', {}, fmtTime(s.start)),
                h('td', {}, s.subject),
                h('td', {}, String(s.attendees.length)),
                h('td', {}, STATES[s.state] || s.state),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No session has ended since attendance was turned on.'),
  );
}
