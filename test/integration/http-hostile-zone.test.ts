// The API stays responsive when a timetable's VTIMEZONE has rules that never match or search for long
// (issue 15: such an upload used to freeze the whole server): the upload is answered promptly (with a
// warning naming the VTIMEZONE and line), and the health route answers beside it and after it.
import { beforeAll, describe, expect, it } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import { createFeedsRoutes, createStatusRoutes, type RouteDefinition } from '../../src/http/index.js';
import { useAzurite } from '../support/azurite.js';
import { KEY, call, makeServices } from './http-support.js';

const azurite = useAzurite();

const HANGING = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//timetable-sync tests//hanging zone//EN',
  'BEGIN:VTIMEZONE',
  'TZID:Campus Time',
  'BEGIN:STANDARD',
  'DTSTART:16010101T000000',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0100',
  'RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=3;BYMINUTE=7',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:16010101T000000',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'UID:lecture-hang@campus.example',
  'DTSTAMP:20260901T000000Z',
  'DTSTART;TZID=Campus Time:20260911T090000',
  'DTEND;TZID=Campus Time:20260911T103000',
  'SUMMARY:Algebra lecture',
  'ORGANIZER:mailto:ada@uni.example',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

describe('an upload with a VTIMEZONE that never matches', () => {
  let services: AppServices;
  let feeds: RouteDefinition[];
  let status: RouteDefinition[];

  beforeAll(async () => {
    services = await makeServices(azurite);
    feeds = createFeedsRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
    status = createStatusRoutes({ services: () => Promise.resolve(services), requireKey: KEY });
  });

  it('is answered promptly with a warning naming the VTIMEZONE, and /api/health answers beside it and after it', async () => {
    const started = performance.now();
    const [upload, beside] = await Promise.all([
      call(feeds, 'feedsPut', 'PUT', 'feeds/hang', {
        params: { id: 'hang' },
        body: HANGING,
        headers: { 'content-type': 'text/calendar; charset=utf-8' },
      }),
      call(status, 'health', 'GET', 'health'),
    ]);
    const uploadMs = performance.now() - started;
    expect(uploadMs).toBeLessThan(3000);
    expect(beside.status).toBe(200);
    expect(upload.status, upload.text).toBe(201);
    const warnings = (upload.json() as { warnings: { reason: string }[] }).warnings.map((w) => w.reason);
    expect(warnings.join('\n')).toMatch(
      /VTIMEZONE "Campus Time" \(line 4\): RRULE "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" on line 16 can never match/,
    );

    const after = performance.now();
    const health = await call(status, 'health', 'GET', 'health');
    expect(health.status).toBe(200);
    expect(performance.now() - after).toBeLessThan(1000);
  });
});
