// Pieces of the convergence suite (test/reliability/convergence.test.ts): timetables with a second
// version that renames, moves, re-times, hands over or removes sessions (expected sessions computed by
// arithmetic, not by the product), the three outcome numbers counted from the Graph emulator's own
// meeting list, a recorder of the meeting rows' state history (for reproductions), and the table the
// suite prints.
import type { EmulatorHandle, EmulatorMeetingView, EmulatorUser } from '../../src/emulator/index.js';
import type { StateStore } from '../../src/storage/index.js';
import { randomInt, type ExpectedSession } from './reliability-env.js';

// ---- timetables ----------------------------------------------------------------------------------

const DAY = 86_400_000;
const HOUR = 3_600_000;

interface Instance {
  start: number;
  end: number;
  subject: string;
}

/** One weekly course: a recurring VEVENT with EXDATEs and RECURRENCE-ID overrides. */
export interface Course {
  uid: string;
  organizerEmail: string;
  subject: string;
  /** First instance, UTC ms. */
  start: number;
  durationMs: number;
  weeks: number;
  /** Week indexes left out (EXDATE). */
  exdates: number[];
  /** Week index → the instance as moved/renamed by an override (same RECURRENCE-ID). */
  overrides: Record<number, Instance>;
}

export type Timetable = Course[];

