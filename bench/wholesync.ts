// Part 7: whole-sync memory. One feed of 25k / 100k / 225k sessions (the semester of part 3) synced by
// a fresh worker process (bench/wholesync-child.ts: services from src/compose.ts, then syncFeed) against
// Azurite and the Graph emulator (no ceiling, no latency: memory, not speed). The feed's state is what
// an earlier sync left: rows for 98 % of the sessions (1 % of them out of date), 1 % not created yet,
// and rows for 0.5 % more sessions that have left the feed — so the run reads ~225,000 rows, plans,
// and applies ~2.5 % of them (PATCH, createOrGet + PATCH, DELETE). The meetings those operations touch
// exist in the emulator (created through the product's Graph client); the other rows carry ids of the
// same length that no operation uses.
//
// The meeting rows are not in Azurite: it inserts into a partition by scanning it (a 25,000-row
// partition took 90 s to fill, 100,000 rows did not finish in 10 minutes on this machine). The parent
// writes them as the service's JSON rows to a file (the entities the product's putMany sends, captured
// from its TableClient), and the child's meetings table reads that file a page of 1,000 at a time.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { TableClient } from '@azure/data-tables';

import type { DesiredSession } from '../src/core/desired.js';
import { externalIdFor } from '../src/core/identity.js';
import type { MeetingRecord } from '../src/core/state.js';
import { createdRow, creatingRow, newMeetingRow } from '../src/core/transitions.js';
import { createMeetingRepository } from '../src/storage/meetings.js';
import { expandFeedBody, feedWindow } from '../src/sync/loadFeed.js';
import { fixed, int, pool, progress, type BenchOptions, type PartResult, type Row } from './common.js';
import { semesterText } from './plan-child.js';
import type { WholeSyncReport } from './wholesync-child.js';
import { BENCH_NOW, newTenant, type BenchEnv, type Tenant } from './world.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./wholesync-child.js', import.meta.url));
const FEED_ID = 'semester';
/** Flex Consumption's smallest instance has 512 MB; this leaves room for the host's own share. */
export const WHOLE_SYNC_RSS_TARGET_MB = 450;
/**
 * Old-space limits for a 512 MB instance (app setting languageWorkers__node__arguments): V8 lets the old
 * generation grow to up to four times what was live at its last full GC before it collects again, and
 * the apply's garbage (Graph and Table requests) piles up there; for a 225,000-session feed that last
 * full GC may fall while its ~45 MB of desired sessions are built or planned (~90 MB live with the
 * SDKs), although the apply itself keeps ~55 MB live. A limit makes V8 collect instead.
 */
export const HEAP_LIMITS_MB = [384, 336] as const;

/** Rows an earlier sync left for these sessions; returns how many meetings were made in the emulator. */
async function seedEarlierSync(
  tenant: Tenant,
  sessions: readonly DesiredSession[],
  file: string,
): Promise<number> {
  const graph = tenant.services.graph;
  if (!graph) throw new Error('the bench tenant has no Graph client');
  await graph.getToken();
  const emails = [...new Set(sessions.map((s) => s.organizerEmail))];
  const ids = await pool(
    emails,
    16,
    async (email) => (await graph.users.resolveByEmail(email))?.objectId ?? '',
  );
  const userIds = new Map(emails.map((email, i) => [email, ids[i] ?? '']));
  const live = sessions.filter((s) => !s.cancelled);
  const touched: Array<{ record: MeetingRecord; session: DesiredSession }> = [];
  const records: MeetingRecord[] = [];
  // Meeting ids and join links as long as the emulator's (production's are longer still).
  let sample: { id: string; joinWebUrl: string } | null = null;
  const row = (session: DesiredSession, key: string): MeetingRecord => {
    const externalId = externalIdFor(key, 0);
    const organizer = { email: session.organizerEmail, objectId: userIds.get(session.organizerEmail) ?? '' };
    return creatingRow(
      newMeetingRow(FEED_ID, { ...session, key }, externalId, 0),
      session,
      organizer,
      externalId,
      0,
    );
  };
  const removed = Math.floor(live.length / 200);
  live.forEach((session, i) => {
    if (i % 100 === 1) return; // not created yet
    const record = row(session, session.key);
    if (i % 100 === 2) touched.push({ record: { ...record, contentHash: 'changed' }, session });
    else records.push(record);
  });
  for (let j = 0; j < removed; j++) {
    const session = live[(j * 197) % live.length] as DesiredSession;
    touched.push({ record: row(session, `gone${j}`), session });
  }
  const made = await pool(touched, 16, async ({ record, session }) => {
    const meeting = await graph.meetings.createOrGet(record.organizerId ?? '', {
      externalId: record.externalId,
      subject: session.subject,
      startDateTime: session.start,
      endDateTime: session.end,
    });
    sample ??= meeting;
    return createdRow(record, meeting);
  });
  const like = sample as { id: string; joinWebUrl: string } | null;
  const idLength = like?.id.length ?? 100;
  const urlLength = like?.joinWebUrl.length ?? 200;
  const stand = (n: number, length: number, prefix: string): string =>
    `${prefix}${String(n).padStart(Math.max(1, length - prefix.length), '0')}`;
  const rows = [
    ...made,
    ...records.map((r, n) =>
      createdRow(r, {
        id: stand(n, idLength, 'MSo'),
        joinWebUrl: stand(n, urlLength, 'https://teams.microsoft.com/l/meetup-join/'),
      }),
    ),
  ];
  await writeRowsFile(file, rows);
  return made.length;
}

