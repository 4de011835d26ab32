import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  decidePolicyGate,
  grantCommand,
  grantGlobalCommand,
  recordGrant,
  recordPolicyDenied,
  recordPolicyProbe,
  recordPolicySuccess,
  type PolicySettings,
} from '../../src/core/policy.js';
import type { PolicyRecord } from '../../src/core/state.js';

const OID = '6f1c2d3e-0000-4000-8000-000000000001';
const T0 = Date.parse('2025-03-10T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const minutes = (m: number): string => iso(T0 + m * MIN);
const settings: PolicySettings = {
  propagationMinutes: 60,
  probeHours: 6,
  globalGrantedAt: null,
  policyName: 'TimetableMeetings',
};

describe('grantCommand', () => {
  it('is the exact Teams PowerShell cmdlet', () => {
    expect(grantCommand('TimetableMeetings', OID)).toBe(
      `Grant-CsApplicationAccessPolicy -PolicyName TimetableMeetings -Identity "${OID}"`,
    );
    expect(grantGlobalCommand('TimetableMeetings')).toBe(
      'Grant-CsApplicationAccessPolicy -PolicyName TimetableMeetings -Global',
    );
  });

  it('quotes what PowerShell would otherwise misread', () => {
    expect(grantCommand('Timetable Meetings', 'a"b$c')).toBe(
      'Grant-CsApplicationAccessPolicy -PolicyName "Timetable Meetings" -Identity "a`"b`$c"',
    );
  });
});

describe('decidePolicyGate', () => {
  it.each([
    ['no record yet', null, true],
    ['unknown', 'unknown', true],
    ['granted, not yet verified', 'granted', true],
    ['active', 'active', false],
  ] as const)('lets work through for %s (probe: %s)', (_what, state, probe) => {
    const record = state === null ? null : { ...recordGrant(null, OID, minutes(-10)), state };
    expect(decidePolicyGate(record, minutes(0), settings)).toEqual({ allow: true, probe });
  });
});

describe('an organizer without any grant', () => {
  const denied = recordPolicyDenied(null, OID, minutes(0), settings);

  it('is missing after a 403, with the cmdlet in the message', () => {
    expect(denied.outcome).toBe('missing');
    expect(denied.record.state).toBe('missing');
    expect(denied.retryAt).toBe(minutes(6 * 60));
    expect(denied.message).toContain(grantCommand('TimetableMeetings', OID));
  });

  it('is probed again only after probeHours', () => {
    const early = decidePolicyGate(denied.record, minutes(6 * 60 - 1), settings);
    expect(early).toMatchObject({ allow: false, state: 'missing', retryAt: minutes(6 * 60) });
    expect(early.allow === false && early.reason).toContain(grantCommand('TimetableMeetings', OID));
    expect(decidePolicyGate(denied.record, minutes(6 * 60), settings)).toEqual({ allow: true, probe: true });
  });

  it('counts a probe that died of something else towards the interval', () => {
    const probed = recordPolicyProbe(denied.record, OID, minutes(7 * 60));
    expect(decidePolicyGate(probed, minutes(8 * 60), settings).allow).toBe(false);
    expect(decidePolicyGate(probed, minutes(13 * 60), settings).allow).toBe(true);
  });

  it('is tried at once after an admin records a grant', () => {
    const granted = recordGrant(denied.record, OID, minutes(30));
    expect(granted.state).toBe('granted');
    expect(decidePolicyGate(granted, minutes(31), settings)).toEqual({ allow: true, probe: true });
  });

  it('is tried at once when a global grant newer than the denial is configured', () => {
    expect(
      decidePolicyGate(denied.record, minutes(30), { ...settings, globalGrantedAt: minutes(20) }).allow,
    ).toBe(true);
    expect(
      decidePolicyGate(denied.record, minutes(30), { ...settings, globalGrantedAt: minutes(-20) }).allow,
    ).toBe(false);
  });
});

describe('a fresh grant that is still propagating', () => {
  const grantAt = 0;
  const granted = recordGrant(null, OID, minutes(grantAt));

  /** Denials at each allowed try: returns the minutes (since the grant) at which tries were allowed. */
  function triesUntilMissing(
    firstDenial: number,
    s: PolicySettings = settings,
  ): { tries: number[]; last: string } {
    let record: PolicyRecord = granted;
    const tries: number[] = [];
    let result = recordPolicyDenied(record, OID, minutes(firstDenial), s);
    record = result.record;
    tries.push(firstDenial);
    for (let m = firstDenial; m <= 24 * 60 && result.outcome === 'propagating'; m += 0.5) {
      if (decidePolicyGate(record, minutes(m), s).allow) {
        tries.push(m);
        result = recordPolicyDenied(record, OID, minutes(m), s);
        record = result.record;
      }
    }
    return { tries, last: result.outcome };
  }

  it('is propagating after a 403 within the window, retried 1 minute after the first denial', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(5), settings);
    expect(denied).toMatchObject({
      outcome: 'propagating',
      retryAt: minutes(6),
      record: { state: 'propagating' },
    });
    expect(decidePolicyGate(denied.record, minutes(5.5), settings)).toMatchObject({
      allow: false,
      state: 'propagating',
      retryAt: minutes(6),
    });
  });

  it('backs off 1, 2, 4 … minutes after the first denial, the last try at the end of the window, then missing', () => {
    const { tries, last } = triesUntilMissing(5);
    expect(tries).toEqual([5, 6, 7, 9, 13, 21, 37, 60]);
    expect(last).toBe('missing');
  });

  it('uses the global grant when the organizer has none of its own', () => {
    const s = { ...settings, globalGrantedAt: minutes(0) };
    expect(recordPolicyDenied(null, OID, minutes(10), s).outcome).toBe('propagating');
    expect(recordPolicyDenied(null, OID, minutes(61), s).outcome).toBe('missing');
  });

  it('is missing, with advice, when the 403 comes after the window, probed again an hour after it', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(61), settings);
    expect(denied.outcome).toBe('missing');
    expect(denied.retryAt).toBe(minutes(120));
    expect(denied.message).toContain('check the policy name');
    expect(denied.message).toContain(grantCommand('TimetableMeetings', OID));
  });

  it('becomes active on success, and then needs no probing', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(5), settings);
    const ok = recordPolicySuccess(denied.record, OID, minutes(6));
    expect(ok).toMatchObject({
      state: 'active',
      verifiedAt: minutes(6),
      firstDeniedAt: null,
      grantedAt: minutes(0),
    });
    expect(decidePolicyGate(ok, minutes(6), settings)).toEqual({ allow: true, probe: false });
  });
});

