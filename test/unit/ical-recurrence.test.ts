import { describe, expect, it } from 'vitest';
import { cal, event, expand, times } from '../support/ical.js';
const starts = (r: ReturnType<typeof expand>): string[] => r.occurrences.map((o) => o.start);

describe('recurrence rules', () => {
  it('stops after COUNT instances', () => {
    const r = expand(
      cal(...event('UID:c', 'DTSTART:20240101T090000Z', 'RRULE:FREQ=DAILY;COUNT=3')),
      '2023-12-01',
      '2024-02-01',
    );
    expect(starts(r)).toEqual(['2024-01-01T09:00:00Z', '2024-01-02T09:00:00Z', '2024-01-03T09:00:00Z']);
  });

  it('includes the instance at a UTC UNTIL and stops after it (inclusive, RFC 5545 §3.3.10)', () => {
    const r = expand(
      cal(
        ...event(
          'UID:u',
          'DTSTART;TZID=Europe/Berlin:20240105T100000',
          'RRULE:FREQ=WEEKLY;UNTIL=20240119T090000Z',
        ),
      ),
      '2024-01-01',
      '2024-03-01',
    );
    expect(starts(r)).toEqual(['2024-01-05T09:00:00Z', '2024-01-12T09:00:00Z', '2024-01-19T09:00:00Z']);
  });

  it('reads a local UNTIL in the event zone and a DATE UNTIL as the whole day', () => {
    const local = expand(
      cal(
        ...event(
          'UID:l',
          'DTSTART;TZID=Europe/Berlin:20240105T100000',
          'RRULE:FREQ=WEEKLY;UNTIL=20240112T100000',
        ),
      ),
      '2024-01-01',
      '2024-03-01',
    );
    expect(starts(local)).toEqual(['2024-01-05T09:00:00Z', '2024-01-12T09:00:00Z']);
    const date = expand(
      cal(
        ...event('UID:d', 'DTSTART;TZID=Europe/Berlin:20240105T100000', 'RRULE:FREQ=WEEKLY;UNTIL=20240112'),
      ),
      '2024-01-01',
      '2024-03-01',
    );
    expect(starts(date)).toEqual(['2024-01-05T09:00:00Z', '2024-01-12T09:00:00Z']);
  });

  it('honours INTERVAL and several BYDAY days with WKST', () => {
    const r = expand(
      cal(...event('UID:i', 'DTSTART:20240101T090000Z', 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5')),
      '2023-12-01',
      '2024-03-01',
    );
    expect(starts(r).map((s) => s.slice(0, 10))).toEqual([
      '2024-01-01',
      '2024-01-04',
      '2024-01-15',
      '2024-01-18',
      '2024-01-29',
    ]);
  });

  it('expands ordinal BYDAY rules (second Monday of the month) through ical.js', () => {
    const r = expand(
      cal(...event('UID:m', 'DTSTART:20240108T090000Z', 'RRULE:FREQ=MONTHLY;BYDAY=2MO;COUNT=3')),
      '2024-01-01',
      '2024-06-01',
    );
    expect(starts(r).map((s) => s.slice(0, 10))).toEqual(['2024-01-08', '2024-02-12', '2024-03-11']);
  });

  it('jumps straight to a window far after DTSTART and keeps COUNT right', () => {
    const r = expand(
      cal(...event('UID:j', 'DTSTART:20000103T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=1000')),
      '2019-02-01',
      '2019-03-01',
    );
    // Instance 1000 is 999 weeks after 2000-01-03: 2019-02-25.
    expect(starts(r).map((s) => s.slice(0, 10))).toEqual([
      '2019-02-04',
      '2019-02-11',
      '2019-02-18',
      '2019-02-25',
    ]);
  });

  it('always keeps DTSTART as the first instance, even when UNTIL lies before it (RFC 5545 §3.3.10)', () => {
    const r = expand(
      cal(...event('UID:s', 'DTSTART;VALUE=DATE:20231002', 'RRULE:FREQ=WEEKLY;UNTIL=20231001;BYDAY=MO')),
      '2023-09-01',
      '2023-12-01',
    );
    expect(times(r)).toEqual(['2023-10-02 2023-10-03']);
  });

  it('adds RDATEs, including PERIOD values with their own length, and removes EXDATEs', () => {
    const r = expand(
      cal(
        ...event(
          'UID:r',
          'DTSTART:20240101T090000Z',
          'DTEND:20240101T100000Z',
          'RRULE:FREQ=DAILY;COUNT=3',
          'EXDATE:20240102T090000Z',
          'RDATE:20240110T090000Z',
          'RDATE;VALUE=PERIOD:20240111T120000Z/20240111T150000Z,20240112T120000Z/PT30M',
        ),
      ),
      '2023-12-01',
      '2024-02-01',
    );
    expect(times(r)).toEqual([
      '2024-01-01T09:00:00Z 2024-01-01T10:00:00Z',
      '2024-01-03T09:00:00Z 2024-01-03T10:00:00Z',
      '2024-01-10T09:00:00Z 2024-01-10T10:00:00Z',
      '2024-01-11T12:00:00Z 2024-01-11T15:00:00Z',
      '2024-01-12T12:00:00Z 2024-01-12T12:30:00Z',
    ]);
  });

  it('treats an EXDATE written as a bare date as a date (no VALUE=DATE needed)', () => {
    const r = expand(
      cal(...event('UID:e', 'DTSTART;VALUE=DATE:20240101', 'RRULE:FREQ=DAILY;COUNT=3', 'EXDATE:20240102')),
      '2023-12-01',
      '2024-02-01',
    );
    expect(starts(r)).toEqual(['2024-01-01', '2024-01-03']);
  });

  it('gives all-day dates one day and date-times no length without DTEND or DURATION', () => {
    const r = expand(
      cal(...event('UID:d', 'DTSTART;VALUE=DATE:20240105'), ...event('UID:t', 'DTSTART:20240105T090000Z')),
      '2024-01-01',
      '2024-02-01',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.start} ${o.end} ${o.allDay}`)).toEqual([
      'd 2024-01-05 2024-01-06 true',
      't 2024-01-05T09:00:00Z 2024-01-05T09:00:00Z false',
    ]);
  });

  it('adds DURATION days in wall time and hours exactly (RFC 5545 §3.3.6), also across DST', () => {
    const r = expand(
      cal(
        ...event('UID:nominal', 'DTSTART;TZID=Europe/Berlin:20240330T120000', 'DURATION:P1D'),
        ...event('UID:exact', 'DTSTART;TZID=Europe/Berlin:20240330T120000', 'DURATION:PT24H'),
      ),
      '2024-03-01',
      '2024-04-30',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.end}`)).toEqual([
      'nominal 2024-03-31T10:00:00Z',
      'exact 2024-03-31T11:00:00Z',
    ]);
  });

  it('gives recurrenceId: null for single events, the original start for instances', () => {
    const r = expand(
      cal(
        ...event('UID:single', 'DTSTART:20240105T090000Z'),
        ...event('UID:series', 'DTSTART;TZID=Europe/Berlin:20240106T100000', 'RRULE:FREQ=DAILY;COUNT=1'),
      ),
      '2024-01-01',
      '2024-02-01',
    );
    expect(r.occurrences.map((o) => `${o.uid} ${o.recurrenceId}`)).toEqual([
      'single null',
      'series 2024-01-06T09:00:00Z',
    ]);
  });
});

