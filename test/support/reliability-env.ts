// Shared pieces of the reliability suite (test/reliability): trial counts (reduced in `npm test`, full
// under SOAK=1), a seeded PRNG, a seed-reporting wrapper, a timetable generator whose expected sessions
// are computed independently of the product, and the invariant checker that compares the Graph emulator
// with the meetings table.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

import type { EmulatorHandle, EmulatorMeetingView, EmulatorUser } from '../../src/emulator/index.js';
import type { MeetingRecord } from '../../src/core/state.js';
import type { StateStore } from '../../src/storage/index.js';
import { createRng } from '../../src/emulator/limits.js';

export const SOAK = process.env.SOAK === '1' || process.env.SOAK === 'true';
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `normal` in `npm test`, `soak` under SOAK=1. */
export function scaled<T>(normal: T, soak: T): T {
  return SOAK ? soak : normal;
}

/** Base seed for a suite: RELIABILITY_SEED=n reproduces a failing run. */
export function baseSeed(fallback: number): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}

/** The emulator's seeded PRNG (mulberry32): one implementation for faults and trials. */
export const rng = createRng;

export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Runs one seeded trial; a failure is rethrown with the seed and how to reproduce it. */
export async function withSeed<T>(label: string, seed: number, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(
      `${label} failed with seed ${seed} (reproduce: RELIABILITY_SEED=${seed} npx vitest run test/reliability)\n${message}`,
      { cause: error },
    );
    if (error instanceof Error && error.stack) wrapped.stack = `${wrapped.message}\n${error.stack}`;
    throw wrapped;
  }
}

// ---- timetables ----------------------------------------------------------------------------------

export interface ExpectedSession {
  organizerEmail: string;
  subject: string;
  /** UTC ms */
  start: number;
  end: number;
}

export interface Timetable {
  ics: string;
  sessions: ExpectedSession[];
}