describe('a grant that has not taken effect when its window ends', () => {
  const granted = recordGrant(null, OID, minutes(0));
  const windowEnd = 60;
  const afterWindow = (h: number): number => windowEnd + h * 60;

  /**
   * A 403 at `firstDenial` (minutes after the grant), then every try the gate allows (checked each
   * minute) is refused too, as the sync does it: the probe is noted, then the 403. Returns the minutes of
   * the tries; checks on the way that recordPolicyDenied and the gate name the same next instant.
   */
  function probesAfterDenial(firstDenial: number, untilMinute: number, s: PolicySettings): number[] {
    let denied = recordPolicyDenied(granted, OID, minutes(firstDenial), s);
    const tries = [firstDenial];
    for (let m = firstDenial; m <= untilMinute; m += 1) {
      const decision = decidePolicyGate(denied.record, minutes(m), s);
      if (!decision.allow) {
        expect(decision).toMatchObject({ state: 'missing', retryAt: denied.retryAt });
        continue;
      }
      expect(minutes(m)).toBe(denied.retryAt);
      tries.push(m);
      denied = recordPolicyDenied(recordPolicyProbe(denied.record, OID, minutes(m)), OID, minutes(m), s);
      expect(denied.outcome).toBe('missing');
    }
    return tries;
  }

  it('is probed 1, 2, 4, 8 hours after the window, then every probeHours', () => {
    expect(probesAfterDenial(61, 30 * 60, settings)).toEqual([
      61,
      afterWindow(1),
      afterWindow(2),
      afterWindow(4),
      afterWindow(8),
      afterWindow(14),
      afterWindow(20),
      afterWindow(26),
    ]);
  });

  it('never waits longer than probeHours between probes', () => {
    expect(probesAfterDenial(61, 16 * 60, { ...settings, probeHours: 3 })).toEqual([
      61,
      afterWindow(1),
      afterWindow(2),
      afterWindow(4),
      afterWindow(7),
      afterWindow(10),
      afterWindow(13),
    ]);
    expect(probesAfterDenial(61, 6 * 60, { ...settings, probeHours: 1 })).toEqual([
      61,
      afterWindow(1),
      afterWindow(2),
      afterWindow(3),
      afterWindow(4),
      afterWindow(5),
    ]);
  });

  it('starts the back-off when the last propagation retry, at the end of the window, is refused', () => {
    const propagating = recordPolicyDenied(granted, OID, minutes(37), settings);
    const last = recordPolicyDenied(propagating.record, OID, minutes(windowEnd), settings);
    expect(last).toMatchObject({ outcome: 'missing', retryAt: minutes(afterWindow(1)) });
  });

  it('counts from the last try: a probe that died of something else moves on to the next step', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(61), settings);
    const probed = recordPolicyProbe(denied.record, OID, minutes(afterWindow(1)));
    expect(decidePolicyGate(probed, minutes(afterWindow(1) + 1), settings)).toMatchObject({
      allow: false,
      retryAt: minutes(afterWindow(2)),
    });
  });

  it('follows the global grant the same way', () => {
    const s = { ...settings, globalGrantedAt: minutes(0) };
    const denied = recordPolicyDenied(null, OID, minutes(90), s);
    expect(denied.retryAt).toBe(minutes(afterWindow(1)));
    expect(decidePolicyGate(denied.record, minutes(100), s)).toMatchObject({
      allow: false,
      retryAt: minutes(afterWindow(1)),
    });
  });

  it('names both possibilities, the growing probes, the next probe and the cmdlet', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(61), settings);
    const gate = decidePolicyGate(denied.record, minutes(62), settings);
    expect(gate.allow).toBe(false);
    for (const text of [denied.message, gate.allow ? '' : gate.reason]) {
      expect(text).toContain('the grant is not in effect');
      expect(text).toContain('check the policy name');
      expect(text).toContain("AppIds include this app's id");
      expect(text).toContain('not another user');
      expect(text).toContain(
        'still propagating (Microsoft says up to 30 minutes; tenants report hours to days)',
      );
      expect(text).toContain('keeps probing at growing intervals');
      expect(text).toContain(`next probe at ${minutes(afterWindow(1))}`);
      expect(text).toContain(grantCommand('TimetableMeetings', OID));
    }
  });

  it('keeps the flat probe interval and the plain message for an organizer never granted', () => {
    let denied = recordPolicyDenied(null, OID, minutes(61), settings);
    const tries = [61];
    for (let m = 61; m <= 20 * 60; m += 1) {
      const decision = decidePolicyGate(denied.record, minutes(m), settings);
      if (!decision.allow) {
        expect(decision.retryAt).toBe(denied.retryAt);
        expect(decision.reason).not.toContain('still propagating');
        continue;
      }
      tries.push(m);
      denied = recordPolicyDenied(
        recordPolicyProbe(denied.record, OID, minutes(m)),
        OID,
        minutes(m),
        settings,
      );
    }
    expect(tries).toEqual([61, 61 + 6 * 60, 61 + 12 * 60, 61 + 18 * 60]);
    expect(denied.message).not.toContain('still propagating');
  });
});

