// Per-organizer rules (pure): refusal back-off and the monthly meeting budget.
import { describe, expect, it } from 'vitest';

import {
  exhaustMonth,
  monthOf,
  nextMonthStart,
  recordRefusal,
  releaseCreations,
  reserveCreations,
  standingRefusal,
  usedInMonth,
} from '../../src/core/organizer.js';

const ID = '00000000-0000-0000-0000-0000000000aa';
const NOW = '2027-01-31T23:30:00Z';
const cause = { status: 403, graphCode: 'Forbidden', requestId: 'req-1' };

describe('organizer refusal', () => {
  it('waits 30 min (less jitter) after the first refusal, doubling up to 24 h, and names what to check', () => {
    let status = recordRefusal(null, ID, 'ada@uni.example', cause, NOW);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const refusal = status.refusal!;
      waits.push((Date.parse(refusal.retryAt) - Date.parse(refusal.lastAt)) / 60_000);
      status = recordRefusal(status, ID, 'ada@uni.example', cause, refusal.retryAt);
    }
    const nominal = [30, 60, 120, 240, 480, 960, 1440, 1440];
    waits.forEach((wait, i) => {
      expect(wait).toBeLessThanOrEqual(nominal[i]!);
      expect(wait).toBeGreaterThanOrEqual(nominal[i]! * 0.8);
    });
    expect(status.refusal).toMatchObject({ attempts: 9, firstAt: NOW, status: 403, requestId: 'req-1' });
    expect(status.refusal!.message).toContain('ada@uni.example');
    expect(status.refusal!.message).toMatch(/guest.*enabled.*Teams licence/);
    expect(status.refusal!.message).toContain('request-id req-1');
  });

  it('a 404 says the account is gone; the refusal stands until its retry time', () => {
    const status = recordRefusal(null, ID, 'ada@uni.example', { ...cause, status: 404 }, NOW);
    expect(status.refusal!.message).toContain('no longer exists');
    expect(standingRefusal(status, NOW)).not.toBeNull();
    expect(standingRefusal(status, status.refusal!.retryAt)).toBeNull();
    expect(standingRefusal(null, NOW)).toBeNull();
  });
});

describe('monthly budget', () => {
  it('counts by UTC month and turns at its first instant', () => {
    expect(monthOf(NOW)).toBe('2027-01');
    expect(nextMonthStart(NOW)).toBe('2027-02-01T00:00:00Z');
    expect(nextMonthStart('2027-12-15T10:00:00Z')).toBe('2028-01-01T00:00:00Z');
  });

  it('grants up to the limit, gives back what was not used, and starts from zero in a new month', () => {
    const first = reserveCreations(null, ID, '2027-01', 3, 5);
    expect(first.granted).toBe(3);
    const second = reserveCreations(first.record, ID, '2027-01', 4, 5);
    expect(second.granted).toBe(2);
    expect(usedInMonth(second.record, '2027-01')).toBe(5);
    expect(reserveCreations(second.record, ID, '2027-01', 1, 5).granted).toBe(0);
    const released = releaseCreations(second.record, '2027-01', 2);
    expect(usedInMonth(released, '2027-01')).toBe(3);
    // A release for a month that is over changes nothing.
    expect(releaseCreations(second.record, '2026-12', 2)).toBe(second.record);
    const february = reserveCreations(second.record, ID, '2027-02', 9, 5);
    expect(february).toMatchObject({ granted: 5, record: { month: '2027-02', created: 5 } });
  });

  it("Graph's own limit answer spends the month", () => {
    const reserved = reserveCreations(null, ID, '2027-01', 2, 2000).record;
    const spent = exhaustMonth(reserved, ID, '2027-01', 2000);
    expect(reserveCreations(spent, ID, '2027-01', 1, 2000).granted).toBe(0);
    expect(reserveCreations(spent, ID, '2027-02', 1, 2000).granted).toBe(1);
  });
});