const pad = (n: number) => String(n).padStart(2, '0');
function icsUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00Z`;
}

/**
 * Weekly courses in UTC (no zone rules involved), all starting after `firstDay`: the expected sessions
 * are plain arithmetic, not the product's expansion.
 */
export function weeklyTimetable(options: {
  tag: string;
  organizers: string[];
  courses: number;
  weeks: number;
  firstDay?: string;
  subjectSuffix?: string;
}): Timetable {
  const first = Date.parse(options.firstDay ?? '2027-01-11T00:00:00Z');
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//timetable-sync reliability//EN'];
  const sessions: ExpectedSession[] = [];
  for (let c = 0; c < options.courses; c++) {
    const organizerEmail = options.organizers[c % options.organizers.length] as string;
    const subject = `${options.tag} course ${c}${options.subjectSuffix ?? ''}`;
    const start = first + (c % 5) * 86_400_000 + (8 + Math.floor(c / 5)) * 3_600_000;
    const end = start + 90 * 60_000;
    lines.push(
      'BEGIN:VEVENT',
      `UID:${options.tag}-c${c}@reliability.example`,
      'DTSTAMP:20261201T000000Z',
      `ORGANIZER;CN=Lecturer:mailto:${organizerEmail}`,
      `SUMMARY:${subject}`,
      `DTSTART:${icsUtc(start)}`,
      `DTEND:${icsUtc(end)}`,
      `RRULE:FREQ=WEEKLY;COUNT=${options.weeks}`,
      'END:VEVENT',
    );
    for (let w = 0; w < options.weeks; w++)
      sessions.push({
        organizerEmail,
        subject,
        start: start + w * 7 * 86_400_000,
        end: end + w * 7 * 86_400_000,
      });
  }
  lines.push('END:VCALENDAR');
  return { ics: `${lines.join('\r\n')}\r\n`, sessions };
}

// ---- invariants ----------------------------------------------------------------------------------

export interface InvariantOptions {
  /** Require every expected session to have its meeting (after a run to completion). */
  complete: boolean;
  /** Meetings of other feeds in the same emulator (ignored). */
  onlyExternalIdPrefix?: string;
}

export interface InvariantReport {
  meetings: number;
  rows: number;
  duplicates: number;
}

/**
 * The product's promise, checked from the outside:
 * - at most (complete: exactly) one live meeting per expected session, none for anything else;
 * - no orphan: every live meeting's externalId belongs to a stored row of the feed (the row is written
 *   `creating` before createOrGet, so this holds even right after a crash);
 * - complete: every row is `active`, its meetingId is the live meeting with its externalId.
 */
export async function checkInvariants(
  emulator: EmulatorHandle,
  store: StateStore,
  feedId: string,
  expected: readonly ExpectedSession[],
  users: ReadonlyMap<string, EmulatorUser>,
  options: InvariantOptions,
): Promise<InvariantReport> {
  const rows = await store.meetings.listByFeed(feedId);
  const byExternalId = new Map<string, MeetingRecord>(rows.map((r) => [r.externalId, r]));
  const prefixes = new Set(rows.map((r) => `tts-${r.key}-`));
  const all = emulator.control.meetings();
  const mine = all.filter((m) =>
    options.onlyExternalIdPrefix ? (m.externalId ?? '').startsWith(options.onlyExternalIdPrefix) : true,
  );
  const problems: string[] = [];

  const sessionKey = (organizerId: string, subject: string, start: number, end: number) =>
    `${organizerId}|${subject}|${start}|${end}`;
  const expectedKeys = new Map<string, ExpectedSession>();
  for (const s of expected) {
    const user = users.get(s.organizerEmail);
    if (!user) throw new Error(`no emulator user for ${s.organizerEmail}`);
    expectedKeys.set(sessionKey(user.id, s.subject, s.start, s.end), s);
  }
  const seen = new Map<string, EmulatorMeetingView[]>();
  for (const m of mine) {
    const key = sessionKey(m.organizerId, m.subject, Date.parse(m.startDateTime), Date.parse(m.endDateTime));
    seen.set(key, [...(seen.get(key) ?? []), m]);
    if (!m.externalId || !byExternalId.has(m.externalId)) {
      // A meeting under an older generation of a known key is still known to the state only if a row
      // of that key exists; anything else is an orphan nobody will ever cancel.
      const knownKey = m.externalId ? [...prefixes].some((p) => m.externalId?.startsWith(p)) : false;
      problems.push(
        `orphan meeting ${m.subject} @ ${m.startDateTime} (externalId ${m.externalId ?? 'none'}${knownKey ? ', an older generation of a known row' : ''}) is unknown to the meetings table`,
      );
    }
  }
  let duplicates = 0;
  for (const [key, list] of seen) {
    if (list.length > 1) {
      duplicates += list.length - 1;
      problems.push(`${list.length} meetings for one session ${key}`);
    }
    if (!expectedKeys.has(key)) problems.push(`meeting for no expected session: ${key}`);
  }
  if (options.complete) {
    for (const [key, s] of expectedKeys)
      if (!seen.has(key))
        problems.push(`expected session has no meeting: ${s.subject} @ ${new Date(s.start).toISOString()}`);
    const live = new Map(mine.map((m) => [m.externalId, m]));
    for (const row of rows) {
      if (row.state !== 'active') {
        problems.push(
          `row ${row.key} (${row.subject}) is ${row.state}${row.lastError ? ` (${row.lastError.code}: ${row.lastError.message})` : ''}`,
        );
        continue;
      }
      const meeting = live.get(row.externalId);
      if (!meeting)
        problems.push(
          `active row ${row.key} (${row.subject}) has no live meeting with externalId ${row.externalId}`,
        );
      else if (meeting.id !== row.meetingId)
        problems.push(
          `row ${row.key} stores meetingId ${row.meetingId?.slice(0, 16)}… but its meeting is ${meeting.id.slice(0, 16)}…`,
        );
    }
    if (rows.length !== expected.length)
      problems.push(`${rows.length} rows for ${expected.length} expected sessions`);
  }
  expect(problems, problems.join('\n')).toEqual([]);
  return { meetings: mine.length, rows: rows.length, duplicates };
}

/** Figures printed at the end of a suite (collected into docs/reliability.md from a SOAK=1 run). */
export function reportFigures(suite: string, figures: Record<string, number | string>): void {
  console.log(`[reliability] ${suite} ${JSON.stringify({ soak: SOAK, ...figures })}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
