// Behaviour where this project deliberately differs from the conformance corpus's reference
// implementation (recurring-ical-events 2.0.1), each pinned with the RFC rule that decides it.
import { describe, expect, it } from 'vitest';
import { cal, event, expand, times } from '../support/ical.js';
describe('deliberate differences from the reference implementation', () => {
  it('includes the instance that falls exactly on UNTIL (RFC 5545 §3.3.10: UNTIL bounds inclusively)', () => {
    // As issue_107_omitting_last_event: a Windows TZID, UNTIL=17:00Z which is 10:00 PDT, the last session.
    const r = expand(
      cal(
        ...event(
          'DTSTART;TZID=Pacific Standard Time:20230525T100000',
          'DTEND;TZID=Pacific Standard Time:20230525T110000',
          'RRULE:FREQ=WEEKLY;UNTIL=20230608T170000Z;BYDAY=TH;WKST=SU',
        ),
      ),
      '2023-05-01',
      '2023-07-01',
    );
    expect(r.occurrences.map((o) => o.start)).toEqual([
      '2023-05-25T17:00:00Z',
      '2023-06-01T17:00:00Z',
      '2023-06-08T17:00:00Z',
    ]);
  });

  it('lets the master with the higher SEQUENCE replace the older one entirely, its EXDATE and RDATE included (RFC 5545 §3.8.7.4, RFC 5546 §2.1.5)', () => {
    // As issue_148_*: the reference mixes instances of both versions.
    const v = (seq: number, summary: string, extra: string[]): string[] =>
      event(
        'UID:111',
        `SEQUENCE:${seq}`,
        `SUMMARY:${summary}`,
        'DTSTART;VALUE=DATE:20240701',
        'DTEND;VALUE=DATE:20240702',
        'RRULE:FREQ=WEEKLY;UNTIL=20240801;INTERVAL=2;BYDAY=MO',
        ...extra,
      );
    const r = expand(
      cal(
        ...v(1, 'old', ['EXDATE;VALUE=DATE:20240715', 'RDATE;VALUE=DATE:20240717']),
        ...v(2, 'new', ['EXDATE;VALUE=DATE:20240729', 'RDATE;VALUE=DATE:20240730']),
      ),
      '2024-06-01',
      '2024-09-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.summary}`)).toEqual([
      '2024-07-01 new',
      '2024-07-15 new',
      '2024-07-30 new',
    ]);
  });

  it('lists a single event repeated with the same UID once, the higher SEQUENCE (RFC 5545 §3.8.4.7: UID identifies the event)', () => {
    // As alarm_absolute_edited: the same meeting twice would become two Teams meetings.
    const r = expand(
      cal(
        ...event('UID:x', 'DTSTART:20241004T100000Z', 'SUMMARY:event'),
        ...event('UID:x', 'SEQUENCE:1', 'DTSTART:20241004T100000Z', 'SUMMARY:event'),
      ),
      '2024-10-01',
      '2024-11-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.sequence}`)).toEqual(['2024-10-04T10:00:00Z 1']);
  });

  it('shifts all later instances, RDATEs included, for RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4, §3.2.13)', () => {
    // As issue_75_range_parameter: the reference applies the override to its own instance only.
    const r = expand(
      cal(
        ...event(
          'UID:210',
          'DTSTART:20240901T120000Z',
          'DTEND:20240901T140000Z',
          'RRULE:FREQ=DAILY;INTERVAL=2;COUNT=9',
          'RDATE:20240914T090000Z',
          'SUMMARY:ORIGINAL',
        ),
        ...event(
          'UID:210',
          'RECURRENCE-ID;RANGE=THISANDFUTURE:20240913T120000Z',
          'DTSTART:20240913T090000Z',
          'DTEND:20240913T160000Z',
          'SEQUENCE:1',
          'SUMMARY:MODIFIED',
        ),
      ),
      '2024-09-10',
      '2024-09-20',
    );
    expect(times(r).map((t, i) => `${t} ${r.occurrences[i]?.summary}`)).toEqual([
      '2024-09-11T12:00:00Z 2024-09-11T14:00:00Z ORIGINAL',
      '2024-09-13T09:00:00Z 2024-09-13T16:00:00Z MODIFIED',
      '2024-09-14T06:00:00Z 2024-09-14T13:00:00Z MODIFIED',
      '2024-09-15T09:00:00Z 2024-09-15T16:00:00Z MODIFIED',
      '2024-09-17T09:00:00Z 2024-09-17T16:00:00Z MODIFIED',
    ]);
  });

  it('keeps two single events of one UID and SEQUENCE that start at different times as two sessions, with a warning (issue 15)', () => {
    // A timetabling export gave two exams weeks apart the same UID, SEQUENCE and DTSTAMP; dropping one
    // would leave an exam without a meeting. A higher SEQUENCE still replaces (the test above), and the
    // same start stays one event. Identity for the sync: the earliest keeps the UID's own identity
    // (recurrenceId null), each later one is keyed by UID + its start (recurrenceId = its start), so
    // each keeps its meeting across runs whatever the order of the file.
    const r = expand(
      cal(
        ...event('UID:exam', 'DTSTART:20270607T080000Z', 'SUMMARY:resit'),
        ...event('UID:exam', 'DTSTART:20270510T080000Z', 'SUMMARY:first sitting'),
      ),
      '2027-04-01',
      '2027-07-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.summary} ${o.recurrenceId}`)).toEqual([
      '2027-05-10T08:00:00Z first sitting null',
      '2027-06-07T08:00:00Z resit 2027-06-07T08:00:00Z',
    ]);
    expect(r.warnings.map((w) => `${w.uid} ${w.line}`)).toEqual(['exam 9']);
    expect(r.warnings[0]?.reason).toMatch(/lines 9 and 4 have the same UID and SEQUENCE/);
  });
});
