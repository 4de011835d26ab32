// @ts-check

// The hash-routed views (#feeds, #upload, #plan[/feed], #policies, #blocked, #calendars, #attendance): showing one and
// loading it.

import { loadAttendance } from './attendance.js';
import { loadBlocked } from './blocked.js';
import { loadCalendars } from './calendars.js';
import { $, h, replace } from './dom.js';
import { loadFeeds } from './feeds.js';
import { loadPlan } from './plan.js';
import { loadPolicies } from './policies.js';
import { state } from './state.js';

const VIEWS = ['feeds', 'upload', 'plan', 'policies', 'blocked', 'calendars', 'attendance'];

function currentView() {
  const name = (location.hash || '#feeds').slice(1).split('/')[0] || 'feeds';
  return VIEWS.indexOf(name) >= 0 ? name : 'feeds';
}

/** @param {boolean} focus */
export function showView(focus) {
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
export function load(name) {
  if (!state.key) {
    const target = document.getElementById(`${name}-status`) || $('upload-result');
    if (name !== 'upload')
      replace(target, h('div', { class: 'notice' }, 'Enter the function key above to load this view.'));
    return Promise.resolve();
  }
  if (name === 'feeds') return loadFeeds();
  if (name === 'plan') return loadPlan();
  if (name === 'policies') return loadPolicies();
  if (name === 'blocked') return loadBlocked();
  if (name === 'calendars') return loadCalendars();
  if (name === 'attendance') return loadAttendance();
  return Promise.resolve();
}
