// The admin page end to end: headless Chromium → the local server (src/web/serve.ts) → the real admin
// API handlers → Azurite and the https Graph emulator, with queued syncs run by the server's queue
// worker. Three lecturers are seeded; two have the access policy, one does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Page } from 'playwright-core';

import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { serveAdmin, type AdminServer } from '../../src/web/serve.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/page.js';
import { dropFile, launchBrowser, screenshots, type Browser } from './support.js';

const KEY = 'e2e-admin-key-5f3a9c1d7b';
const FEED_ID = 'spring-2027';
const ADA = 'ada.lovelace@northbridge.example';
const CHEN = 'chen.wei@northbridge.example';
const QUILL = 'p.quill@northbridge.example';

const VALID = calendar(
  [
    'UID:alg-lecture@northbridge.example',
    'DTSTART:20270111T100000Z',
    'DTEND:20270111T110000Z',
    'RRULE:FREQ=WEEKLY;COUNT=4',
    'SUMMARY:Algorithms lecture',
    `ORGANIZER;CN=Ada Lovelace:mailto:${ADA}`,
  ],
  [
    'UID:db-seminar@northbridge.example',
    'DTSTART:20270112T140000Z',
    'DTEND:20270112T153000Z',
    'RRULE:FREQ=WEEKLY;COUNT=3',
    'SUMMARY:Databases seminar',
    `ORGANIZER;CN=Chen Wei:mailto:${CHEN}`,
  ],
  [
    'UID:ethics-tutorial@northbridge.example',
    'DTSTART:20270113T090000Z',
    'DTEND:20270113T100000Z',
    'RRULE:FREQ=WEEKLY;COUNT=2',
    'SUMMARY:Ethics tutorial',
    `ORGANIZER;CN=Petra Quill:mailto:${QUILL}`,
  ],
  [
    'UID:bad-times@northbridge.example',
    'DTSTART:20270114T120000Z',
    'DTEND:20270114T110000Z',
    'SUMMARY:Lab (end before start)',
    `ORGANIZER:mailto:${ADA}`,
  ],
  [
    'UID:office-hours@northbridge.example',
    'DTSTART:20270115T120000Z',
    'DTEND:20270115T130000Z',
    'SUMMARY:Office hours',
  ],
);
/** What a timetable system's error page saved as .ics looks like. */
const BROKEN =
  '<!doctype html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Timetable export failed</h1></body></html>\n';