describe('overrides, cancellations and duplicates', () => {
  const master = [
    'UID:s',
    'SUMMARY:Lecture',
    'DTSTART;TZID=Europe/Berlin:20241017T100000',
    'DTEND;TZID=Europe/Berlin:20241017T113000',
    'RRULE:FREQ=WEEKLY;COUNT=4',
  ];

  it('moves one session across the DST change with RECURRENCE-ID and keeps the original id', () => {
    // The 24 October session moves to Monday 28 October (after the change) at 14:00 local.
    const r = expand(
      cal(
        ...event(...master),
        ...event(
          'UID:s',
          'SUMMARY:Lecture (moved)',
          'RECURRENCE-ID;TZID=Europe/Berlin:20241024T100000',
          'DTSTART;TZID=Europe/Berlin:20241028T140000',
          'DTEND;TZID=Europe/Berlin:20241028T153000',
          'SEQUENCE:1',
        ),
      ),
      '2024-10-01',
      '2024-12-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.recurrenceId} ${o.summary}`)).toEqual([
      '2024-10-17T08:00:00Z 2024-10-17T08:00:00Z Lecture',
      '2024-10-28T13:00:00Z 2024-10-24T08:00:00Z Lecture (moved)',
      '2024-10-31T09:00:00Z 2024-10-31T09:00:00Z Lecture',
      '2024-11-07T09:00:00Z 2024-11-07T09:00:00Z Lecture',
    ]);
    expect(r.occurrences[1]?.end).toBe('2024-10-28T14:30:00Z');
  });

  it('keeps a cancelled session in the output with status cancelled', () => {
    const r = expand(
      cal(
        ...event(...master),
        ...event(
          'UID:s',
          'RECURRENCE-ID;TZID=Europe/Berlin:20241024T100000',
          'DTSTART;TZID=Europe/Berlin:20241024T100000',
          'STATUS:CANCELLED',
          'SEQUENCE:1',
        ),
      ),
      '2024-10-01',
      '2024-12-01',
    );
    expect(r.occurrences.map((o) => o.status)).toEqual(['confirmed', 'cancelled', 'confirmed', 'confirmed']);
  });

  it('applies RANGE=THISANDFUTURE to the instance and all later ones (RFC 5545 §3.8.4.4)', () => {
    const r = expand(
      cal(
        ...event(...master),
        ...event(
          'UID:s',
          'SUMMARY:Lecture (new room)',
          'RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20241031T100000',
          'DTSTART;TZID=Europe/Berlin:20241031T120000',
          'DTEND;TZID=Europe/Berlin:20241031T130000',
          'SEQUENCE:1',
        ),
      ),
      '2024-10-01',
      '2024-12-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.end} ${o.summary}`)).toEqual([
      '2024-10-17T08:00:00Z 2024-10-17T09:30:00Z Lecture',
      '2024-10-24T08:00:00Z 2024-10-24T09:30:00Z Lecture',
      '2024-10-31T11:00:00Z 2024-10-31T12:00:00Z Lecture (new room)',
      '2024-11-07T11:00:00Z 2024-11-07T12:00:00Z Lecture (new room)',
    ]);
    expect(r.occurrences[3]?.recurrenceId).toBe('2024-11-07T09:00:00Z');
  });

  it('shows an override whose master is missing, with its RECURRENCE-ID', () => {
    const r = expand(
      cal(...event('UID:orphan', 'RECURRENCE-ID:20240105T090000Z', 'DTSTART:20240105T110000Z')),
      '2024-01-01',
      '2024-02-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.recurrenceId}`)).toEqual([
      '2024-01-05T11:00:00Z 2024-01-05T09:00:00Z',
    ]);
  });

  it('lists a duplicated VEVENT once', () => {
    const one = event('UID:dup', 'DTSTART:20240105T090000Z', 'SUMMARY:Same');
    expect(expand(cal(...one, ...one), '2024-01-01', '2024-02-01').occurrences).toHaveLength(1);
  });

  it('keeps the version with the higher SEQUENCE, for masters and for overrides', () => {
    const r = expand(
      cal(
        ...event('UID:q', 'SEQUENCE:3', 'SUMMARY:v3', 'DTSTART:20240101T090000Z', 'RRULE:FREQ=DAILY;COUNT=2'),
        ...event('UID:q', 'SEQUENCE:1', 'SUMMARY:v1', 'DTSTART:20240101T080000Z', 'RRULE:FREQ=DAILY;COUNT=5'),
        ...event(
          'UID:q',
          'SEQUENCE:5',
          'SUMMARY:moved late',
          'RECURRENCE-ID:20240102T090000Z',
          'DTSTART:20240102T180000Z',
        ),
        ...event(
          'UID:q',
          'SEQUENCE:4',
          'SUMMARY:moved early',
          'RECURRENCE-ID:20240102T090000Z',
          'DTSTART:20240102T070000Z',
        ),
      ),
      '2023-12-01',
      '2024-02-01',
    );
    expect(r.occurrences.map((o) => `${o.start} ${o.summary}`)).toEqual([
      '2024-01-01T09:00:00Z v3',
      '2024-01-02T18:00:00Z moved late',
    ]);
  });

  it('reads organizer and attendees with lower-cased e-mail addresses and names', () => {
    const r = expand(
      cal(
        ...event(
          'UID:p',
          'DTSTART:20240105T090000Z',
          'ORGANIZER;CN="Dr. Ada Lovelace":MAILTO:Ada@Uni.Example',
          'ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:mailto:BOB@uni.example',
          'ATTENDEE:mailto:carol@uni.example',
        ),
      ),
      '2024-01-01',
      '2024-02-01',
    );
    const o = r.occurrences[0];
    expect(o?.organizer).toEqual({ email: 'ada@uni.example', name: 'Dr. Ada Lovelace' });
    expect(o?.attendees).toEqual([{ email: 'bob@uni.example', name: 'Bob' }, { email: 'carol@uni.example' }]);
  });

  it('unescapes TEXT values and unfolds long lines', () => {
    const r = expand(
      cal(
        ...event(
          'UID:t',
          'DTSTART:20240105T090000Z',
          'SUMMARY:Maths\\, Physics\\; Lab',
          'LOCATION:Room 1',
          ' 01, Building A',
        ),
      ),
      '2024-01-01',
      '2024-02-01',
    );
    expect([r.occurrences[0]?.summary, r.occurrences[0]?.location]).toEqual([
      'Maths, Physics; Lab',
      'Room 101, Building A',
    ]);
  });
});
