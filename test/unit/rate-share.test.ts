import { describe, expect, it } from 'vitest';

import { shareFreedCeilings, type PeerView, type ShareInput } from '../../src/core/rateShare.js';

const peer = (
  instance: string,
  ceiling: number | null,
  silentForMs = 0,
  left = false,
  idle = left,
): PeerView => ({ instance, ceiling, left, idle, silentForMs });
const input = (overrides: Partial<ShareInput>): ShareInput => ({
  ownCeiling: 10,
  peers: [],
  watching: new Set(['b', 'c']),
  staleAfterMs: 10_000,
  ...overrides,
});

describe('sharing the Graph ceiling between instances', () => {
  it('splits the share of an instance that left among those still syncing, by their own ceilings', () => {
    const a = shareFreedCeilings(
      input({
        ownCeiling: 10,
        peers: [peer('b', 30), peer('c', 20, 0, true)],
        watching: new Set(['b', 'c']),
      }),
    );
    const b = shareFreedCeilings(
      input({
        ownCeiling: 30,
        peers: [peer('a', 10), peer('c', 20, 0, true)],
        watching: new Set(['a', 'c']),
      }),
    );
    expect(a.ceiling).toBeCloseTo(15);
    expect(b.ceiling).toBeCloseTo(45);
    // Nothing created or lost: the app's ceiling is what the three had learned together.
    expect((a.ceiling ?? 0) + (b.ceiling ?? 0)).toBeCloseTo(60);
    expect(a.taken.map((p) => p.instance)).toEqual(['c']);
    expect(a.active.map((p) => p.instance)).toEqual(['b']);
    expect(a.growthShare).toBeCloseTo(0.25);
    expect(b.growthShare).toBeCloseTo(0.75);
  });

  it('takes the share of a peer silent longer than the stale time (it died), not of one that reported lately', () => {
    const decision = shareFreedCeilings(input({ peers: [peer('b', 20, 9_000), peer('c', 20, 11_000)] }));
    expect(decision.taken.map((p) => p.instance)).toEqual(['c']);
    expect(decision.ceiling).toBeCloseTo(10 + (20 * 10) / 30);
  });

  it('takes a share only from a peer it saw syncing: once, and never from a row left behind long ago', () => {
    const left = peer('c', 20, 0, true);
    expect(shareFreedCeilings(input({ peers: [left] })).ceiling).toBeCloseTo(30);
    // Taken: no longer watched, so the next heartbeat takes nothing more.
    expect(shareFreedCeilings(input({ peers: [left], watching: new Set() }))).toMatchObject({
      ceiling: 10,
      taken: [],
    });
  });

  it('leaves an unpaced instance unpaced, and passes the freed share over', () => {
    const left = peer('c', 20, 0, true);
    const decision = shareFreedCeilings(input({ ownCeiling: null, peers: [left] }));
    expect(decision).toMatchObject({ ceiling: null, growthShare: 1 });
    expect(decision.taken).toEqual([left]);
  });

  it('counts instances still unpaced as syncing without a share; alone it keeps the whole growth', () => {
    const decision = shareFreedCeilings(input({ peers: [peer('b', null)] }));
    expect(decision).toMatchObject({ ceiling: 10, growthShare: 1, taken: [] });
    expect(decision.active.map((p) => p.instance)).toEqual(['b']);
  });

  it('an idle peer (its last sync ended, about to leave) takes no part: those syncing take it all', () => {
    const decision = shareFreedCeilings(
      input({
        peers: [peer('b', 10, 0, false, true), peer('c', 20, 0, true)],
        watching: new Set(['b', 'c']),
      }),
    );
    expect(decision.ceiling).toBeCloseTo(30);
    expect(decision.growthShare).toBe(1);
    // Still syncing as far as staleness goes: its own departure is watched for.
    expect(decision.active.map((p) => p.instance)).toEqual(['b']);
  });
});