// Run by vitest.e2e.config.ts (`npm run test:e2e`); the default config excludes test/e2e (no browser there).
describe('admin page (Chromium e2e)', () => {
  const harness = useSyncHarness();
  let world: World;
  let server: AdminServer;
  let browser: Browser;
  let page: Page;
  let quillId = '';
  let adaId = '';
  const serverLog: string[] = [];

  beforeAll(async () => {
    world = await harness.world();
    const users = world.seed([ADA, CHEN, QUILL]);
    for (const email of [ADA, CHEN]) await world.grant(users.get(email)!);
    quillId = users.get(QUILL)!.id;
    adaId = users.get(ADA)!.id;
    // The sync clock starts a week before the semester and runs in real time, so each run has its own
    // finish time (the page watches /api/status for it).
    const realStart = Date.now();
    const startMs = world.now().getTime();
    const services = { ...world.services, now: () => new Date(startMs + (Date.now() - realStart)) };
    server = await serveAdmin({
      services,
      adminKey: KEY,
      port: 0,
      queuePollMs: 250,
      log: (line) => serverLog.push(line),
    });
    browser = await launchBrowser();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function view(name: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Views' }).locator(`a[data-view="${name}"]`).click();
    await expect.poll(() => page.locator(`#view-${name}`).isVisible()).toBe(true);
  }

  it('serves the page with a strict CSP and nothing secret in it', async () => {
    const response = await page.goto(server.url);
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['x-frame-options']).toBe('DENY');
    const html = await response!.text();
    expect(html).not.toContain(KEY);
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // only <script src=…>
    await expect.poll(() => page.locator('#feeds-status').textContent()).toContain('Enter the function key');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('key-input');
    await screenshots(page, '01-key-prompt');
  });

  it('refuses a wrong key and says so (401) on the page', async () => {
    await page.getByLabel('Function key').fill('not-the-key');
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/status'));
    await page.getByRole('button', { name: 'Use key' }).click();
    expect((await refused).status()).toBe(401);
    const banner = page.locator('#auth-banner');
    await expect.poll(() => banner.isVisible()).toBe(true);
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain('401');
    expect(text).toContain('the function key is not valid');
    expect(await banner.getAttribute('role')).toBe('alert');
    // The refused key is not kept.
    expect(await page.evaluate("sessionStorage.getItem('timetable-sync.functionKey')")).toBeNull();
    await screenshots(page, '02-wrong-key-401');
  });

  it('uploads a valid timetable, lists the events it cannot use, and the queued sync runs', async () => {
    await page.getByLabel('Function key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await expect.poll(() => page.locator('#auth-banner').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#feeds-list').textContent()).toContain('No feeds yet');

    await view('upload');
    await page
      .locator('#upload-file')
      .setInputFiles({ name: `${FEED_ID}.ics`, mimeType: 'text/calendar', buffer: Buffer.from(VALID) });
    expect(await page.locator('#upload-id').inputValue()).toBe(FEED_ID); // suggested from the file name
    expect(await page.locator('#upload-file-name').textContent()).toContain(`${FEED_ID}.ics`);
    await page.getByRole('button', { name: 'Upload and validate' }).click();

    const summary = page.locator('#upload-summary');
    await expect
      .poll(() => summary.textContent())
      .toContain(`Created feed ${FEED_ID}: 9 sessions in the horizon. A sync was queued.`);
    const warnings = (await page.locator('#upload-warnings').textContent()) ?? '';
    expect(warnings).toContain('bad-times@northbridge.example');
    expect(warnings).toContain('DTEND is before DTSTART');
    const skipped = (await page.locator('#upload-skipped').textContent()) ?? '';
    expect(skipped).toContain('Office hours');
    expect(skipped).toContain('noOrganizer');
    await screenshots(page, '03-upload-accepted');

    // The sync the upload queued is run by the local server's queue worker; the page announces it.
    await expect
      .poll(() => page.locator('#feeds-status').textContent(), { timeout: 45_000 })
      .toContain(`Sync of ${FEED_ID} finished`);
    expect(world.emulator.control.meetings()).toHaveLength(7);

    await view('feeds');
    const card = page.locator(`[data-feed="${FEED_ID}"]`);
    await expect.poll(() => card.locator('[data-count="active"]').textContent()).toBe('7');
    expect(await card.locator('[data-count="blocked"]').textContent()).toBe('2');

    await screenshots(page, '04-feeds');
  });

  it('shows a broken upload (dropped on the page) with its error, and nothing changes', async () => {
    const snapshot = async () => {
      const feed = await world.services.store.feeds.get(FEED_ID);
      const meetings = (await world.services.store.meetings.listByFeed(FEED_ID)).map((m) => [
        m.key,
        m.state,
        m.meetingId,
      ]);
      return {
        bodyVersion: feed?.bodyVersion,
        contentHash: feed?.contentHash,
        updatedAt: feed?.updatedAt,
        meetings,
        versions: await world.services.store.feedBodies.list(FEED_ID),
      };
    };
    const before = await snapshot();
    await view('upload');
    await dropFile(page, '#dropzone', 'export.ics', BROKEN);
    expect(await page.locator('#upload-file-name').textContent()).toContain('export.ics');
    await page.locator('#upload-id').fill(FEED_ID);
    const rejected = page.waitForResponse(
      (r) => r.url().includes(`/api/feeds/${FEED_ID}`) && r.request().method() === 'PUT',
    );
    await page.getByRole('button', { name: 'Upload and validate' }).click();
    expect((await rejected).status()).toBe(400);
    const alert = page.locator('#upload-result [role=alert]');
    await expect.poll(() => alert.isVisible()).toBe(true);
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('400');
    expect(text).toContain('not a usable iCalendar timetable');
    expect(text).toContain('not an iCalendar file');
    expect(await page.locator('#upload-result').textContent()).toContain('Nothing was stored');
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("role")')).toBe(
      'alert',
    );
    expect(await snapshot()).toEqual(before);
    expect(world.emulator.control.meetings()).toHaveLength(7);
    await screenshots(page, '05-upload-rejected');
  });

  it('shows the lecturer without a policy and copies the grant script', async () => {
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: new URL(server.url).origin,
    });
    await view('policies');
    const row = page.locator(`tr[data-organizer="${QUILL}"][data-state="missing"]`);
    await expect.poll(() => row.isVisible()).toBe(true);
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain('missing');
    expect(rowText).toContain(`Grant-CsApplicationAccessPolicy -PolicyName`);
    expect(rowText).toContain(quillId);
    expect(await page.locator(`tr[data-organizer="${ADA}"]`).getAttribute('data-state')).toBe('active');
    const script = (await page.locator('#script').textContent()) ?? '';
    expect(script).toContain(quillId);

    await page.getByRole('button', { name: 'Copy script' }).click();
    await expect
      .poll(() => page.locator('#script-copy-status').textContent())
      .toBe('Script copied to the clipboard.');
    const copied = String(await page.evaluate('navigator.clipboard.readText()'));
    expect(copied).toContain('Connect-MicrosoftTeams');
    expect(copied).toContain(`Grant-CsApplicationAccessPolicy -PolicyName`);
    expect(copied).toContain(quillId);
    expect(copied).not.toContain(adaId);
    await screenshots(page, '06-policies');
  });

  it('shows blocked sessions by reason and the published calendar links', async () => {
    await view('blocked');
    const row = page.locator('tr[data-reason="policyMissing"]');
    await expect.poll(() => row.isVisible()).toBe(true);
    expect(await row.textContent()).toContain('2');
    await screenshots(page, '07-blocked');

    await view('calendars');
    const ics = page.locator(`#cal-${FEED_ID}-ics`);
    await expect.poll(() => ics.isVisible()).toBe(true);
    const link = await ics.inputValue();
    expect(link).toMatch(new RegExp(`/api/calendars/${FEED_ID}\\.ics\\?token=[A-Za-z0-9_-]{20,}`));
    expect(await page.locator(`#cal-${FEED_ID}-webcal`).inputValue()).toMatch(/^webcal:\/\//);
    const calendarResponse = await page.request.get(link);
    expect(calendarResponse.status()).toBe(200);
    const body = await calendarResponse.text();
    expect(body).toContain('BEGIN:VCALENDAR');
    // Every session: the 7 with meetings, and the 2 blocked ones without a link yet.
    expect(body.match(/BEGIN:VEVENT/g)?.length).toBe(9);
    const unfolded = body.replace(/\r\n[ \t]/g, '');
    expect(unfolded.match(/X-MICROSOFT-SKYPETEAMSMEETINGURL:/g)?.length).toBe(7);
    expect(unfolded.match(/Online meeting not yet available\./g)?.length).toBe(2);
    await screenshots(page, '08-calendars');
  });

  it('after the grant is run and recorded from the page, Sync now creates the blocked meetings', async () => {
    // The admin ran the script in Teams PowerShell (here: the emulator), then records it on the page.
    world.emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: quillId }, { delayMs: 0 });
    await view('policies');
    const recorded = page.waitForResponse((r) => r.url().endsWith('/api/policies/grants'));
    await page
      .getByRole('button', { name: `Record that the policy was granted to ${QUILL}` })
      .first()
      .click();
    expect((await recorded).status()).toBe(201);
    await expect
      .poll(() => page.locator('#policies-status').textContent())
      .toContain(`Grant recorded for ${QUILL}`);

    await view('feeds');
    const before = (await world.services.store.feeds.get(FEED_ID))?.lastRun?.finishedAt;
    const queued = page.waitForResponse((r) => r.url().endsWith(`/api/feeds/${FEED_ID}/sync`));
    await page.getByRole('button', { name: `Sync ${FEED_ID} now` }).click();
    expect((await queued).status()).toBe(202);
    await expect.poll(() => page.locator('#feeds-status').textContent()).toMatch(/queued|finished/);
    await expect
      .poll(() => page.locator('#feeds-status').textContent(), { timeout: 45_000 })
      .toContain(`Sync of ${FEED_ID} finished — completed: created 2`);
    expect((await world.services.store.feeds.get(FEED_ID))?.lastRun?.finishedAt).not.toBe(before);
    const card = page.locator(`[data-feed="${FEED_ID}"]`);
    await expect.poll(() => card.locator('[data-count="active"]').textContent()).toBe('9');
    expect(await card.locator('[data-count="blocked"]').textContent()).toBe('0');
    expect(world.emulator.control.meetings()).toHaveLength(9);
    expect(world.emulator.control.duplicates()).toBe(0);
    // The live region is cleared and refilled 50 ms later (so screen readers re-announce): poll it.
    await expect.poll(() => page.locator('#live').textContent()).toContain(`Sync of ${FEED_ID} finished`);
    await screenshots(page, '09-feeds-after-sync-now');
  });

  it('ran without script errors or CSP violations', () => {
    // Chromium logs every non-2xx fetch as "Failed to load resource" (the 401s above, /.auth/me's 404).
    expect(browser.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    // The product's own error events (policy.missing, session.skipped) are expected; the server's are not.
    expect(serverLog.filter((l) => /local server|queue worker/.test(l))).toEqual([]);
  });
});
