// The Plan view on the admin page: a file previewed before it is stored (nothing is stored, the sessions
// it would create are listed with time and lecturer), and a shrunk upload whose cancellations the
// deletion guard holds: the upload says it will be held, the plan lists the sessions that would be
// cancelled, and only the confirmation under that list lets the sync cancel them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Page } from 'playwright-core';

import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { serveAdmin, type AdminServer } from '../../src/web/serve.js';
import { launchBrowser, screenshots, type Browser } from './support.js';

const KEY = 'e2e-admin-key-plan-view-41d2';
const FEED_ID = 'algorithms-2027';
const ADA = 'ada.lovelace@northbridge.example';
const CHEN = 'chen.wei@northbridge.example';
const lecture = (count: number) => [
  'UID:alg-lecture@northbridge.example',
  'DTSTART:20270111T100000Z',
  'DTEND:20270111T110000Z',
  `RRULE:FREQ=WEEKLY;COUNT=${count}`,
  'SUMMARY:Algorithms lecture',
  `ORGANIZER;CN=Ada Lovelace:mailto:${ADA}`,
];
const SEMINAR = [
  'UID:db-seminar@northbridge.example',
  'DTSTART:20270112T140000Z',
  'DTEND:20270112T153000Z',
  'RRULE:FREQ=WEEKLY;COUNT=3',
  'SUMMARY:Databases seminar',
  `ORGANIZER;CN=Chen Wei:mailto:${CHEN}`,
];

describe('admin page: the plan view (Chromium e2e)', () => {
  const harness = useSyncHarness();
  let world: World;
  let server: AdminServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    world = await harness.world();
    const users = world.seed([ADA, CHEN]);
    for (const email of [ADA, CHEN]) await world.grant(users.get(email)!);
    // Ten weekly lectures with their meetings, before the page is opened.
    await world.upload(FEED_ID, calendar(lecture(10)));
    await world.sync(FEED_ID);
    const realStart = Date.now();
    const startMs = world.now().getTime();
    const services = { ...world.services, now: () => new Date(startMs + (Date.now() - realStart)) };
    server = await serveAdmin({ services, adminKey: KEY, port: 0, queuePollMs: 250, log: () => undefined });
    browser = await launchBrowser();
    page = browser.page;
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(server.url);
    await page.getByLabel('Function key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const liveLectures = () =>
    world.emulator.control.meetings().filter((m) => m.subject === 'Algorithms lecture').length;

  async function chooseFile(name: string, text: string, feedId: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="upload"]').click();
    await page
      .locator('#upload-file')
      .setInputFiles({ name, mimeType: 'text/calendar', buffer: Buffer.from(text) });
    await page.locator('#upload-id').fill(feedId);
  }

  it('previews a file that is not stored: its new meetings with time and lecturer, and nothing stored', async () => {
    await chooseFile('seminars.ics', calendar(SEMINAR), 'seminars-2027');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect
      .poll(() => page.locator('#h-plan').textContent())
      .toBe('Preview: seminars.ics as seminars-2027');
    const created = page.locator('#plan-create');
    await expect.poll(() => created.locator('h3').textContent()).toBe('New meetings (3)');
    const rows = await created.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toContain('Databases seminar');
      expect(row).toContain(CHEN);
      expect(row).toMatch(/2027/);
    }
    expect(await page.locator('#plan-summary').textContent()).toContain('nothing is stored yet');
    expect(await page.locator('#plan-confirm-cancellations').count()).toBe(0);
    await screenshots(page, '20-plan-preview');
    expect(await world.services.store.feeds.get('seminars-2027')).toBeNull();
  });

  it('a shrunk upload says it will be held; the plan lists what would be cancelled; confirming cancels it', async () => {
    expect(liveLectures()).toBe(10);
    await chooseFile(`${FEED_ID}.ics`, calendar(lecture(2)), FEED_ID);
    await page.getByRole('button', { name: 'Upload and validate' }).click();
    const said = page.locator('#upload-plan');
    await expect
      .poll(() => said.textContent())
      .toContain('This upload will be held: the deletion guard holds 8 cancellations of 10 future meetings');

    // From the upload's link, and from the feed card once the queued sync has held them.
    await said.getByRole('link', { name: 'See the plan, session by session' }).click();
    const held = page.locator('#plan-held-cancel');
    await expect
      .poll(() => held.locator('h3').textContent())
      .toBe('Held: would be cancelled once confirmed (8)');
    const rows = await held.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      expect(row).toContain('Algorithms lecture');
      expect(row).toContain(ADA);
      expect(row).toContain('no longer in the timetable');
    }
    expect(await page.locator('#plan-guard').textContent()).toContain(
      'nothing is cancelled until someone confirms',
    );

    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="feeds"]').click();
    const review = page
      .locator(`[data-feed="${FEED_ID}"]`)
      .getByRole('link', { name: 'Review 8 cancellations' });
    await expect.poll(() => review.isVisible(), { timeout: 45_000 }).toBe(true);
    expect(liveLectures()).toBe(10);
    await review.click();
    const confirm = page.getByRole('button', { name: 'Confirm these 8 cancellations' });
    await expect.poll(() => confirm.isVisible()).toBe(true);
    await screenshots(page, '21-plan-held-cancellations');

    await confirm.click();
    await expect.poll(liveLectures, { timeout: 45_000 }).toBe(2);
    // The confirmation named what it cancels.
    expect(dialogs.at(-1)).toContain('Cancel these 8 meetings of algorithms-2027?');
    expect(dialogs.at(-1)).toContain('Algorithms lecture');
    expect(dialogs.at(-1)).toContain('… and 3 more');
  });

  it('shows the counts growing while a sync runs, then how it went', async () => {
    // Every Graph answer takes 250 ms: 24 new meetings (a create and a PATCH each, 4 at a time for one
    // lecturer) take several seconds, while the page polls /api/status every 1.5 s.
    world.emulator.control.setFaults({ latencyMs: 250 });
    const weekly = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA'].map((day, i) => [
      `UID:office-${day}@northbridge.example`,
      `DTSTART:2027011${1 + i}T090000Z`,
      `DTEND:2027011${1 + i}T093000Z`,
      'RRULE:FREQ=WEEKLY;COUNT=4',
      'SUMMARY:Office hour',
      `ORGANIZER;CN=Chen Wei:mailto:${CHEN}`,
    ]);
    await chooseFile('office.ics', calendar(...weekly), 'office-2027');
    await page.getByRole('button', { name: 'Upload and validate' }).click();
    await expect.poll(() => page.locator('#upload-summary').textContent()).toContain('A sync was queued.');
    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="feeds"]').click();
    const progress = page.locator('#sync-progress[data-feed="office-2027"]');
    await expect
      .poll(() => progress.textContent(), { timeout: 30_000 })
      .toMatch(/so far ([1-9]|1\d|2[0-3]) meetings active/);
    await screenshots(page, '22-sync-progress');
    await expect
      .poll(() => page.locator('#feeds-status').textContent(), { timeout: 45_000 })
      .toContain('Sync of office-2027 finished — completed: created 24');
    world.emulator.control.setFaults(null);
  });

  it('ran without script errors or CSP violations', () => {
    // Chromium logs every non-2xx fetch as "Failed to load resource" (/.auth/me's 404 off App Service).
    expect(browser.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
