// Row-state rules: which rows may hide a meeting in Graph, what a failure and a block leave behind.
import { describe, expect, it } from 'vitest';

import type { DesiredSession } from '../../src/core/desired.js';
import type { PlannedOperation } from '../../src/core/plan.js';
import type { MeetingRecord } from '../../src/core/state.js';
import {
  blockedRow,
  cancelledRow,
  failedRow,
  isHeldByPolicy,
  mayHaveMeeting,
} from '../../src/core/transitions.js';
import { meetingRecord } from '../support/records.js';

const NOW = '2027-01-04T08:00:00Z';
const error = (code: string) => ({ code, message: code, at: NOW });

describe('mayHaveMeeting', () => {
  it.each([
    ['a stored meeting id', { state: 'active', meetingId: 'm-1' }, true],
    ['a create sent but not confirmed', { state: 'creating', meetingId: null }, true],
    [
      'a create that failed in transit',
      { state: 'failed', meetingId: null, lastError: error('transient') },
      true,
    ],
    [
      'a create that was throttled out',
      { state: 'failed', meetingId: null, lastError: error('throttled') },
      true,
    ],
    ['a cancel of a lost create, not finished', { state: 'cancelling', meetingId: null }, true],
    [
      'a create Graph refused as invalid',
      { state: 'failed', meetingId: null, lastError: error('invalidRequest') },
      false,
    ],
    [
      'a session blocked before any call',
      { state: 'blocked', meetingId: null, lastError: error('policyMissing') },
      false,
    ],
    ['a cancelled row', { state: 'cancelled', meetingId: null }, false],
  ] as Array<[string, Partial<MeetingRecord>, boolean]>)('%s → %s', (_, overrides, expected) => {
    expect(mayHaveMeeting(meetingRecord('k', overrides))).toBe(expected);
  });
});

describe('failedRow', () => {
  it('retries a transient failure within minutes and keeps a confirmed meeting active', () => {
    const active = meetingRecord('k', { state: 'active', meetingId: 'm-1', attempts: 0 });
    const { row, needsAction } = failedRow(
      active,
      'update',
      { kind: 'transient', message: 'Graph failed with 503', requestId: 'rid' },
      NOW,
    );
    expect(needsAction).toBe(false);
    expect(row).toMatchObject({
      state: 'active',
      attempts: 1,
      lastError: { code: 'transient', requestId: 'rid' },
    });
    const waitMs = Date.parse(row.nextAttemptAt!) - Date.parse(NOW);
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(60_000);
  });

  it('waits an hour after a request Graph refuses, and a failed cancel stays cancelling', () => {
    const creating = meetingRecord('k', { state: 'creating', meetingId: null });
    const refused = failedRow(
      creating,
      'create',
      { kind: 'invalidRequest', message: 'bad', requestId: null },
      NOW,
    );
    expect(refused.needsAction).toBe(true);
    expect(refused.row.state).toBe('failed');
    expect(Date.parse(refused.retryAt) - Date.parse(NOW)).toBeGreaterThanOrEqual(0.8 * 3_600_000);
    const cancel = failedRow(
      meetingRecord('k', { state: 'cancelling' }),
      'cancel',
      { kind: 'transient', message: 'reset', requestId: null },
      NOW,
    );
    expect(cancel.row.state).toBe('cancelling');
  });

  it('remembers that an earlier create may have committed, through later refusals, until the meeting is known', () => {
    const bad = { kind: 'invalidRequest', message: 'bad', requestId: null };
    // First attempt: the answer was lost (reset after commit).
    const lost = failedRow(
      meetingRecord('k', { state: 'creating', meetingId: null }),
      'create',
      { kind: 'transient', message: 'socket hang up', requestId: null },
      NOW,
    ).row;
    expect(mayHaveMeeting(lost)).toBe(true);
    // The retry is refused with a 400: the meeting the first attempt made is still not forgotten.
    const refused = failedRow({ ...lost, state: 'creating' }, 'create', bad, NOW, lost).row;
    expect(refused.lastError).toMatchObject({ code: 'invalidRequest', meetingMayExist: true });
    expect(mayHaveMeeting(refused)).toBe(true);
    // A create refused at its first attempt made nothing: a removal need not ask Graph about it.
    const firstRefusal = failedRow(
      meetingRecord('k', { state: 'creating', meetingId: null }),
      'create',
      bad,
      NOW,
    );
    expect(mayHaveMeeting(firstRefusal.row)).toBe(false);
  });
});

describe('blockedRow', () => {
  const desired = {
    key: 'k',
    uid: 'u',
    recurrenceId: null,
    subject: 'New',
    start: '2027-01-05T09:00:00Z',
    end: '2027-01-05T10:00:00Z',
    organizerEmail: 'bea@uni.example',
    cancelled: false,
    location: 'R1',
    contentHash: 'h',
  } satisfies DesiredSession;

  it('a row that may have a meeting keeps its organizer (a later cancel finds the meeting)', () => {
    const found = meetingRecord('k', {
      state: 'creating',
      organizerEmail: 'ada@uni.example',
      organizerId: 'ada',
    });
    const op: PlannedOperation = { kind: 'create', desired, record: found, generation: 0, externalId: 'x' };
    expect(blockedRow(op, found, error('policyMissing'), NOW, 'bea')).toMatchObject({
      state: 'creating',
      organizerId: 'ada',
      organizerEmail: 'ada@uni.example',
    });
  });

  it('a session never sent to Graph takes the desired organizer and content', () => {
    const op: PlannedOperation = { kind: 'create', desired, record: null, generation: 0, externalId: 'x' };
    const row = blockedRow(
      op,
      meetingRecord('k', { state: 'creating', meetingId: null }),
      error('policyMissing'),
      NOW,
      'bea',
    );
    expect(row).toMatchObject({
      state: 'blocked',
      organizerId: 'bea',
      organizerEmail: 'bea@uni.example',
      subject: 'New',
      location: 'R1',
      nextAttemptAt: NOW,
    });
  });

  it('a held cancel stays cancelling', () => {
    const record = meetingRecord('k', { state: 'active', meetingId: 'm' });
    expect(
      blockedRow({ kind: 'cancel', record, reason: 'removed' }, record, error('policyMissing'), NOW, 'ada')
        .state,
    ).toBe('cancelling');
  });
});

describe('isHeldByPolicy and cancelledRow', () => {
  it('only policy blocks still waiting count as held', () => {
    const later = '2027-01-04T12:00:00Z';
    expect(
      isHeldByPolicy(
        meetingRecord('k', { state: 'blocked', nextAttemptAt: later, lastError: error('policyMissing') }),
        NOW,
      ),
    ).toBe(true);
    expect(
      isHeldByPolicy(
        meetingRecord('k', {
          state: 'blocked',
          nextAttemptAt: later,
          lastError: error('organizerUnresolved'),
        }),
        NOW,
      ),
    ).toBe(false);
    expect(
      isHeldByPolicy(
        meetingRecord('k', { state: 'blocked', nextAttemptAt: NOW, lastError: error('policyMissing') }),
        NOW,
      ),
    ).toBe(false);
  });

  it('a cancelled row forgets its meeting and its errors', () => {
    const row = cancelledRow(
      meetingRecord('k', {
        state: 'cancelling',
        meetingId: 'm',
        joinWebUrl: 'https://x',
        attempts: 3,
        lastError: error('transient'),
      }),
    );
    expect(row).toMatchObject({
      state: 'cancelled',
      meetingId: null,
      joinWebUrl: null,
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
    });
  });
});
