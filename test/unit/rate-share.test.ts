import { describe, expect, it } from 'vitest';

import { reportKey, shareFreedCeilings, type RateReport, type ShareInput } from '../../src/core/rateShare.js';

const NOW = 1_000_000;
const report = (instance: string, ceiling: number | null, ago = 0, left = false): RateReport => ({
  instance,
  ceiling,
  at: NOW - ago,
  left,
});
const input = (overrides: Partial<ShareInput>): ShareInput => ({
  self: 'a',
  ownCeiling: 10,
  reports: [],
  consumed: new Set(),
  now: NOW,
  staleAfterMs: 10_000,
  forgetAfterMs: 60_000,
  ...overrides,
});

describe('sharing the Graph ceiling between instances', () => {
  it('splits the share of an instance that left among those still syncing, by their own ceilings', () => {
    const reports = [report('a', 10), report('b', 30), report('c', 20, 1_000, true)];
    const a = shareFreedCeilings(input({ self: 'a', ownCeiling: 10, reports }));
    const b = shareFreedCeilings(input({ self: 'b', ownCeiling: 30, reports }));
    expect(a.ceiling).toBeCloseTo(15);
    expect(b.ceiling).toBeCloseTo(45);
    // Nothing created or lost: the app's ceiling is what the three had learned together.
    expect((a.ceiling ?? 0) + (b.ceiling ?? 0)).toBeCloseTo(60);
    expect(a.taken.map((r) => r.instance)).toEqual(['c']);
    expect(a.growthShare).toBeCloseTo(0.25);
    expect(b.growthShare).toBeCloseTo(0.75);
  });

  it('takes the share of an instance that stopped reporting (it died) but not of one that reported lately', () => {
    const reports = [report('b', 20, 9_000), report('c', 20, 11_000)];
    const decision = shareFreedCeilings(input({ reports }));
    expect(decision.taken.map((r) => r.instance)).toEqual(['c']);
    expect(decision.ceiling).toBeCloseTo(10 + (20 * 10) / 30);
  });

  it('takes a freed share once, and not at all when it is older than the forget time', () => {
    const left = report('c', 20, 1_000, true);
    const once = shareFreedCeilings(input({ reports: [left] }));
    expect(once.ceiling).toBeCloseTo(30);
    const again = shareFreedCeilings(input({ reports: [left], consumed: new Set([reportKey(left)]) }));
    expect(again).toMatchObject({ ceiling: 10, taken: [] });
    const old = shareFreedCeilings(input({ reports: [report('c', 20, 61_000, true)] }));
    expect(old).toMatchObject({ ceiling: 10, taken: [] });
  });

  it('leaves an unpaced instance unpaced and does not give it the share later', () => {
    const left = report('c', 20, 1_000, true);
    const decision = shareFreedCeilings(input({ ownCeiling: null, reports: [left] }));
    expect(decision).toMatchObject({ ceiling: null, growthShare: 1 });
    expect(decision.taken).toEqual([left]);
  });

  it('ignores its own row and instances still unpaced; alone it keeps the whole growth', () => {
    const decision = shareFreedCeilings(input({ reports: [report('a', 99), report('b', null)] }));
    expect(decision).toMatchObject({ ceiling: 10, growthShare: 1, taken: [] });
  });
});
