// The queries, alerts and workbook in infra/monitoring read the app's events by name and by dimension
// (`customDimensions.event`, `customDimensions.email`, …). Nothing checks them in Azure before they
// are needed, so this test runs the situations they watch for (a lecturer without a policy, a grant
// still propagating, a lecturer not in the directory, both guards holding, a rejected feed, a Graph
// error, a poison message, an expiring certificate), captures every event, and fails when a query
// names an event or a field those events do not have.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { HttpRequest, InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { generate } from 'selfsigned';
import { describe, expect, it } from 'vitest';

import { createEventLogger, exportEvents, memorySink, type LoggedEvent } from '../../src/events.js';
import { toGraphSettings } from '../../src/compose.js';
import { createGraphAccess } from '../../src/graph/client.js';
import { fanOutSync, syncFeedFromMessage } from '../../src/handlers/sync.js';
import { createPoliciesRoutes } from '../../src/http/policies.js';
import { allDayEvent, vevent } from '../support/sync-feeds.js';
import { calendar, useSyncHarness } from '../support/sync-harness.js';

const harness = useSyncHarness();
const MONITORING = path.join(import.meta.dirname, '..', '..', 'infra', 'monitoring');

/** Dimensions every event has besides its properties (src/telemetry.ts). */
const ALWAYS = new Set(['event', 'level', 'InvocationId', 'functionName']);

interface Query {
  source: string;
  text: string;
}

/** queries.kql, one query per `// ---- ` section, comments removed. */
function kqlQueries(): Query[] {
  const text = readFileSync(path.join(MONITORING, 'queries.kql'), 'utf8');
  return text
    .split(/^\/\/ ---- /m)
    .slice(1)
    .map((section) => ({
      source: `queries.kql: ${section
        .split('\n')[0]
        ?.replace(/-+\s*$/, '')
        .trim()}`,
      text: section.replace(/\/\/.*$/gm, ''),
    }));
}

/** The `query:` of every alert rule (Bicep string interpolations stand for numbers). */
function alertQueries(): Query[] {
  const text = readFileSync(path.join(MONITORING, 'alerts.bicep'), 'utf8');
  return [...text.matchAll(/name: '([^']+)'[\s\S]*?query: '((?:[^'\\]|\\.)*)'/g)].map((m) => ({
    source: `alerts.bicep: ${m[1]}`,
    text: (m[2] as string).replace(/\$\{[^}]+\}/g, '3'),
  }));
}

interface WorkbookItem {
  name?: string;
  content?: { query?: string; title?: string };
}

function workbookQueries(): Query[] {
  const workbook = JSON.parse(readFileSync(path.join(MONITORING, 'workbook.json'), 'utf8')) as {
    items: WorkbookItem[];
  };
  return workbook.items
    .filter((item) => typeof item.content?.query === 'string')
    .map((item) => ({
      source: `workbook.json: ${item.content?.title ?? item.name}`,
      text: item.content?.query as string,
    }));
}

