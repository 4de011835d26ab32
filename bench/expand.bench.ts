// Expansion benchmark: this project's expandCalendar (a) against straightforward ical.js use (b) on a
// generated semester timetable (bench/expand-data.ts). Each side runs in its own child process so
// that peak RSS is its own; the parent compares the occurrences (hash of the sorted keys) and exits
// non-zero if they differ, or if (a) misses its targets (>= 10x faster, <= 100 MB peak RSS).
//
//   npm run bench:expand            (or: node dist/bench/expand.bench.js [--events N])
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import ICAL from 'ical.js';
import { expandCalendar } from '../src/ical/index.js';
import { generateTimetable } from './expand-data.js';

interface Report {
  mode: string;
  occurrences: number;
  ms: number;
  maxRssMb: number;
  hash: string;
  sample: string[];
}

const isoSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** (a) this project. Returns its natural output; keys are made after the measurement. */
function runProject(text: string, window: { from: number; to: number }): () => string[] {
  const { occurrences } = expandCalendar(text, window);
  return () => occurrences.map((o) => `${o.uid}|${o.start}|${o.end}`);
}

/** (b) ical.js as its documentation suggests: one ICAL.Event per master with its exceptions. */
function runIcalJs(text: string, window: { from: number; to: number }): () => string[] {
  const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  for (const tz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const byUid = new Map<string, { master?: ICAL.Component; exceptions: ICAL.Component[] }>();
  for (const ve of root.getAllSubcomponents('vevent')) {
    const uid = String(ve.getFirstPropertyValue('uid'));
    const entry = byUid.get(uid) ?? { exceptions: [] };
    if (ve.hasProperty('recurrence-id')) entry.exceptions.push(ve);
    else entry.master = ve;
    byUid.set(uid, entry);
  }
  const found: { uid: string; start: number; end: number }[] = [];
  for (const [uid, { master, exceptions }] of byUid) {
    if (!master) continue;
    const event = new ICAL.Event(master, { exceptions });
    const it = event.iterator();
    for (let next = it.next(); next; next = it.next()) {
      const details = event.getOccurrenceDetails(next) as { startDate: ICAL.Time; endDate: ICAL.Time; recurrenceId: ICAL.Time };
      const start = details.startDate.toUnixTime() * 1000;
      const end = details.endDate.toUnixTime() * 1000;
      if (details.recurrenceId.toUnixTime() * 1000 >= window.to) break;
      if (start < window.to && end > window.from) found.push({ uid, start, end });
    }
  }
  return () => found.map((o) => `${o.uid}|${isoSeconds(o.start)}|${isoSeconds(o.end)}`);
}

function measure(mode: string, events: number): Report {
  const { text, window } = generateTimetable({ events });
  const t0 = performance.now();
  const result = mode === 'project' ? runProject(text, window) : runIcalJs(text, window);
  const ms = performance.now() - t0;
  // Peak RSS of parsing and expanding (process start included), before the comparison keys exist.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const keys = result().sort();
  return {
    mode,
    occurrences: keys.length,
    ms,
    maxRssMb,
    hash: createHash('sha256').update(keys.join('\n')).digest('hex'),
    sample: keys.slice(0, 3),
  };
}

function child(mode: string, events: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', mode, '--events', String(events)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let report: Report | undefined;
    proc.on('message', (m) => (report = m as Report));
    proc.on('error', reject);
    proc.on('exit', (code) =>
      report && code === 0 ? resolve(report) : reject(new Error(`${mode} child exited with ${code}`)),
    );
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--events');
  const events = at >= 0 ? Number(args[at + 1]) : 3000;
  const childAt = args.indexOf('--child');
  if (childAt >= 0) {
    process.send?.(measure(args[childAt + 1] as string, events));
    return 0;
  }
  const a = await child('project', events);
  const b = await child('icaljs', events);
  const line = (label: string, r: Report): string =>
    `${label.padEnd(22)} ${String(r.occurrences).padStart(7)} occurrences  ${r.ms.toFixed(0).padStart(6)} ms  ${Math.round(
      (r.occurrences / r.ms) * 1000,
    )
      .toLocaleString('en-US')
      .padStart(11)} occ/s  peak RSS ${r.maxRssMb.toFixed(1)} MB`;
  console.log(`timetable: ${events} weekly series, 15 weeks, overrides, EXDATEs, 2 VTIMEZONEs`);
  console.log(line('(a) timetable-sync', a));
  console.log(line('(b) ical.js Event', b));
  const ratio = b.ms / a.ms;
  console.log(`speed-up (b)/(a): ${ratio.toFixed(1)}x`);
  let ok = true;
  if (a.hash !== b.hash || a.occurrences !== b.occurrences) {
    console.error(
      `MISMATCH: (a) ${a.occurrences} occurrences ${a.hash.slice(0, 12)} vs (b) ${b.occurrences} ${b.hash.slice(0, 12)}; samples ${a.sample.join(' ; ')} / ${b.sample.join(' ; ')}`,
    );
    ok = false;
  } else console.log(`occurrences identical (${a.occurrences}, sha256 ${a.hash.slice(0, 12)})`);
  if (ratio < 10) {
    console.error('target missed: (a) is less than 10x faster than (b)');
    ok = false;
  }
  if (a.maxRssMb > 100) {
    console.error('target missed: (a) peak RSS above 100 MB');
    ok = false;
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  },
);
