// The creation guard's input as a sync and an upload build it: the remaining monthly budget of the
// lecturers who can trip the lecturer rule (read from the organizer rows every feed shares), and the
// earlier hold and confirmation from the feed row. Then the plan it leads to.
import { describe, expect, it } from 'vitest';

import { toDesiredSessions } from '../../src/core/desired.js';
import type { Occurrence } from '../../src/core/occurrence.js';
import { planSync } from '../../src/core/plan.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryStateStore } from '../../src/storage/memory.js';
import { creationGuardInput } from '../../src/sync/creationGuardInput.js';
import { feedRecord } from '../support/records.js';

const NOW = '2027-01-04T08:00:00Z';
const OFFICE = 'office@uni.example';
const GRACE = 'grace@uni.example';

/** `count` daily sessions of one event from 2027-01-05. */
function occurrences(uid: string, organizer: string, count: number): Occurrence[] {
  return Array.from({ length: count }, (_, i) => {
    const start =
      new Date(Date.parse('2027-01-05T09:00:00Z') + i * 86_400_000).toISOString().slice(0, 19) + 'Z';
    const end = start.replace('T09:', 'T10:');
    return {
      uid,
      recurrenceId: start,
      start,
      end,
      allDay: false,
      floating: false,
      summary: `Sessions of ${uid}`,
      description: '',
      location: '',
      organizer: { email: organizer },
      attendees: [],
      status: 'confirmed',
      sequence: 0,
    };
  });
}

describe('creationGuardInput', () => {
  it("reads the month's remaining budget only of lecturers with GUARD_MIN_CREATES possible new meetings, and the plan holds theirs", async () => {
    const store = createMemoryStateStore();
    const config = loadConfig({ GUARD_MIN_CREATES: '50' });
    // The shared office account made 1,960 meetings this month through other feeds.
    for (const [email, objectId] of [
      [OFFICE, 'oid-office'],
      [GRACE, 'oid-grace'],
    ] as const) {
      await store.organizers.put({
        email,
        objectId,
        displayName: null,
        notFound: false,
        userType: 'Member',
        accountEnabled: true,
        resolvedAt: NOW,
        expiresAt: '2027-01-05T08:00:00Z',
      });
      await store.organizers.putStatus({
        objectId,
        refusal: null,
        month: '2027-01',
        created: 1_960,
        leases: [],
      });
    }
    const { sessions } = toDesiredSessions('cs', [
      ...occurrences('office-hours', OFFICE, 60),
      ...occurrences('seminar', GRACE, 10),
    ]);
    const input = await creationGuardInput({ store, config }, feedRecord({ id: 'cs' }), sessions, [], NOW);
    // Grace's 10 sessions cannot trip the rule: her row is not read.
    expect([...input.organizerBudgets]).toEqual([[OFFICE, 40]]);
    expect(input).toMatchObject({ confirmed: false, heldBefore: null });

    const plan = planSync({
      desired: sessions,
      records: [],
      now: NOW,
      windowEnd: '2027-05-04T08:00:00Z',
      settings: { maxCancelShare: 0.2, guardMinCancels: 3, cancellationsConfirmed: false },
      skippedKeys: [],
      guardHeldBefore: false,
      creation: input,
    });
    expect(plan.creationGuard).toMatchObject({
      held: true,
      reasons: ['organizerBudget'],
      organizers: [{ email: OFFICE, creates: 60, remaining: 40 }],
    });
    expect(plan.counts).toMatchObject({ create: 10, held: 60 });
  });

  it('takes the earlier hold and the confirmation from the feed row', async () => {
    const store = createMemoryStateStore();
    const config = loadConfig({});
    const scope = { all: false, uids: ['lab'], organizers: [] };
    const held = feedRecord({
      creationGuard: {
        held: true,
        reasons: ['eventSessions'],
        wouldCreate: 1_500,
        heldCreates: 1_500,
        futureMeetings: 10,
        events: [],
        organizers: [],
        scope,
        at: NOW,
      },
    });
    expect((await creationGuardInput({ store, config }, held, [], [], NOW)).heldBefore).toEqual(scope);
    const confirmed = { ...held, creationsConfirmedAt: NOW };
    expect(await creationGuardInput({ store, config }, confirmed, [], [], NOW)).toMatchObject({
      confirmed: true,
    });
    expect((await creationGuardInput({ store, config }, null, [], [], NOW)).heldBefore).toBeNull();
  });
});
