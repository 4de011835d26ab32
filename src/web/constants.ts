// Where the admin page lives. Not `admin`: the Azure Functions host reserves every route that starts
// with "admin" (its own /admin API) and refuses to register such a function ("The specified route
// conflicts with one or more built in routes"), whatever the route prefix. So: GET /api/manage.
export const PAGE_ROUTE = 'manage';
/** Files served next to the page (GET /api/manage/{asset}). */
export const PAGE_ASSETS = ['app.js', 'app.css'] as const;
export type PageAsset = (typeof PAGE_ASSETS)[number];
/** sessionStorage key the page keeps the function key under (documented in docs/admin-page.md). */
export const KEY_STORAGE_NAME = 'timetable-sync.functionKey';
