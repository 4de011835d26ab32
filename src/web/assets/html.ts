// The admin page's HTML shell. It holds no data and no secret: every value on the page is fetched by
// its scripts (./script/, entry main.js, an ES module: deferred like every module script) from the
// admin API with the admin's own credentials. No inline script or style (see the
// Content-Security-Policy in ../page.ts); asset URLs are absolute under the page's route.
import { PAGE_ENTRY_SCRIPT, PAGE_ROUTE, PAGE_STYLESHEET } from '../constants.js';

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>timetable-sync admin</title>
<link rel="stylesheet" href="/api/${PAGE_ROUTE}/${PAGE_STYLESHEET}">
<script type="module" src="/api/${PAGE_ROUTE}/${PAGE_ENTRY_SCRIPT}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="brand">
    <h1>timetable-sync <span class="muted">admin</span></h1>
    <p class="muted small" id="connection">Not connected</p>
  </div>
  <form id="key-form" class="key-form" autocomplete="off">
    <label for="key-input">Function key</label>
    <div class="row">
      <input id="key-input" name="key" type="password" spellcheck="false" autocomplete="off" aria-describedby="key-help">
      <button type="submit" class="primary">Use key</button>
      <button type="button" id="key-forget" class="link" hidden>Forget key</button>
    </div>
    <p id="key-help" class="muted small">Sent as <code>x-functions-key</code> to the admin API; kept in this tab only (sessionStorage).
      <span id="signin" hidden>Deployed with Entra sign-in? <a id="signin-link" href="/.auth/login/aad?post_login_redirect_uri=/api/${PAGE_ROUTE}">Sign in</a> as well.</span></p>
  </form>
</header>
<div id="auth-banner" class="banner error" role="alert" hidden></div>
<nav class="views" aria-label="Views">
  <ul>
    <li><a href="#feeds" data-view="feeds">Feeds</a></li>
    <li><a href="#upload" data-view="upload">Upload</a></li>
    <li><a href="#plan" data-view="plan">Plan</a></li>
    <li><a href="#policies" data-view="policies">Organizers &amp; policies</a></li>
    <li><a href="#blocked" data-view="blocked">Blocked sessions</a></li>
    <li><a href="#calendars" data-view="calendars">Calendar links</a></li>
    <li><a href="#attendance" data-view="attendance">Attendance</a></li>
  </ul>
