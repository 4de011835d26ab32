// The pure attendance rules: which report is whose, the back-off and window, one person's time.
import { describe, expect, it } from 'vitest';
import {
  dueSessions,
  matchReports,
  mergeParticipants,
  nextCheckAt,
  participantKey,
  studentSummaries,
  type AttendanceSession,
  type ReportRef,
} from '../../src/core/attendance.js';

const settings = { delayMinutes: 15, windowHours: 48, retentionDays: 365 };
const session = (key: string, start: string, end: string, meetingId = `m-${key}`): AttendanceSession => ({
  key,
  uid: 'cs101',
  subject: 'CS101',
  start,
  end,
  organizerId: 'ada',
  meetingId,
});
const report = (id: string, meetingId: string, start: string, end: string): ReportRef => ({
  id,
  meetingId,
  organizerId: 'ada',
  start,
  end,
});

describe('matchReports', () => {
  const monday = session('mon', '2027-01-11T09:00:00Z', '2027-01-11T10:00:00Z');
  const tuesday = session('tue', '2027-01-12T09:00:00Z', '2027-01-12T10:00:00Z');

  it('gives a session the reports of its own meeting that overlap its slot, a late start and an overrun included', () => {
    const matched = matchReports(
      [monday],
      [
        report('r1', 'm-mon', '2027-01-11T09:12:00Z', '2027-01-11T09:40:00Z'),
        report('r2', 'm-mon', '2027-01-11T09:45:00Z', '2027-01-11T10:20:00Z'),
        report('r3', 'm-mon', '2027-01-04T09:00:00Z', '2027-01-04T10:00:00Z'),
      ],
    );
    expect(matched.get('mon')?.map((r) => r.id)).toEqual(['r1', 'r2']);
  });

  it("gives a report of another meeting's link to the session whose slot it covers, never one already stored", () => {
    const used = report('reuse', 'm-mon', '2027-01-12T09:01:00Z', '2027-01-12T09:58:00Z');
    expect(
      matchReports([tuesday], [used])
        .get('tue')
        ?.map((r) => r.id),
    ).toEqual(['reuse']);
    expect(matchReports([tuesday], [used], new Set(['reuse'])).size).toBe(0);
    // Another lecturer's report is never theirs.
    expect(matchReports([tuesday], [{ ...used, organizerId: 'ben' }]).size).toBe(0);
  });

  it('a report in no slot belongs to no session', () => {
    expect(
      matchReports([monday], [report('x', 'm-mon', '2027-01-11T12:00:00Z', '2027-01-11T13:00:00Z')]).size,
    ).toBe(0);
  });
});

describe('when sessions are checked', () => {
  const s = session('a', '2027-01-11T09:00:00Z', '2027-01-11T10:00:00Z');
  it('not before the end plus the delay, and not first seen after the window', () => {
    expect(dueSessions([s], new Map(), Date.parse('2027-01-11T10:14:00Z'), settings)).toEqual([]);
    expect(dueSessions([s], new Map(), Date.parse('2027-01-11T10:15:00Z'), settings)).toEqual([s]);
    expect(dueSessions([s], new Map(), Date.parse('2027-01-13T10:01:00Z'), settings)).toEqual([]);
  });
  it('backs off 15, 30, 60 … minutes up to 6 hours, checks once at the window end, then gives up', () => {
    const now = Date.parse('2027-01-11T10:15:00Z');
    expect(nextCheckAt(1, s.end, now, settings)).toBe('2027-01-11T10:30:00.000Z');
    expect(nextCheckAt(2, s.end, now, settings)).toBe('2027-01-11T10:45:00.000Z');
    expect(nextCheckAt(10, s.end, now, settings)).toBe('2027-01-11T16:15:00.000Z');
    expect(nextCheckAt(10, s.end, Date.parse('2027-01-13T08:00:00Z'), settings)).toBe(
      '2027-01-13T10:00:00.000Z',
    );
    expect(nextCheckAt(11, s.end, Date.parse('2027-01-13T10:00:00Z'), settings)).toBeNull();
  });
});

describe('one person in one session', () => {
  const stay = (join: string, leave: string) => ({
    join,
    leave,
    seconds: (Date.parse(leave) - Date.parse(join)) / 1000,
  });
  it('adds up their stays across reports: first join, last leave, total time', () => {
    const [record] = mergeParticipants('f', 'k', [
      {
        participantId: 'S1',
        displayName: 'Student',
        email: 'S@uni.example',
        role: 'Attendee',
        totalSeconds: 600,
        intervals: [stay('2027-01-11T09:10:00Z', '2027-01-11T09:20:00Z')],
      },
      {
        participantId: 's1',
        displayName: 'Student',
        email: 's@uni.example',
        role: 'Attendee',
        totalSeconds: 1200,
        intervals: [stay('2027-01-11T09:30:00Z', '2027-01-11T09:50:00Z')],
      },
    ]);
    expect(record).toMatchObject({
      totalSeconds: 1800,
      firstJoin: '2027-01-11T09:10:00Z',
      lastLeave: '2027-01-11T09:50:00Z',
      intervalCount: 2,
    });
  });
  it('keys people by directory id, else e-mail, without their name or address in the key', () => {
    const key = participantKey({ participantId: null, email: 'guest@partner.example', displayName: 'G' });
    expect(key).toMatch(/^[0-9a-f]{24}$/);
    expect(key).not.toBe(participantKey({ participantId: null, email: null, displayName: 'G' }));
  });
  it('per student: sessions attended of sessions held, total minutes', () => {
    const rec = (sessionKey: string, seconds: number) => ({
      feedId: 'f',
      sessionKey,
      participantKey: 'p',
      participantId: 'p',
      displayName: 'P',
      email: null,
      role: 'Attendee',
      totalSeconds: seconds,
      firstJoin: '2027-01-11T09:00:00Z',
      lastLeave: '2027-01-11T10:00:00Z',
      intervals: [],
      intervalCount: 1,
    });
    const sessions = [
      { key: 'a', state: 'collected' as const },
      { key: 'b', state: 'collected' as const },
      { key: 'c', state: 'noReport' as const },
    ];
    expect(studentSummaries(sessions, [rec('a', 3000), rec('b', 600)])).toMatchObject([
      { sessionsAttended: 2, sessionsHeld: 2, totalMinutes: 60 },
    ]);
  });
});