const pad = (n: number) => String(n).padStart(2, '0');
function icsUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00Z`;
}

export function renderTimetable(courses: Timetable): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//timetable-sync convergence//EN'];
  for (const c of courses) {
    const event = (extra: string[], instance: Instance) => [
      'BEGIN:VEVENT',
      `UID:${c.uid}`,
      'DTSTAMP:20261201T000000Z',
      `ORGANIZER;CN=Lecturer:mailto:${c.organizerEmail}`,
      `SUMMARY:${instance.subject}`,
      `DTSTART:${icsUtc(instance.start)}`,
      `DTEND:${icsUtc(instance.end)}`,
      ...extra,
      'END:VEVENT',
    ];
    const rule = [`RRULE:FREQ=WEEKLY;COUNT=${c.weeks}`];
    for (const w of c.exdates) rule.push(`EXDATE:${icsUtc(c.start + w * 7 * DAY)}`);
    lines.push(...event(rule, { start: c.start, end: c.start + c.durationMs, subject: c.subject }));
    for (const [week, instance] of Object.entries(c.overrides))
      lines.push(...event([`RECURRENCE-ID:${icsUtc(c.start + Number(week) * 7 * DAY)}`], instance));
  }
  lines.push('END:VCALENDAR');
  return `${lines.join('\r\n')}\r\n`;
}

/** The sessions a timetable asks for, by arithmetic: one per week, minus EXDATEs, overrides applied. */
export function expectedSessions(courses: Timetable): ExpectedSession[] {
  const sessions: ExpectedSession[] = [];
  for (const c of courses)
    for (let w = 0; w < c.weeks; w++) {
      if (c.exdates.includes(w)) continue;
      const moved = c.overrides[w];
      const start = moved?.start ?? c.start + w * 7 * DAY;
      sessions.push({
        organizerEmail: c.organizerEmail,
        subject: moved?.subject ?? c.subject,
        start,
        end: moved?.end ?? start + c.durationMs,
      });
    }
  return sessions;
}

/** Version 1: `courses` weekly courses from `firstDay`, each on its own weekday and hour. */
export function firstVersion(
  random: () => number,
  tag: string,
  organizers: readonly string[],
  options: { courses: [number, number]; weeks: [number, number]; firstDay?: string },
): Timetable {
  const first = Date.parse(options.firstDay ?? '2027-01-11T00:00:00Z');
  const count = randomInt(random, ...options.courses);
  return Array.from({ length: count }, (_, c) => ({
    uid: `${tag}-c${c}@convergence.example`,
    organizerEmail: organizers[c % organizers.length] as string,
    subject: `${tag} course ${c}`,
    // Even hours only: a course moved by one hour never lands on another course's slot.
    start: first + (c % 5) * DAY + (8 + 2 * Math.floor(c / 5)) * HOUR,
    durationMs: 90 * 60_000,
    weeks: randomInt(random, ...options.weeks),
    exdates: [],
    overrides: {},
  }));
}

export interface VersionChange {
  timetable: Timetable;
  /** What changed, for a failure message. */
  changes: string[];
}

/**
 * Version 2 for an update: courses renamed (PATCH), one instance moved by an override (PATCH of that
 * session), a whole course re-timed (new RECURRENCE-IDs: its sessions are cancelled and created anew),
 * a course handed to another lecturer (replace). At least one change.
 */
export function updatedVersion(
  random: () => number,
  v1: Timetable,
  organizers: readonly string[],
): VersionChange {
  const changes: string[] = [];
  const timetable = v1.map((c, i): Course => {
    const roll = random();
    if (roll < 0.3) {
      changes.push(`course ${i} renamed`);
      return { ...c, subject: `${c.subject} (renamed)` };
    }
    if (roll < 0.55) {
      const week = randomInt(random, 0, c.weeks - 1);
      const start = c.start + week * 7 * DAY + HOUR;
      changes.push(`course ${i} week ${week} moved by an hour`);
      return {
        ...c,
        overrides: { [week]: { start, end: start + c.durationMs, subject: `${c.subject} (moved)` } },
      };
    }
    if (roll < 0.7) {
      changes.push(`course ${i} re-timed (new keys)`);
      return { ...c, start: c.start + HOUR };
    }
    if (roll < 0.85 && organizers.length > 1) {
      const next = organizers[(organizers.indexOf(c.organizerEmail) + 1) % organizers.length] as string;
      changes.push(`course ${i} handed to ${next}`);
      return { ...c, organizerEmail: next };
    }
    return c;
  });
  if (changes.length === 0) {
    changes.push('course 0 renamed');
    timetable[0] = { ...(timetable[0] as Course), subject: `${(timetable[0] as Course).subject} (renamed)` };
  }
  return { timetable, changes };
}

/** Version 2 for a cancellation: whole courses removed and single instances dropped (EXDATE). */
export function reducedVersion(random: () => number, v1: Timetable): VersionChange {
  const changes: string[] = [];
  const removed = new Set<number>();
  const toRemove = randomInt(random, 1, Math.max(1, v1.length - 1));
  while (removed.size < toRemove) removed.add(randomInt(random, 0, v1.length - 1));
  const timetable: Timetable = [];
  v1.forEach((c, i) => {
    if (removed.has(i)) {
      changes.push(`course ${i} removed`);
      return;
    }
    if (random() < 0.4 && c.weeks > 1) {
      const week = randomInt(random, 0, c.weeks - 1);
      changes.push(`course ${i} week ${week} dropped`);
      timetable.push({ ...c, exdates: [week] });
    } else timetable.push(c);
  });
  return { timetable, changes };
}

// ---- outcome -------------------------------------------------------------------------------------

export interface Outcome {
  /** Live meetings beyond the first for one expected session. */
  duplicates: number;
  /** Expected (future) sessions without a live meeting. */
  missing: number;
  /** Live meetings that no expected session owns. */
  orphans: number;
  /** One line per finding. */
  findings: string[];
  /** The orphans themselves (for a reproduction). */
  orphanMeetings: EmulatorMeetingView[];
}

/**
 * A meeting the product cancelled in CANCEL_MODE=lock stays in Graph with its lobby locked and its
 * subject prefixed: it is not live for anyone. (In delete mode the meeting is locked, then deleted.)
 */
export function isLockedCancelled(m: EmulatorMeetingView): boolean {
  return m.lobbyLocked && m.subject.startsWith('Cancelled: ');
}

/**
 * Counts from the emulator's own meeting list (not from the meetings table): every expected session
 * should have exactly one live meeting (same organizer, subject, start and end), and no other live
 * meeting should exist. The emulator must hold only this trial's meetings (reset per trial).
 */
export function countOutcome(
  emulator: EmulatorHandle,
  expected: readonly ExpectedSession[],
  users: ReadonlyMap<string, EmulatorUser>,
): Outcome {
  const key = (organizerId: string, subject: string, start: number, end: number) =>
    `${organizerId}|${subject}|${new Date(start).toISOString()}|${new Date(end).toISOString()}`;
  const wanted = new Map<string, number>();
  for (const s of expected) {
    const user = users.get(s.organizerEmail);
    if (!user) throw new Error(`no emulator user for ${s.organizerEmail}`);
    const k = key(user.id, s.subject, s.start, s.end);
    wanted.set(k, (wanted.get(k) ?? 0) + 1);
  }
  const live = emulator.control.meetings().filter((m) => !isLockedCancelled(m));
  const byKey = new Map<string, EmulatorMeetingView[]>();
  for (const m of live) {
    const k = key(m.organizerId, m.subject, Date.parse(m.startDateTime), Date.parse(m.endDateTime));
    byKey.set(k, [...(byKey.get(k) ?? []), m]);
  }
  const outcome: Outcome = { duplicates: 0, missing: 0, orphans: 0, findings: [], orphanMeetings: [] };
  for (const [k, n] of wanted) {
    const found = byKey.get(k)?.length ?? 0;
    if (found < n) {
      outcome.missing += n - found;
      outcome.findings.push(`missing: no live meeting for ${k}`);
    } else if (found > n) {
      outcome.duplicates += found - n;
      outcome.findings.push(
        `duplicate: ${found} live meetings for ${k} (${byKey
          .get(k)
          ?.map((m) => m.externalId)
          .join(', ')})`,
      );
    }
  }
  for (const [k, list] of byKey) {
    if (wanted.has(k)) continue;
    outcome.orphans += list.length;
    outcome.orphanMeetings.push(...list);
    for (const m of list)
      outcome.findings.push(
        `orphan: ${m.subject} @ ${m.startDateTime} (externalId ${m.externalId ?? 'none'}, created ${m.creationDateTime} by ${m.createdBy}, ${m.patchCount} PATCHes, lobby ${m.lobbyBypassScope})`,
      );
  }
  return outcome;
}

// ---- row history ---------------------------------------------------------------------------------

/**
 * The meeting rows of a feed as seen at labelled moments (and by polling while runs are in flight):
 * per row key, each change of state / generation / meeting id, and when the row disappeared.
 */
export class RowHistory {
  private readonly byKey = new Map<string, string[]>();
  private readonly last = new Map<string, string>();
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly store: StateStore,
    private readonly feedId: string,
  ) {}

  async snapshot(label: string): Promise<void> {
    let rows;
    try {
      rows = await this.store.meetings.listByFeed(this.feedId);
    } catch {
      return;
    }
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.key);
      const desc = `${row.state} g${row.generation}${row.meetingId ? ' +meetingId' : ''}${row.lastError ? ` (${row.lastError.code})` : ''}`;
      if (this.last.get(row.key) === desc) continue;
      this.last.set(row.key, desc);
      this.byKey.set(row.key, [...(this.byKey.get(row.key) ?? []), `${label}: ${desc}`]);
    }
    for (const [k, desc] of this.last)
      if (!seen.has(k) && desc !== 'gone') {
        this.last.set(k, 'gone');
        this.byKey.set(k, [...(this.byKey.get(k) ?? []), `${label}: row gone`]);
      }
  }

  /** Snapshots every `intervalMs` under `label` until stop(). */
  poll(label: string, intervalMs = 100): () => Promise<void> {
    this.stopped = false;
    const loop = async () => {
      while (!this.stopped) {
        await this.snapshot(label);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    };
    this.polling = loop();
    return async () => {
      this.stopped = true;
      await this.polling;
      await this.snapshot(`${label} (end)`);
    };
  }

  /** The history of the row a createOrGet externalId (`tts-<key>-<generation>`) belongs to. */
  ofExternalId(externalId: string | null): string {
    const key = /^tts-(.+)-\d+$/.exec(externalId ?? '')?.[1];
    if (!key) return '(no row key in the externalId)';
    const history = this.byKey.get(key);
    return history ? `row ${key}: ${history.join(' → ')}` : `row ${key}: never seen in the meetings table`;
  }
}

// ---- figures -------------------------------------------------------------------------------------

export interface ScenarioFigures {
  trials: number;
  kills: number;
  lostResponses: number;
  duplicates: number;
  missing: number;
  orphans: number;
}

export function emptyFigures(): ScenarioFigures {
  return { trials: 0, kills: 0, lostResponses: 0, duplicates: 0, missing: 0, orphans: 0 };
}

/** The table the suite prints at its end (collected into docs/reliability.md from a SOAK=1 run). */
export function figuresTable(rows: Record<string, ScenarioFigures>): string {
  const header = ['scenario', 'trials', 'kills', 'lost responses', 'duplicates', 'missing', 'orphans'];
  const body = Object.entries(rows).map(([name, f]) => [
    name,
    ...[f.trials, f.kills, f.lostResponses, f.duplicates, f.missing, f.orphans].map(String),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
