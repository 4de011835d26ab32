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

  it('is missing, with advice, when the 403 comes after the window', () => {
    const denied = recordPolicyDenied(granted, OID, minutes(61), settings);
    expect(denied.outcome).toBe('missing');
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

describe('an active organizer that is refused', () => {
  const active = recordPolicySuccess(null, OID, minutes(0));

  it('is revoked (state missing) when there was no recent grant', () => {
    const denied = recordPolicyDenied(active, OID, minutes(600), settings);
    expect(denied.outcome).toBe('revoked');
    expect(denied.record.state).toBe('missing');
    expect(denied.message).toContain(grantCommand('TimetableMeetings', OID));
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