</nav>
<div id="live" class="sr-only" aria-live="polite" role="status"></div>
<main id="main" tabindex="-1">
  <section id="view-feeds" class="view" aria-labelledby="h-feeds" hidden>
    <div class="view-head">
      <h2 id="h-feeds" tabindex="-1">Feeds</h2>
      <button type="button" class="refresh" data-refresh="feeds">Refresh</button>
    </div>
    <p class="muted">Each feed with its last sync run, its meetings and what is waiting. A sync runs on the timer; <em>Sync now</em> queues one at once.</p>
    <div id="feeds-status" class="result" aria-live="polite"></div>
    <div id="feeds-list" class="cards"></div>
  </section>

  <section id="view-upload" class="view" aria-labelledby="h-upload" hidden>
    <div class="view-head"><h2 id="h-upload" tabindex="-1">Upload a timetable</h2></div>
    <p class="muted">The file is validated first: a rejected upload changes nothing. Events that cannot become meetings are listed below with why.</p>
    <form id="upload-form" class="stack" novalidate>
      <div id="dropzone" class="dropzone">
        <p class="drop-title">Drop an <code>.ics</code> file here</p>
        <p class="muted small">or</p>
        <label for="upload-file" class="button-like">Choose a file</label>
        <input id="upload-file" name="file" type="file" accept=".ics,text/calendar" class="file-input" aria-describedby="upload-file-name">
        <p id="upload-file-name" class="small" aria-live="polite">No file chosen</p>
      </div>
      <div class="fields">
        <div class="field">
          <label for="upload-id">Feed id</label>
          <input id="upload-id" name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,62}" maxlength="63" aria-describedby="upload-id-help">
          <p id="upload-id-help" class="muted small">Letters, digits, <code>-</code> and <code>_</code>. An existing id gets a new version.</p>
        </div>
        <div class="field">
          <label for="upload-organizer">Default organizer <span class="muted">(optional)</span></label>
          <input id="upload-organizer" name="organizer" type="email" autocomplete="off" aria-describedby="upload-organizer-help">
          <p id="upload-organizer-help" class="muted small">For events without ORGANIZER.</p>
        </div>
        <div class="field">
          <label for="upload-tz">Time zone <span class="muted">(optional)</span></label>
          <input id="upload-tz" name="timeZone" autocomplete="off" placeholder="Europe/London" aria-describedby="upload-tz-help">
          <p id="upload-tz-help" class="muted small">For floating times (IANA or Windows name).</p>
        </div>
      </div>
      <div class="row">
        <button type="submit" class="primary" id="upload-submit">Upload and validate</button>
        <button type="button" id="upload-preview" aria-describedby="upload-preview-help">Preview</button>
        <span id="upload-preview-help" class="muted small">Preview shows what the sync would do with this file, without storing it.</span>
      </div>
    </form>
    <div id="upload-result" class="result" aria-live="polite"></div>
  </section>

  <section id="view-plan" class="view" aria-labelledby="h-plan" hidden>
    <div class="view-head"><h2 id="h-plan" tabindex="-1">Plan</h2></div>
    <p class="muted">What a sync would create, move, update and cancel, what a guard holds and who is blocked, session by session. Nothing changes here until you confirm.</p>
    <div id="plan-status" class="result" aria-live="polite"></div>
    <div id="plan-body"></div>
  </section>

  <section id="view-policies" class="view" aria-labelledby="h-policies" hidden>
    <div class="view-head">
      <h2 id="h-policies" tabindex="-1">Organizers and access policies</h2>
      <button type="button" class="refresh" data-refresh="policies">Refresh</button>
    </div>
    <p class="muted">Graph creates a lecturer's meetings only once a Teams application access policy covers them. Run the script below in Teams PowerShell, then record the grants.</p>
    <div id="policies-status" class="result" aria-live="polite"></div>
    <div id="policies-list"></div>
    <h3 id="h-script">Grant script</h3>
    <div class="script-actions">
      <button type="button" id="script-copy" class="primary" aria-describedby="script-copy-status">Copy script</button>
      <span id="script-copy-status" class="small" role="status" aria-live="polite"></span>
    </div>
    <pre id="script" class="script" tabindex="0" aria-labelledby="h-script"></pre>
  </section>

  <section id="view-blocked" class="view" aria-labelledby="h-blocked" hidden>
    <div class="view-head">
      <h2 id="h-blocked" tabindex="-1">Blocked sessions</h2>
      <button type="button" class="refresh" data-refresh="blocked">Refresh</button>
    </div>
    <p class="muted">Sessions without a meeting, by reason, and what to do about each.</p>
    <div id="blocked-status" class="result" aria-live="polite"></div>
    <div id="blocked-list"></div>
  </section>

  <section id="view-calendars" class="view" aria-labelledby="h-calendars" hidden>
    <div class="view-head">
      <h2 id="h-calendars" tabindex="-1">Published calendar links</h2>
      <button type="button" class="refresh" data-refresh="calendars">Refresh</button>
    </div>
    <p class="muted">Give these to students: each subscribes to the feed's sessions with their Teams join links. Anyone with a link can read it; rotate it if it leaks.</p>
    <div id="calendars-status" class="result" aria-live="polite"></div>
    <div id="calendars-list" class="cards"></div>
  </section>

  <section id="view-attendance" class="view" aria-labelledby="h-attendance" hidden>
    <div class="view-head">
      <h2 id="h-attendance" tabindex="-1">Attendance</h2>
      <button type="button" class="refresh" data-refresh="attendance">Refresh</button>
    </div>
    <p class="muted">Who attended each session, collected from Teams after it ended, for the feeds that have attendance on. Personal data: download only what you need, keep it as your institution's policy says.</p>
    <div id="attendance-status" class="result" aria-live="polite"></div>
    <div id="attendance-list" class="cards"></div>
  </section>
</main>
<footer class="foot muted small">timetable-sync · this page holds no data of its own; everything shown comes from the admin API.</footer>
</body>
</html>
`;
