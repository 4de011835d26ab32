// @ts-check

// What the page's views share: the function key, the current view, the feeds and status last loaded,
// and the status polls of queued syncs (by feed id).

/** @import { Feed, Status } from './types.js' */

/** sessionStorage key of the function key (KEY_STORAGE_NAME in ../../constants.ts). */
export const KEY_NAME = 'timetable-sync.functionKey';
/** @type {{ key: string | null, view: string, feeds: Feed[], status: Status | null, polls: Record<string, number> }} */
export const state = { key: null, view: 'feeds', feeds: [], status: null, polls: {} };