describe('an active organizer that is refused', () => {
  const active = recordPolicySuccess(null, OID, minutes(0));

  it('is revoked (state missing) when there was no recent grant', () => {
    const denied = recordPolicyDenied(active, OID, minutes(600), settings);
    expect(denied.outcome).toBe('revoked');
    expect(denied.record.state).toBe('missing');
    expect(denied.message).toContain(grantCommand('TimetableMeetings', OID));
  });

  it('is revoked, with the plain advice, when it was verified after its grant', () => {
    const verified = recordPolicySuccess(recordGrant(null, OID, minutes(0)), OID, minutes(100));
    const denied = recordPolicyDenied(verified, OID, minutes(600), settings);
    expect(denied.outcome).toBe('revoked');
    expect(denied.retryAt).toBe(minutes(600 + 6 * 60));
    expect(denied.message).not.toContain('still propagating');
    const gate = decidePolicyGate(denied.record, minutes(700), settings);
    expect(gate).toMatchObject({ allow: false, retryAt: minutes(600 + 6 * 60) });
    expect(gate.allow === false && gate.reason).not.toContain('still propagating');
  });

  it('is propagating when a grant was recorded within the window', () => {
    const regranted = recordGrant(active, OID, minutes(590));
    expect(regranted.state).toBe('active');
    expect(recordPolicyDenied(regranted, OID, minutes(600), settings).outcome).toBe('propagating');
  });
});

