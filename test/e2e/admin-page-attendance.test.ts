// The admin page's Attendance view in headless Chromium: a feed whose first lecture was held and
// collected shows its session and attendance, and the downloads come from the admin API with the key in
// the request header (never in a link), the CSV with formula-looking cells neutralised by the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { serveAdmin, type AdminServer } from '../../src/web/serve.js';
import { ATTENDANCE_EMULATOR, startLectureWorld } from '../support/attendance.js';
import { useSyncHarness } from '../support/sync-harness.js';
import { launchBrowser, screenshots, type Browser } from './support.js';

const KEY = 'e2e-attendance-key-8d2e61';

describe('admin page: attendance (Chromium e2e)', () => {
  const harness = useSyncHarness(ATTENDANCE_EMULATOR);
  let server: AdminServer;
  let browser: Browser;
  let held = 0;

  beforeAll(async () => {
    const t = await startLectureWorld(harness);
    t.at('2027-01-11T10:20:00Z');
    t.control.holdEndedMeetings({ attendees: 8 });
    held = (await t.collect()).records;
    server = await serveAdmin({ services: t.world.services, adminKey: KEY, port: 0, log: () => undefined });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists the feed with its held session and downloads the per-student CSV', async () => {
    const { page } = browser;
    const missing: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 404) missing.push(r.url());
    });
    await page.goto(`${server.url}#attendance`);
    await page.getByLabel('Function key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    const card = page.locator('[data-attendance="cs101"]');
    await expect.poll(() => card.isVisible()).toBe(true);
    expect(await card.textContent()).toContain(`1 session held, ${held} attendance records.`);
    expect(await card.locator('tbody tr').count()).toBe(1);
    expect(await card.locator('tbody tr td').nth(2).textContent()).toBe(String(held));
    expect(await card.locator('tbody tr td').nth(3).textContent()).toBe('collected');

    const response = page.waitForResponse((r) => r.url().includes('/attendance?by=student&format=csv'));
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'CSV per student' }).click();
    const answered = await response;
    expect(answered.url()).not.toContain(KEY);
    expect(answered.headers()['content-type']).toMatch(/^text\/csv/);
    const csv = await answered.text();
    expect(csv.split('\r\n')[0]).toBe(
      '"name","email","role","sessions_attended","sessions_held","total_minutes","first_join","last_leave"',
    );
    expect(csv.trimEnd().split('\r\n')).toHaveLength(held + 1);
    expect((await download).suggestedFilename()).toBe('attendance-cs101-student.csv');
    await expect.poll(() => card.locator('[role="status"]').textContent()).toContain('Downloaded');
    // Only App Service Authentication's probe is missing here (no Entra sign-in locally).
    expect(missing.map((url) => new URL(url).pathname)).toEqual(['/.auth/me']);
    expect(browser.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await screenshots(page, 'attendance');
  });
});