/**
 * The rows as the Tables service returns them (JSON lines): the entities the product's putMany writes
 * (captured from its TableClient) with the service's etag and Timestamp.
 */
async function writeRowsFile(file: string, rows: readonly MeetingRecord[]): Promise<void> {
  const out = createWriteStream(file);
  let j = 0;
  const capture = {
    submitTransaction: (actions: Array<[string, Record<string, unknown>]>) => {
      const lines = actions.map(([, entity]) => {
        const { partitionKey, rowKey, ...properties } = entity;
        // Rows written by one transaction share the second; the fraction differs.
        const stamp = `2027-01-01T0${Math.floor(j / 100_000)}:${String(Math.floor(j / 1000) % 60).padStart(2, '0')}:${String(Math.floor(j / 100) % 60).padStart(2, '0')}.${String(j++).padStart(7, '0')}Z`;
        return JSON.stringify({
          'odata.etag': `W/"datetime'${stamp.replace(/:/g, '%3A')}'"`,
          PartitionKey: partitionKey,
          RowKey: rowKey,
          Timestamp: stamp,
          'Timestamp@odata.type': 'Edm.DateTime',
          ...properties,
        });
      });
      out.write(`${lines.join('\n')}\n`);
      return Promise.resolve({ subResponses: actions.map(() => ({ status: 204, etag: 'captured' })) });
    },
  } as unknown as TableClient;
  const repository = createMeetingRepository(capture, 'meetings');
  for (let i = 0; i < rows.length; i += 100) await repository.putMany(rows.slice(i, i + 100));
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** V8's old-space limit given to the worker (node's --max-old-space-size), or null for node's default. */
type HeapLimit = number | null;

interface SizedReport extends WholeSyncReport {
  heapLimitMb: HeapLimit;
}

/**
 * Syncs a feed of `size` sessions once per heap limit, each in a fresh process over the same earlier
 * state (the sync is forced, so each run plans and applies the same operations; Graph's createOrGet
 * and DELETE are idempotent).
 */
