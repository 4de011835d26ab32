// @ts-check

// What the page's views share: the function key, the current view, the feeds and status last loaded,
// the status polls of queued syncs (by feed id), and the last preview.

/** @import { Feed, PlanView, Status } from './types.js' */

/** sessionStorage key of the function key (KEY_STORAGE_NAME in ../../constants.ts). */
export const KEY_NAME = 'timetable-sync.functionKey';
/**
 * preview: the last Preview of a file not stored yet (the Plan view shows it at #plan).
 * @type {{ key: string | null, view: string, feeds: Feed[], status: Status | null, polls: Record<string, number>, preview: { feedId: string, fileName: string, plan: PlanView } | null }}
 */
export const state = { key: null, view: 'feeds', feeds: [], status: null, polls: {}, preview: null };
