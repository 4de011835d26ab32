// @ts-check

// DOM helpers: the page's elements, building elements (text is never HTML: no innerHTML anywhere),
// the polite live region, formatting, disabling a button while its request runs, and copying text.

/** @typedef {Node | string | number | null | undefined | false | ChildList} Child */
/** @typedef {Child[]} ChildList */
/** @typedef {Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>} Attrs */

/**
 * An element of the page (html.ts); they are all there from the start.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`admin page: no element #${id}`);
  return el;
}
/**
 * An <input> of the page.
 * @param {string} id
 * @returns {HTMLInputElement}
 */
export function $input(id) {
  const el = $(id);
  if (!(el instanceof HTMLInputElement)) throw new Error(`admin page: #${id} is not an input`);
  return el;
}

/**
 * Builds an element; attributes (or properties for on* and value), then children (text is never HTML).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} attrs
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach((name) => {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (typeof value === 'function') el.addEventListener(name.slice(2), value);
      else if (name === 'text') el.textContent = String(value);
      else if (name === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement))
        el.value = String(value);
      else el.setAttribute(name, value === true ? '' : String(value));
    });
  }
  for (const child of children) append(el, child);
  return el;
}
/**
 * @param {Node} el
 * @param {Child} child
 */
export function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(el, c));
    return;
  }
  el.appendChild(
    typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
  );
}
/**
 * @template {Node} T
 * @param {T} el
 * @returns {T}
 */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}
/**
 * @param {Node} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  clear(el);
  for (const child of children) append(el, child);
}

/** @param {string} text */
export function announce(text) {
  const live = $('live');
  live.textContent = '';
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

/**
 * @param {string | null | undefined} iso
 * @returns {string}
 */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
/**
 * @param {number} n
 * @param {string} one
 * @param {string} [many]
 */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || `${one}s`}`;
}

/**
 * The button an event was dispatched to (what busy() disables while its request runs).
 * @param {Event} event
 */
export function buttonOf(event) {
  return event.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null;
}

/**
 * Disables the button while the promise runs.
 * @template T
 * @param {HTMLButtonElement | null} button
 * @param {Promise<T>} promise
 * @returns {Promise<T>}
 */
export function busy(button, promise) {
  if (button) button.disabled = true;
  return promise.then(
    (v) => {
      if (button) button.disabled = false;
      return v;
    },
    (/** @type {unknown} */ e) => {
      if (button) button.disabled = false;
      throw e;
    },
  );
}

/**
 * Copies the text, with the clipboard API or else by selecting it and the copy command.
 * @param {string} text
 * @param {HTMLElement} statusEl  says how it went (data-copied="true" once copied)
 * @param {string} what
 * @returns {Promise<unknown>}
 */
export function copyText(text, statusEl, what) {
  const done = () => {
    statusEl.textContent = `${what} copied to the clipboard.`;
    statusEl.setAttribute('data-copied', 'true');
  };
  const fallback = () => {
    const area = h('textarea', { 'aria-hidden': 'true', readonly: true, class: 'sr-only' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    document.body.removeChild(area);
    if (ok) done();
    else {
      statusEl.textContent = 'Copying is blocked here: the text is selected, press Ctrl+C (⌘C).';
    }
    return ok;
  };
  statusEl.removeAttribute('data-copied');
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text).then(done, fallback);
  }
  fallback();
  return Promise.resolve();
}
