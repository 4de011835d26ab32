// Per-organizer rules (pure): refusal back-off and the monthly meeting budget.
import { describe, expect, it } from 'vitest';

import {
  budgetRetryAt,
  exhaustMonth,
  leaseCreations,
  monthOf,
  nextMonthStart,
  recordRefusal,
  settleCreations,
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

  const lease = (runId: string, month = '2027-01') => ({
    runId,
    month,
    expiresAt: '2027-01-31T23:50:00Z',
  });

  it('leases what the limit leaves after confirmed creations and other live leases; settling counts what was created', () => {
    const a = leaseCreations(null, ID, lease('a'), 3, 5, NOW);
    expect(a.granted).toBe(3);
    const b = leaseCreations(a.record, ID, lease('b'), 4, 5, NOW);
    expect(b.granted).toBe(2); // 3 leased to run a
    expect(leaseCreations(b.record, ID, lease('c'), 1, 5, NOW).granted).toBe(0);
    // Run a created only 1 of its 3: its lease goes, 1 is counted, and 2 are free again.
    const settled = settleCreations(b.record, ID, 'a', '2027-01', 1, NOW);
    expect(usedInMonth(settled, '2027-01')).toBe(1);
    expect(leaseCreations(settled, ID, lease('c'), 9, 5, NOW).granted).toBe(2);
  });

  it("a crashed run's lease lapses at its expiry instead of blocking the month", () => {
    const crashed = leaseCreations(null, ID, lease('crashed'), 5, 5, NOW).record;
    expect(leaseCreations(crashed, ID, lease('next'), 1, 5, NOW).granted).toBe(0);
    expect(budgetRetryAt(crashed, '2027-01', 5, NOW)).toBe('2027-01-31T23:45:00Z'); // soon, not next month
    const later = '2027-01-31T23:55:00Z';
    expect(leaseCreations(crashed, ID, lease('next'), 9, 5, later).granted).toBe(5);
  });

  it('a new month starts from zero; sessions wait for it only when the month is really spent', () => {
    const spent = settleCreations(null, ID, 'a', '2027-01', 5, NOW);
    expect(leaseCreations(spent, ID, lease('b'), 1, 5, NOW).granted).toBe(0);
    expect(budgetRetryAt(spent, '2027-01', 5, NOW)).toBe('2027-02-01T00:00:00Z');
    const february = leaseCreations(spent, ID, lease('b', '2027-02'), 9, 5, '2027-02-01T00:01:00Z');
    expect(february).toMatchObject({ granted: 5, record: { month: '2027-02', created: 0 } });
    // A late settle for January does not touch February's count.
    const late = settleCreations(february.record, ID, 'a', '2027-01', 3, '2027-02-01T00:02:00Z');
    expect(usedInMonth(late, '2027-02')).toBe(0);
  });

  it("Graph's own limit answer spends the month", () => {
    const leased = leaseCreations(null, ID, lease('a'), 2, 2000, NOW).record;
    const spent = exhaustMonth(leased, ID, '2027-01', 2000);
    expect(leaseCreations(spent, ID, lease('b'), 1, 2000, NOW).granted).toBe(0);
    expect(leaseCreations(spent, ID, lease('b', '2027-02'), 1, 2000, '2027-02-01T00:00:00Z').granted).toBe(1);
  });
});