async function wholeSync(
  env: BenchEnv,
  size: number,
  heapLimits: readonly HeapLimit[],
  options: BenchOptions,
): Promise<SizedReport[]> {
  const { text } = semesterText(size);
  const lecturers = [...new Set([...text.matchAll(/mailto:([^\r\n]+)/g)].map((m) => m[1] as string))];
  const tenant = await newTenant(env, {
    lecturers,
    settings: { MAX_FEED_BYTES: String(200 * 1024 * 1024) },
  });
  const t0 = Date.now();
  await tenant.upload(FEED_ID, text);
  progress(options, `whole sync ${int(size)}: uploaded in ${fixed((Date.now() - t0) / 1000)} s`);
  const { desired } = expandFeedBody(
    text,
    { id: FEED_ID, timeZone: null, defaultOrganizer: null },
    feedWindow(Date.parse(BENCH_NOW), tenant.services.config.sync.horizonDays),
    tenant.services.config,
  );
  progress(options, `whole sync ${int(size)}: the rows of an earlier sync`);
  const dir = await mkdtemp(path.join(tmpdir(), 'tts-wholesync-'));
  const file = path.join(dir, 'meetings.jsonl');
  const reports: SizedReport[] = [];
  try {
    await seedEarlierSync(tenant, desired.sessions, file);
    for (const heapLimitMb of heapLimits) {
      const flags = heapLimitMb === null ? [] : [`--max-old-space-size=${heapLimitMb}`];
      progress(options, `whole sync ${int(size)}: syncing in a fresh process ${flags.join(' ')}`);
      const { stdout, stderr } = await run(
        process.execPath,
        [...flags, CHILD, tenant.namePrefix, FEED_ID, file],
        { env: { ...process.env, ...tenant.appSettings }, maxBuffer: 1 << 20 },
      );
      if (process.env.BENCH_TRACE) process.stderr.write(stderr);
      const report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as WholeSyncReport;
      progress(
        options,
        `whole sync ${int(size)}: ${report.outcome}, peak RSS ${fixed(report.peakRssMb, 0)} MB (at plan ${fixed(report.planRssMb, 0)} MB)`,
      );
      reports.push({ ...report, heapLimitMb });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return reports;
}

export async function benchWholeSync(env: BenchEnv, options: BenchOptions): Promise<PartResult> {
  const part = '7 whole sync';
  const sizes = options.quick ? [3_000] : [25_000, 100_000, 225_000];
  const reports: SizedReport[] = [];
  for (const size of sizes) {
    // The largest size also with old-space limits for a 512 MB instance.
    const heapLimits = options.quick ? HEAP_LIMITS_MB.slice(0, 1) : HEAP_LIMITS_MB;
    const limits = size === sizes[sizes.length - 1] ? [null, ...heapLimits] : [null];
    reports.push(...(await wholeSync(env, size, limits, options)));
  }
  const rows: Row[] = [];
  for (const r of reports) {
    const label = `${int(r.sessions)} sessions${r.heapLimitMb === null ? '' : `, --max-old-space-size=${r.heapLimitMb}`}`;
    const last = r === reports[reports.length - 1];
    rows.push(
      {
        part,
        figure: `${label}: peak RSS (at plan; process at start)`,
        value: `${fixed(r.peakRssMb, 0)} MB (${fixed(r.planRssMb, 0)}; ${fixed(r.baseRssMb, 0)} MB)`,
        ...(last
          ? { target: `<= ${WHOLE_SYNC_RSS_TARGET_MB} MB`, met: r.peakRssMb <= WHOLE_SYNC_RSS_TARGET_MB }
          : {}),
      },
      {
        part,
        figure: `${label}: created / updated / cancelled / unchanged / failed`,
        value: `${int(r.created)} / ${int(r.updated)} / ${int(r.cancelled)} / ${int(r.unchanged)} / ${int(r.failed)}`,
      },
      {
        part,
        figure: `${label}: until planned / whole sync`,
        value: `${fixed(r.planMs / 1000)} / ${fixed(r.totalMs / 1000)} s (${int(r.graphRequests)} Graph requests)`,
      },
    );
  }
  const small = reports[0];
  const large = reports.filter((r) => r.heapLimitMb === null).pop();
  if (small && large && small !== large) {
    const growth =
      (large.peakRssMb - large.baseRssMb) /
      large.sessions /
      ((small.peakRssMb - small.baseRssMb) / small.sessions);
    rows.push({
      part,
      figure: `RSS above start per session, ${int(large.sessions)} vs ${int(small.sessions)}`,
      value: `${fixed(growth, 2)}x`,
    });
  }
  return {
    part,
    rows,
    notes: [
      `whole sync: one feed (the semester of part 3), synced by a fresh process with the services of src/compose.ts and src/sync/syncFeed.ts (force), against Azurite and the Graph emulator without ceiling or latency; the state an earlier sync left: rows for 98 % of the sessions (1 % of them out of date), 1 % not created yet, rows for 0.5 % more that left the feed, read by the product's meetings repository from the service's JSON rows in a file (a page of 1,000 at a time; Azurite cannot fill a 225,000-row partition in time); peak RSS = the process's maxRSS (at plan = when sync.planned was logged); the largest size once more per limit, node --max-old-space-size=${HEAP_LIMITS_MB.join(' and ')}.`,
    ],
  };
}
