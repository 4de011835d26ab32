// Small builders and readers shared by the sync integration tests: VEVENT bodies, UTC stamps, and
// views of the emulator's meetings and request counts keyed the way the tests assert on them.
import { Agent, fetch as undiciFetch } from 'undici';

import type { EmulatorHandle, EmulatorMeetingView } from '../../src/emulator/index.js';
import type { LoggedEvent } from '../../src/events.js';
import type { StateStore } from '../../src/storage/index.js';

/** `2027-01-11T09:00:00Z` → `20270111T090000Z` (an iCalendar UTC DATE-TIME). */
export function ics(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** ISO instant without milliseconds, as the daemon writes them. */
export function utc(value: string | number | Date): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

export interface EventSpec {
  uid: string;
  organizer?: string | null;
  summary: string;
  /** UTC ISO. */
  start: string;
  /** UTC ISO; default one hour after start. */
  end?: string;
  rrule?: string;
  exdates?: string[];
  recurrenceId?: string;
  status?: 'CANCELLED' | 'CONFIRMED';
  sequence?: number;
}

/** One VEVENT body (content lines without BEGIN/END) for `calendar()` in sync-harness. */
export function vevent(spec: EventSpec): string[] {
  const end = spec.end ?? utc(Date.parse(spec.start) + 3_600_000);
  return [
    `UID:${spec.uid}`,
    ...(spec.recurrenceId ? [`RECURRENCE-ID:${ics(spec.recurrenceId)}`] : []),
    ...(spec.sequence !== undefined ? [`SEQUENCE:${spec.sequence}`] : []),
    ...(spec.organizer ? [`ORGANIZER;CN=Lecturer:mailto:${spec.organizer}`] : []),
    `SUMMARY:${spec.summary}`,
    `DTSTART:${ics(spec.start)}`,
    `DTEND:${ics(end)}`,
    ...(spec.rrule ? [`RRULE:${spec.rrule}`] : []),
    ...(spec.exdates ?? []).map((d) => `EXDATE:${ics(d)}`),
    ...(spec.status ? [`STATUS:${spec.status}`] : []),
  ];
}

/** An all-day VEVENT body. */
export function allDayEvent(uid: string, organizer: string, summary: string, day: string): string[] {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return [
    `UID:${uid}`,
    `ORGANIZER:mailto:${organizer}`,
    `SUMMARY:${summary}`,
    `DTSTART;VALUE=DATE:${day.replace(/-/g, '')}`,
    `DTEND;VALUE=DATE:${next.replace(/-/g, '')}`,
  ];
}

/** Live emulator meetings by UTC start (one per start expected in these tests). */
export function meetingsByStart(
  emulator: EmulatorHandle,
  organizerId?: string,
): Map<string, EmulatorMeetingView> {
  const out = new Map<string, EmulatorMeetingView>();
  for (const m of emulator.control.meetings()) {
    if (organizerId && m.organizerId !== organizerId) continue;
    const start = utc(m.startDateTime);
    if (out.has(start)) throw new Error(`two live meetings start at ${start}`);
    out.set(start, m);
  }
  return out;
}

/** Requests the emulator answered with `status` on routes matching `routePart`, summed. */
export function countStatus(emulator: EmulatorHandle, status: number | 'reset', routePart = ''): number {
  let total = 0;
  for (const [route, byStatus] of Object.entries(emulator.control.requestCounts().byRoute)) {
    if (!route.includes(routePart)) continue;
    total += byStatus[String(status)] ?? 0;
  }
  return total;
}

export function eventsNamed(events: readonly LoggedEvent[], name: string): LoggedEvent[] {
  return events.filter((e) => e.name === name);
}

/** The stored meeting rows of a feed by key. */
export async function rowsOf(store: StateStore, feedId: string) {
  return store.meetings.listByFeed(feedId);
}

/**
 * The passcodes of all live meetings, read the way the daemon could see them (GET onlineMeeting with an
 * app token over the emulator's https): what a log must never contain.
 */
export async function meetingPasscodes(emulator: EmulatorHandle): Promise<string[]> {
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } });
  try {
    const tokenResponse = await undiciFetch(
      `${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`,
      {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: emulator.clientId,
          client_secret: emulator.clientSecret,
          scope: 'https://graph.microsoft.com/.default',
        }).toString(),
      },
    );
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const passcodes: string[] = [];
    for (const m of emulator.control.meetings()) {
      const response = await undiciFetch(
        `${emulator.graphBaseUrl}/v1.0/users/${m.organizerId}/onlineMeetings/${m.id}`,
        { dispatcher, headers: { authorization: `Bearer ${token}` } },
      );
      const body = (await response.json()) as { joinMeetingIdSettings?: { passcode?: string } };
      const passcode = body.joinMeetingIdSettings?.passcode;
      if (!passcode) throw new Error(`meeting ${m.id} has no passcode (status ${response.status})`);
      passcodes.push(passcode);
    }
    return passcodes;
  } finally {
    await dispatcher.close();
  }
}