describe('policy gate properties', () => {
  it('never lets a missing organizer through more often than once per probe interval', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMinutes: fc.integer({ min: 0, max: 600 }), probeDies: fc.boolean() }), {
          maxLength: 100,
        }),
        fc.integer({ min: 1, max: 12 }),
        (steps, probeHours) => {
          const s = { ...settings, probeHours };
          let record = recordPolicyDenied(null, OID, minutes(0), s).record;
          let now = T0;
          let lastAllowed = T0;
          for (const step of steps) {
            now += step.gapMinutes * MIN;
            const decision = decidePolicyGate(record, iso(now), s);
            if (!decision.allow) {
              expect(Date.parse(decision.retryAt)).toBeGreaterThan(now);
              continue;
            }
            expect(now - lastAllowed).toBeGreaterThanOrEqual(probeHours * HOUR);
            lastAllowed = now;
            record = recordPolicyProbe(record, OID, iso(now));
            // The probe is refused again, or dies of a timeout before an answer.
            if (!step.probeDies) record = recordPolicyDenied(record, OID, iso(now), s).record;
          }
        },
      ),
    );
  });

  it('after a grant window, probes at least an hour apart, ever sparser, at most probeHours apart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 120 }),
        fc.integer({ min: 0, max: 24 * 60 }),
        fc.integer({ min: 1, max: 12 }),
        (window, lateBy, probeHours) => {
          const s = { ...settings, propagationMinutes: window, probeHours };
          let record = recordPolicyDenied(
            recordGrant(null, OID, minutes(0)),
            OID,
            minutes(window + lateBy),
            s,
          ).record;
          const tries = [window + lateBy];
          for (let m = window + lateBy; m <= window + lateBy + 3 * probeHours * 60 + 32 * 60; m += 1) {
            if (!decidePolicyGate(record, minutes(m), s).allow) continue;
            tries.push(m);
            record = recordPolicyDenied(
              recordPolicyProbe(record, OID, minutes(m)),
              OID,
              minutes(m),
              s,
            ).record;
          }
          const gaps = tries.slice(1).map((m, i) => m - (tries[i] ?? m));
          let previous: number | null = null;
          for (const gap of gaps) {
            expect(gap).toBeLessThanOrEqual(probeHours * 60);
            if (previous !== null) expect(gap).toBeGreaterThanOrEqual(Math.max(60, previous));
            previous = gap;
          }
          expect(gaps.at(-1)).toBe(probeHours * 60);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('while propagating, never retries sooner than a minute after a denial nor lets the window pass untried', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 10, max: 120 }),
        (firstDenial, window) => {
          const s = { ...settings, propagationMinutes: window };
          let record: PolicyRecord = recordGrant(null, OID, minutes(0));
          let result = recordPolicyDenied(record, OID, minutes(firstDenial), s);
          record = result.record;
          let lastTry = firstDenial;
          const tries: number[] = [];
          for (let m = firstDenial; m <= window + 1 && result.outcome === 'propagating'; m += 0.25) {
            if (!decidePolicyGate(record, minutes(m), s).allow) continue;
            if (m > firstDenial) expect(m - lastTry).toBeGreaterThanOrEqual(Math.min(1, window - lastTry));
            tries.push(m);
            lastTry = m;
            result = recordPolicyDenied(record, OID, minutes(m), s);
            record = result.record;
          }
          if (firstDenial < window) {
            expect(tries.length === 0 ? firstDenial : tries[tries.length - 1]).toBe(window);
            expect(result.outcome).toBe('missing');
          }
        },
      ),
    );
  });
});
