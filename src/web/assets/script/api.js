// @ts-check

// The admin API: every call goes through api() (same origin, the function key as x-functions-key, no
// cache); a non-2xx answer is an ApiError (a 401/403 also raises the sign-in banner, ./key.js), shown
// with problemBox()/showError().

/** @import { FeedDetail, FeedList, Problem, Queued, Status } from './types.js' */
import { h, replace } from './dom.js';
import { authFailed } from './key.js';
import { state } from './state.js';

export class ApiError extends Error {
  /**
   * @param {number} status  0 when the API could not be reached
   * @param {unknown} body  the parsed JSON body, if any
   * @param {string} [text]  the body as text
   */
  constructor(status, body, text) {
    const problem = /** @type {Problem | null} */ (typeof body === 'object' ? body : null);
    const title = problem && typeof problem.title === 'string' ? problem.title : statusText(status);
    const detail =
      problem && typeof problem.detail === 'string' ? problem.detail : (text || '').slice(0, 300);
    super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.body = problem;
    this.title = title;
    this.detail = detail;
  }
}
/** @param {number} status */
function statusText(status) {
  /** @type {Record<number, string>} */
  const texts = {
    400: 'Bad request',
    401: 'Authentication required',
    403: 'Not allowed',
    404: 'Not found',
    409: 'Conflict',
    413: 'Too large',
    415: 'Unsupported content type',
    500: 'Internal error',
    502: 'Bad gateway',
    503: 'Service unavailable',
  };
  return texts[status] || `HTTP ${status}`;
}

/**
 * A call to the admin API: the parsed JSON answer (or the text when it is not JSON); an ApiError when
 * the status is not 2xx or the API cannot be reached. The caller's declared type T is what the route
 * answers (the typed helpers below); the page trusts the API for that, as it always has.
 * @template [T=unknown]
 * @param {string} method
 * @param {string} path
 * @param {{ contentType?: string, body?: BodyInit }} [options]
 * @returns {Promise<T>}
 */
export function api(method, path, options) {
  options = options || {};
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json, application/problem+json, text/plain' };
  if (state.key) headers['x-functions-key'] = state.key;
  if (options.contentType) headers['content-type'] = options.contentType;
  return fetch(`/api/${path}`, {
    method,
    headers,
    body: options.body,
    credentials: 'same-origin',
    cache: 'no-store',
  }).then(
    (response) => {
      const type = response.headers.get('content-type') || '';
      return response.text().then((text) => {
        /** @type {unknown} */
        let body = null;
        if (/json/.test(type) && text) {
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
        }
        if (!response.ok) {
          const error = new ApiError(response.status, body, text);
          if (response.status === 401 || response.status === 403) authFailed(error);
          throw error;
        }
        return /** @type {T} */ (body !== null ? body : text);
      });
    },
    (/** @type {unknown} */ networkError) => {
      const error = new ApiError(
        0,
        null,
        `the admin API could not be reached (${networkError instanceof Error && networkError.message ? networkError.message : 'network error'})`,
      );
      error.title = 'Network error';
      error.message = `Network error: ${error.detail}`;
      throw error;
    },
  );
}

/** @returns {Promise<Status>} */
export function getStatus() {
  return api('GET', 'status');
}
/** @returns {Promise<FeedList>} */
export function getFeeds() {
  return api('GET', 'feeds');
}
/**
 * @param {string} id
 * @returns {Promise<FeedDetail>}
 */
export function getFeed(id) {
  return api('GET', `feeds/${encodeURIComponent(id)}`);
}
/**
 * @param {string} method
 * @param {string} path
 * @param {{ contentType?: string, body?: BodyInit }} [options]
 * @returns {Promise<Queued>}
 */
export function feedAction(method, path, options) {
  return api(method, path, options);
}

/**
 * What went wrong, for the page: an ApiError as it is; anything else (a bug) as a bare "Error".
 * @param {unknown} error
 * @returns {{ status: number, title: string, detail: string, body: Problem | null }}
 */
function problemOf(error) {
  return error instanceof ApiError ? error : { status: 0, title: '', detail: '', body: null };
}

/**
 * @param {unknown} error
 * @param {string} [prefix]
 */
export function problemBox(error, prefix) {
  const problem = problemOf(error);
  const box = h(
    'div',
    { class: 'error', role: 'alert' },
    h(
      'strong',
      null,
      `${prefix ? `${prefix} — ` : ''}${problem.status ? `${problem.status} ` : ''}${problem.title || 'Error'}`,
    ),
    problem.detail ? h('span', { class: 'detail' }, problem.detail) : null,
  );
  const body = problem.body || {};
  if (Array.isArray(body.errors) && body.errors.length) {
    box.appendChild(
      h(
        'ul',
        null,
        body.errors.map((e) =>
          h(
            'li',
            null,
            typeof e === 'string' ? e : (e.path ? `${e.path}: ` : '') + (e.message || JSON.stringify(e)),
          ),
        ),
      ),
    );
  }
  if (body.code) box.appendChild(h('p', { class: 'small' }, 'Code: ', h('code', null, String(body.code))));
  if (body.graphRequestId)
    box.appendChild(
      h('p', { class: 'small' }, 'Graph request id: ', h('code', null, String(body.graphRequestId))),
    );
  return box;
}
/**
 * @param {HTMLElement} target
 * @param {unknown} error
 * @param {string} [prefix]
 */
export function showError(target, error, prefix) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    replace(target);
    return;
  }
  replace(target, problemBox(error, prefix));
}