/** The runbook's queries, one per entry (docs/runbook.md, ```kusto blocks). */
function runbookQueries(): Query[] {
  const text = readFileSync(path.join(MONITORING, '..', '..', 'docs', 'runbook.md'), 'utf8');
  return text
    .split(/^### /m)
    .slice(1)
    .flatMap((section) =>
      [...section.matchAll(/```kusto\n([\s\S]+?)```/g)].map((m) => ({
        source: `runbook.md: ${section.split('\n')[0]}`,
        text: m[1] as string,
      })),
    );
}

/** Event names a query filters on: the string literals shaped like event names. */
function namedEvents(query: string): string[] {
  return [...query.matchAll(/"([a-z][a-zA-Z]*(?:\.[a-zA-Z]+)+)"/g)].map((m) => m[1] as string);
}

/** Dimensions a query reads: `customDimensions.name` and `customDimensions["name"]`. */
function namedFields(query: string): string[] {
  return [...query.matchAll(/customDimensions(?:\.([A-Za-z_]\w*)|\["([^"]+)"\])/g)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
}

/**
 * Every event a query names must have been emitted; every field it reads must be a property of one of
 * the events it names (of any event, if it names none).
 */
function findQueryProblems(queries: readonly Query[], events: readonly LoggedEvent[]): string[] {
  const fieldsByEvent = new Map<string, Set<string>>();
  for (const event of events) {
    const fields = fieldsByEvent.get(event.name) ?? new Set<string>();
    for (const key of Object.keys(event.properties)) fields.add(key);
    fieldsByEvent.set(event.name, fields);
  }
  const problems: string[] = [];
  for (const query of queries) {
    const names = [...new Set(namedEvents(query.text))];
    for (const name of names)
      if (!fieldsByEvent.has(name)) problems.push(`${query.source}: no event named ${name}`);
    const scope = names.length > 0 ? names : [...fieldsByEvent.keys()];
    for (const field of new Set(namedFields(query.text))) {
      if (ALWAYS.has(field)) continue;
      if (!scope.some((name) => fieldsByEvent.get(name)?.has(field)))
        problems.push(`${query.source}: no ${names.length > 0 ? names.join('/') : 'event'} has ${field}`);
    }
  }
  return problems;
}

const ADA = 'ada@uni.example'; // granted
const BOB = 'bob@uni.example'; // grant recorded, still propagating in Graph
const CAROL = 'carol@uni.example'; // no policy
const NOBODY = 'nobody@uni.example'; // not in the directory
const EVE = 'eve@uni.example'; // a guest account
const DAN = 'dan@uni.example'; // at Graph's monthly meeting limit

async function eventsOfEveryKind(): Promise<LoggedEvent[]> {
  const world = await harness.world({ settings: { GUARD_MAX_EVENT_SESSIONS: '6' } });
  const { sink, events } = memorySink();
  const logger = createEventLogger(sink);
  const users = world.seed([ADA, BOB, CAROL]);
  await world.grant(users.get(ADA)!);
  await world.grant(users.get(BOB)!, { delayMs: 3_600_000 });
  const weekly = (uid: string, organizer: string, start: string, count: number) =>
    vevent({ uid, organizer, summary: uid, start, rrule: `FREQ=WEEKLY;COUNT=${count}` });

  // A lecturer without a policy, a grant propagating, an unknown lecturer, an all-day event; then a
  // moved session that Graph refuses to update.
  const cs = weekly('cs101@uni', ADA, '2027-01-11T09:00:00Z', 4);
  await world.upload(
    'cs',
    calendar(
      cs,
      weekly('ma101@uni', BOB, '2027-01-12T09:00:00Z', 2),
      weekly('ph101@uni', CAROL, '2027-01-13T09:00:00Z', 2),
      weekly('gh101@uni', NOBODY, '2027-01-14T09:00:00Z', 2),
      allDayEvent('open-day@uni', ADA, 'Open day', '2027-01-15'),
    ),
  );
  await world.sync('cs', { deps: { logger } });
  await world.upload(
    'cs',
    calendar(
      cs,
      vevent({
        uid: 'cs101@uni',
        organizer: ADA,
        summary: 'cs101@uni',
        recurrenceId: '2027-01-18T09:00:00Z',
        start: '2027-01-18T10:00:00Z',
      }),
    ),
  );
  world.emulator.control.setFaults({ errorRate: 1, retryAfterSeconds: 1, seed: 3 });
  world.advance(15 * 60_000);
  await world.sync('cs', { deps: { logger } });
  world.emulator.control.setFaults(null);

  // The deletion guard: most of a feed's meetings would be cancelled at once.
  await world.upload('guarded', calendar(weekly('bio@uni', ADA, '2027-01-11T14:00:00Z', 5)));
  await world.sync('guarded', { deps: { logger } });
  await world.upload('guarded', calendar(weekly('bio@uni', ADA, '2027-01-11T14:00:00Z', 1)));
  await world.sync('guarded', { deps: { logger } });
  // The creation guard: one event would add more sessions than GUARD_MAX_EVENT_SESSIONS.
  await world.upload('typo', calendar(weekly('daily@uni', ADA, '2027-01-11T16:00:00Z', 8)));
  await world.sync('typo', { deps: { logger } });
  // A feed whose URL cannot be fetched (nothing is sent anywhere: the fetch itself fails here).
  // (Registered in storage directly: the admin API refuses a loopback URL, rightly.)
  const uploaded = (await world.upload('remote', calendar(cs))).feed;
  await world.services.store.feeds.update({
    ...uploaded,
    source: 'url',
    url: 'https://127.0.0.1:9/timetable.ics',
    contentHash: null,
    bodyVersion: null,
  });
  const unreachable = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9'));
  await world.sync('remote', { deps: { logger, fetchFeed: unreachable } });
  // A guest account (the directory says Teams would refuse it), and a lecturer at Graph's monthly limit.
  const more = world.seed([EVE, DAN]);
  world.emulator.control.setUser(more.get(EVE)!.id, { userType: 'Guest' });
  await world.grant(more.get(DAN)!);
  world.emulator.control.setBehaviour({ monthlyMeetingLimit: { perOrganizer: 1 } });
  await world.upload(
    'busy',
    calendar(
      weekly('lab@uni', DAN, '2027-01-11T18:00:00Z', 3),
      weekly('art@uni', EVE, '2027-01-12T18:00:00Z', 2),
    ),
  );
  await world.sync('busy', { deps: { logger } });
  world.emulator.control.setBehaviour({ monthlyMeetingLimit: { perOrganizer: 2000 } });
  // An unchanged run.
  await world.upload('quiet', calendar(weekly('seminar@uni', ADA, '2027-01-15T09:00:00Z', 1)));
  await world.sync('quiet', { deps: { logger } });
  world.advance(15 * 60_000);
  await world.sync('quiet', { deps: { logger } });

  // The timer: a message in the poison queue, and a certificate that expires in five days.
  const { store, config } = world.services;
  const poison = new QueueClient(harness.azurite().connectionString, store.syncQueue.poisonName);
  await poison.sendMessage(JSON.stringify({ feedId: 'cs' }));
  const cert = await generate([{ name: 'commonName', value: 'timetable-sync' }], { keySize: 2048 });
  const expires = Date.parse(new X509Certificate(cert.cert).validTo);
  const graph = config.graph!;
  // The timer's events reach telemetry as they would in Azure (through the invocation's sink).
  exportEvents((event) => sink(event));
  try {
    await fanOutSync(new InvocationContext({ logHandler: () => undefined }), {
      ...world.services,
      config: {
        ...config,
        graph: {
          ...graph,
          credential: {
            kind: 'certificate',
            privateKeyPem: `${cert.private}${cert.cert}`,
            thumbprintSha256: '00',
          },
        },
      },
      now: () => new Date(expires - 5 * 86_400_000),
    });
    // A queue message that is not a feed sync.
    await syncFeedFromMessage(
      'not a feed',
      new InvocationContext({ logHandler: () => undefined }),
      world.services,
    );
    // An admin records the grant they ran for CAROL, by e-mail (POST /api/policies/grants).
    const [grantRoute] = createPoliciesRoutes({
      services: () => Promise.resolve(world.services),
      requireKey: 'monitoring-key',
    }).filter((route) => route.name === 'policiesGrant');
    const granted = await grantRoute!.handler(
      new HttpRequest({
        url: 'http://127.0.0.1/api/policies/grants',
        method: 'POST',
        headers: { 'x-functions-key': 'monitoring-key', 'content-type': 'application/json' },
        body: { string: JSON.stringify({ user: CAROL }) },
      }),
      new InvocationContext({ functionName: 'policiesGrant', logHandler: () => undefined }),
    );
    expect(granted.status).toBe(201);
    // A sync failing on its fifth delivery: sync.poison from the queue handler.
    const failing = {
      ...world.services,
      store: {
        ...store,
        feeds: { ...store.feeds, get: () => Promise.reject(new Error('injected failure')) },
      },
    };
    const fifth = new InvocationContext({
      triggerMetadata: { dequeueCount: 5 },
      logHandler: () => undefined,
    });
    await expect(syncFeedFromMessage({ feedId: 'cs' }, fifth, failing)).rejects.toThrow('injected failure');
  } finally {
    exportEvents(null);
  }
  // Graph refuses the app itself (a wrong client secret).
  await world.upload('refused', calendar(weekly('refused@uni', ADA, '2027-01-11T07:00:00Z', 1)));
  const wrongSecret = createGraphAccess(
    toGraphSettings({ ...graph, credential: { kind: 'secret', secret: 'not-the-secret' } }, config),
  );
  await world.sync('refused', { deps: { logger, graph: wrongSecret } });
  return events;
}

describe('monitoring queries, alerts and workbook', () => {
  it('name only events and fields that a sync emits', async () => {
    const events = await eventsOfEveryKind();
    const names = new Set(events.map((e) => e.name));
    for (const name of [
      'policy.missing',
      'policy.propagating',
      'organizer.unresolved',
      'guard.cancellations.held',
      'guard.creations.held',
      'feed.rejected',
      'graph.error',
      'session.skipped',
      'sync.poison',
      'credential.expiring',
      'sync.message.invalid',
      'graph.credential.rejected',
      'organizer.refused',
      'organizer.monthlyLimit',
      'policy.grant.recorded',
    ])
      expect(names, name).toContain(name);
    // Events about a lecturer name them: e-mail, display name, object id.
    for (const name of [
      'policy.missing',
      'policy.propagating',
      'organizer.refused',
      'organizer.monthlyLimit',
      'policy.grant.recorded',
    ]) {
      const { email, displayName, objectId } = events.find((e) => e.name === name)?.properties ?? {};
      expect([email, typeof displayName, objectId], name).toEqual([
        expect.stringMatching(/@uni\.example$/) as unknown,
        'string',
        expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      ]);
    }
    expect(events.filter((e) => e.name === 'sync.run.completed').map((e) => e.properties.outcome)).toEqual(
      expect.arrayContaining(['completed', 'failed', 'unchanged']),
    );

    // The runbook's queries of the events this scenario produces (the others need a storage outage, a lost
    // lease or the attendance feature: docs/runbook.md's own test checks that they name their event).
    const runbook = runbookQueries().filter((q) => namedEvents(q.text).every((name) => names.has(name)));
    expect(runbook.length).toBeGreaterThanOrEqual(13);
    const queries = [...kqlQueries(), ...alertQueries(), ...workbookQueries(), ...runbook];
    expect(kqlQueries().length).toBeGreaterThanOrEqual(7);
    expect(alertQueries().map((q) => q.source)).toEqual([
      'alerts.bicep: no-sync-run',
      'alerts.bicep: feed-failing',
      'alerts.bicep: policy-missing',
      'alerts.bicep: poison-messages',
      'alerts.bicep: credential-expiring',
    ]);
    expect(workbookQueries().length).toBeGreaterThanOrEqual(5);
    expect(findQueryProblems(queries, events)).toEqual([]);

    // The check itself: a query reading a field no event has (the old `organizer`), or a misspelt event.
    expect(
      findQueryProblems(
        [
          {
            source: 'broken',
            text: 'traces | where customDimensions.event == "policy.missing" | summarize by tostring(customDimensions.organizer)',
          },
          { source: 'misspelt', text: 'traces | where customDimensions.event == "sync.run.complete"' },
        ],
        events,
      ),
    ).toEqual(['broken: no policy.missing has organizer', 'misspelt: no event named sync.run.complete']);
  });
});
