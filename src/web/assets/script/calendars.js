// @ts-check

// The Calendar links view: each feed's published links (webcal, .ics, JSON) with copy buttons, and
// Rotate link.

/** @import { FeedDetail } from './types.js' */
import { api, getFeed, getFeeds, showError } from './api.js';
import { $, announce, busy, buttonOf, copyText, h, replace } from './dom.js';

export function loadCalendars() {
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
