// The creation guard on the admin page: a timetable whose recurrence runs away (FREQ=MINUTELY for
// WEEKLY) is uploaded from the page, the answer names the event and its line, the feed card shows the
// held new meetings with the event, and its confirm button lets the queued sync create them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Page } from 'playwright-core';

import { calendar, useSyncHarness, type World } from '../support/sync-harness.js';
import { serveAdmin, type AdminServer } from '../../src/web/serve.js';
import { launchBrowser, screenshots, type Browser } from './support.js';

const KEY = 'e2e-admin-key-creation-guard-7c1e';
const FEED_ID = 'typo-2027';
const ADA = 'ada.lovelace@northbridge.example';
const LECTURE = [
  'UID:alg-lecture@northbridge.example',
  'DTSTART:20270111T100000Z',
  'DTEND:20270111T110000Z',
  'RRULE:FREQ=WEEKLY;COUNT=4',
  'SUMMARY:Algorithms lecture',
  `ORGANIZER;CN=Ada Lovelace:mailto:${ADA}`,
];
const LAB = [
  'UID:alg-lab@northbridge.example',
  'DTSTART:20270113T100000Z',
  'DTEND:20270113T110000Z',
  'RRULE:FREQ=MINUTELY;COUNT=40',
  'SUMMARY:Algorithms lab',
  `ORGANIZER;CN=Ada Lovelace:mailto:${ADA}`,
];

describe('admin page: the creation guard (Chromium e2e)', () => {
  const harness = useSyncHarness();
  let world: World;
  let server: AdminServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    world = await harness.world({ settings: { GUARD_MAX_EVENT_SESSIONS: '30' } });
    await world.grant(world.seed([ADA]).get(ADA)!);
    // A feed with live meetings first (4), synced before the page is opened.
    await world.upload(FEED_ID, calendar(LECTURE));
    await world.sync(FEED_ID);
    const realStart = Date.now();
    const startMs = world.now().getTime();
    const services = { ...world.services, now: () => new Date(startMs + (Date.now() - realStart)) };
    server = await serveAdmin({ services, adminKey: KEY, port: 0, queuePollMs: 250, log: () => undefined });
    browser = await launchBrowser();
    page = browser.page;
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const labMeetings = () =>
    world.emulator.control.meetings().filter((m) => m.subject === 'Algorithms lab').length;

  it('warns on upload, shows the held event on the feed card, and creates it after the confirm button', async () => {
    await page.goto(server.url);
    await page.getByLabel('Function key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="upload"]').click();
    const text = calendar(LECTURE, LAB);
    const line =
      text
        .split('\n')
        .findIndex((l, i, all) => l.startsWith('BEGIN:VEVENT') && all[i + 2]?.startsWith('UID:alg-lab')) + 1;
    await page
      .locator('#upload-file')
      .setInputFiles({ name: `${FEED_ID}.ics`, mimeType: 'text/calendar', buffer: Buffer.from(text) });
    await page.locator('#upload-id').fill(FEED_ID);
    await page.getByRole('button', { name: 'Upload and validate' }).click();
    await expect
      .poll(() => page.locator('#upload-creation-guard').textContent())
      .toContain(`40 from event 'Algorithms lab' (UID alg-lab@northbridge.example, line ${line})`);

    // The queued sync holds the lab; the card says so and offers the confirmation.
    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="feeds"]').click();
    const card = page.locator(`[data-feed="${FEED_ID}"]`);
    const confirm = card.getByRole('button', { name: 'Confirm 40 new meetings' });
    await expect.poll(() => confirm.isVisible(), { timeout: 45_000 }).toBe(true);
    expect(await card.textContent()).toContain('new meetings held');
    expect(await card.textContent()).toContain("40 from 'Algorithms lab' (UID alg-lab@northbridge.example)");
    expect(labMeetings()).toBe(0);
    await screenshots(page, '10-creation-guard-held');

    await confirm.click();
    await expect.poll(labMeetings, { timeout: 45_000 }).toBe(40);
    await expect.poll(() => card.textContent()).not.toContain('new meetings held');
  });

  it('counts every skipped session although the answer lists only 50 of them', async () => {
    await page.getByRole('navigation', { name: 'Views' }).locator('a[data-view="upload"]').click();
    // An hourly drop-in with no ORGANIZER (and no default organizer): 120 sessions without a meeting.
    const dropIn = [
      'UID:drop-in@northbridge.example',
      'DTSTART:20270111T080000Z',
      'DTEND:20270111T090000Z',
      'RRULE:FREQ=HOURLY;COUNT=120',
      'SUMMARY:Drop-in help desk',
    ];
    await page.locator('#upload-file').setInputFiles({
      name: 'drop-in.ics',
      mimeType: 'text/calendar',
      buffer: Buffer.from(calendar(dropIn)),
    });
    await page.locator('#upload-id').fill('drop-in');
    await page.getByRole('button', { name: 'Upload and validate' }).click();
    const skipped = page.locator('#upload-skipped');
    await expect
      .poll(() => skipped.locator('strong').textContent())
      .toBe('120 sessions will not get a meeting');
    expect(await skipped.locator('li').count()).toBe(50);
    expect(await skipped.textContent()).toContain('… and 70 more.');
  });

  it('ran without script errors or CSP violations', () => {
    // Chromium logs every non-2xx fetch as "Failed to load resource" (/.auth/me's 404 off App Service).
    expect(browser.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
