// Where the admin page lives. Not `admin`: the Azure Functions host reserves every route that starts
// with "admin" (its own /admin API) and refuses to register such a function ("The specified route
// conflicts with one or more built in routes"), whatever the route prefix. So: GET /api/manage.
export const PAGE_ROUTE = 'manage';
/**
 * The page's entry script (GET /api/manage/main.js), a file of src/web/assets/script/ like every script
 * it imports; the files served next to the page are that folder's (assets/scripts.ts) and the stylesheet.
 */
export const PAGE_ENTRY_SCRIPT = 'main.js';
/** The page's stylesheet (GET /api/manage/app.css, assets/css.ts). */
export const PAGE_STYLESHEET = 'app.css';
/** sessionStorage key the page keeps the function key under (documented in docs/admin-page.md). */
export const KEY_STORAGE_NAME = 'timetable-sync.functionKey';
