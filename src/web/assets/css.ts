// The admin page's stylesheet: system fonts, WCAG AA contrast (text ≥ 4.5:1 on its background),
// visible focus rings, one column on a phone and a grid of cards on a laptop.
export const PAGE_CSS = `
:root {
  --fg: #1b1d21; --muted: #4a5160; --bg: #ffffff; --panel: #f5f6f8; --line: #c9ced6;
  --accent: #0a55a3; --accent-fg: #ffffff; --focus: #c2410c;
  --ok-bg: #e3f4e8; --ok-fg: #135c2b; --warn-bg: #fff3d6; --warn-fg: #6b4400;
  --err-bg: #fde8e8; --err-fg: #8f1d1d; --info-bg: #e5eefb; --info-fg: #123f7a;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; }
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.3rem; margin: 0; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
h2:focus, main:focus { outline: none; }
.muted { color: var(--muted); }
.small { font-size: 0.875rem; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.skip { position: absolute; left: 0.5rem; top: -3rem; background: var(--accent); color: var(--accent-fg); padding: 0.5rem 1rem; z-index: 10; }
.skip:focus { top: 0.5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }

.top { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-end; justify-content: space-between; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.brand p { margin: 0.25rem 0 0; }
.key-form { flex: 1 1 24rem; max-width: 34rem; }
.key-form label { display: block; font-weight: 600; }
.key-form p { margin: 0.25rem 0 0; }
.row { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; }
.row input { flex: 1 1 12rem; }

input[type=text], input[type=password], input[type=email], input:not([type]) {
  font: inherit; padding: 0.45rem 0.6rem; border: 1px solid #767d8a; border-radius: 6px; background: #fff; color: var(--fg); min-height: 44px; width: 100%;
}
.row input { width: auto; }
input:user-invalid { border-color: var(--err-fg); }
button, .button-like {
  font: inherit; min-height: 44px; padding: 0.45rem 0.9rem; border-radius: 6px; border: 1px solid #767d8a; background: #fff; color: var(--fg); cursor: pointer; display: inline-flex; align-items: center; gap: 0.35rem;
}
button:hover, .button-like:hover { background: #eceef2; }
button.primary, .button-like.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.primary:hover { background: #08437f; }
button.danger { border-color: var(--err-fg); color: var(--err-fg); }
button.link { border: none; background: none; color: var(--accent); text-decoration: underline; padding: 0.45rem 0.25rem; }
button:disabled { opacity: 0.6; cursor: progress; }

nav.views { border-bottom: 1px solid var(--line); padding: 0 1.5rem; overflow-x: auto; }
nav.views ul { list-style: none; display: flex; gap: 0.25rem; margin: 0; padding: 0; }
nav.views a { display: block; padding: 0.75rem 0.9rem; text-decoration: none; color: var(--fg); border-bottom: 3px solid transparent; white-space: nowrap; }
nav.views a[aria-current=page] { border-bottom-color: var(--accent); color: var(--accent); font-weight: 600; }
nav.views a:hover { background: var(--panel); }

main { padding: 1rem 1.5rem 2rem; max-width: 80rem; }
.view-head { display: flex; align-items: center; justify-content: space-between; gap: 1rem; margin-top: 0.5rem; }
.banner { margin: 0.75rem 1.5rem 0; padding: 0.75rem 1rem; border-radius: 6px; }
.banner strong { display: block; }
.error { background: var(--err-bg); color: var(--err-fg); border: 1px solid #e3a5a5; }
.success { background: var(--ok-bg); color: var(--ok-fg); border: 1px solid #9fd3ae; }
.notice { background: var(--info-bg); color: var(--info-fg); border: 1px solid #a9c3ea; }
.warning { background: var(--warn-bg); color: var(--warn-fg); border: 1px solid #e6c677; }
.result > div { margin: 0.75rem 0; padding: 0.75rem 1rem; border-radius: 6px; }
.result > div > strong { display: block; }
#calendars-list { grid-template-columns: 1fr; }
.result ul { margin: 0.5rem 0 0; padding-left: 1.25rem; }
.result li { margin: 0.25rem 0; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; margin-top: 1rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; background: #fff; display: flex; flex-direction: column; gap: 0.5rem; min-width: 0; }
.card h3 { margin: 0; font-size: 1.1rem; overflow-wrap: anywhere; }
.card .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: auto; padding-top: 0.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.75rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badges { display: flex; flex-wrap: wrap; gap: 0.35rem; }
.badge { display: inline-block; padding: 0.1rem 0.55rem; border-radius: 999px; font-size: 0.8rem; font-weight: 600; border: 1px solid transparent; }
.badge.ok { background: var(--ok-bg); color: var(--ok-fg); border-color: #9fd3ae; }
.badge.warn { background: var(--warn-bg); color: var(--warn-fg); border-color: #e6c677; }
.badge.err { background: var(--err-bg); color: var(--err-fg); border-color: #e3a5a5; }
.badge.info { background: var(--info-bg); color: var(--info-fg); border-color: #a9c3ea; }
.badge.plain { background: var(--panel); color: var(--muted); border-color: var(--line); }
.counts { display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; margin: 0; padding: 0; list-style: none; }
.counts b { font-variant-numeric: tabular-nums; }

.dropzone { border: 2px dashed #767d8a; border-radius: 8px; padding: 1.25rem; text-align: center; background: var(--panel); }
.dropzone p { margin: 0.25rem 0; }
.dropzone.dragover { border-color: var(--accent); background: var(--info-bg); }
.drop-title { font-weight: 600; }
.file-input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.file-input:focus-visible + p, .dropzone:focus-within label { outline: 3px solid var(--focus); outline-offset: 2px; }
.stack { display: flex; flex-direction: column; gap: 1rem; margin-top: 1rem; }
.fields { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }
.field label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.field p { margin: 0.25rem 0 0; }

.lead { font-size: 1.05rem; }
.plan-group h3 { margin-top: 1.25rem; }
.plan-group.danger h3 { color: var(--err-fg); }
#plan-body > .warning, #plan-body > .notice { margin: 0.75rem 0; padding: 0.75rem 1rem; border-radius: 6px; }
#plan-body > .warning > strong { display: block; }
#plan-body .actions { margin: 0.75rem 0; }
table.grid { border-collapse: collapse; width: 100%; margin-top: 0.75rem; }
table.grid th, table.grid td { text-align: left; vertical-align: top; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--line); }
table.grid th { background: var(--panel); font-weight: 600; }
table.grid td.num { font-variant-numeric: tabular-nums; }
.cmd { display: block; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); padding: 0.35rem 0.5rem; border-radius: 4px; margin-bottom: 0.35rem; }
.script-actions { display: flex; align-items: center; gap: 0.75rem; flex-wrap: wrap; }
pre.script { background: #1f2430; color: #f0f3f8; padding: 1rem; border-radius: 8px; overflow-x: auto; max-height: 28rem; white-space: pre; }
.link-row { display: flex; gap: 0.5rem; align-items: center; }
.link-row input { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8rem; }
.link-field label { display: block; font-weight: 600; font-size: 0.9rem; }
.empty { padding: 1rem; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); }
.foot { padding: 1rem 1.5rem 2rem; border-top: 1px solid var(--line); }

@media (max-width: 640px) {
  .top, main, nav.views { padding-left: 1rem; padding-right: 1rem; }
  .banner { margin-left: 1rem; margin-right: 1rem; }
  .cards { grid-template-columns: 1fr; }
  nav.views ul { flex-wrap: wrap; }
  nav.views a { padding: 0.6rem 0.7rem; }
  table.grid thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.grid, table.grid tbody, table.grid tr, table.grid td { display: block; width: 100%; }
  table.grid tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 0.75rem; padding: 0.25rem 0; }
  table.grid td { border: none; padding: 0.3rem 0.75rem; }
  table.grid td[data-label]::before { content: attr(data-label); display: block; font-size: 0.8rem; color: var(--muted); font-weight: 600; }
}
@media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto !important; transition: none !important; } }
`;
