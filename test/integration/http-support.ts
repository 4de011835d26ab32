// Shared by the http-*.test.ts files: services over a real Azurite (own tables per test), requests
// built the way the Functions host builds them, and problem-body reading.
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { expect } from 'vitest';

import type { AppServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import type { MeetingRecord } from '../../src/core/state.js';
import type { GraphAccess } from '../../src/graph/client.js';
import type { RouteDefinition } from '../../src/http/index.js';
import { createLimiter } from '../../src/sync/limiter.js';
import type { AzuriteFixture } from '../support/azurite.js';

export const KEY = 'test-function-key-0123456789';
export const NOW = new Date('2026-09-01T00:00:00Z');
export const MAX_FEED_BYTES = 4096;

export async function makeServices(
  azurite: AzuriteFixture,
  options: { graph?: GraphAccess | null; env?: Record<string, string> } = {},
): Promise<AppServices> {
  const store = await azurite.store();
  const config = loadConfig({
    AzureWebJobsStorage: azurite.connectionString,
    MAX_FEED_BYTES: String(MAX_FEED_BYTES),
    ...options.env,
  });
  return {
    config,
    store,
    graph: options.graph ?? null,
    limiter: createLimiter({ initial: 2, min: 1, max: 4, perKeyMax: 2 }),
    now: () => NOW,
  };
}

export interface CallInit {
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  /** Send the function key (default true). */
  key?: boolean;
  /** The origin the request came to (the host builds the URL from the Host header); default localhost:7071. */
  origin?: string;
}

export function request(method: string, path: string, init: CallInit = {}): HttpRequest {
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? { string: init.body }
        : { bytes: init.body };
  return new HttpRequest({
    method,
    url: `${init.origin ?? 'http://localhost:7071'}/api/${path}`,
    ...(body ? { body } : {}),
    headers: { ...(init.key === false ? {} : { 'x-functions-key': KEY }), ...init.headers },
    query: init.query ?? {},
    params: init.params ?? {},
  });
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: () => Record<string, unknown>;
}

/** Finds the route by name and invokes its handler like the host would. */
export async function call(
  routes: RouteDefinition[],
  name: string,
  method: string,
  path: string,
  init: CallInit = {},
): Promise<CallResult> {
  const route = routes.find((r) => r.name === name);
  if (!route) throw new Error(`no route ${name}`);
  expect(route.methods).toContain(method);
  const response: HttpResponseInit = await route.handler(
    request(method, path, init),
    new InvocationContext({ functionName: name }),
  );
  const text =
    typeof response.body === 'string'
      ? response.body
      : response.body === undefined
        ? ''
        : String(response.body as never);
  const headers = Object.fromEntries(
    Object.entries((response.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    status: response.status ?? 200,
    headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** Asserts an RFC 9457 problem response with this status, and returns its body. */
export function expectProblem(result: CallResult, status: number, detail?: RegExp): Record<string, unknown> {
  expect(result.status, result.text).toBe(status);
  expect(result.headers['content-type']).toBe('application/problem+json');
  const body = result.json();
  expect(body.status).toBe(status);
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  if (detail) expect(body.detail).toMatch(detail);
  return body;
}

export function principalHeader(claims: Array<{ typ: string; val: string }>): string {
  return Buffer.from(
    JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }),
    'utf8',
  ).toString('base64');
}

export const FEED_ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//timetable//EN',
  'BEGIN:VEVENT',
  'UID:algo-lecture@uni.example',
  'DTSTAMP:20260801T000000Z',
  'DTSTART:20260914T081500Z',
  'DTEND:20260914T100000Z',
  'RRULE:FREQ=WEEKLY;COUNT=3',
  'SUMMARY:Algorithms lecture',
  'LOCATION:Room 1.01',
  'ORGANIZER;CN=Ada Lovelace:mailto:ada.lovelace@uni.example',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:db-seminar@uni.example',
  'DTSTAMP:20260801T000000Z',
  'DTSTART:20260915T120000Z',
  'DTEND:20260915T133000Z',
  'SUMMARY:Databases seminar',
  'ORGANIZER:mailto:chen.wei@uni.example',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:no-organizer@uni.example',
  'DTSTAMP:20260801T000000Z',
  'DTSTART:20260916T120000Z',
  'DTEND:20260916T130000Z',
  'SUMMARY:Office hours',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

let counter = 0;
export function meetingRecord(feedId: string, overrides: Partial<MeetingRecord> = {}): MeetingRecord {
  counter++;
  const key = (overrides.key ?? `${counter.toString(16).padStart(8, '0')}${'ab'.repeat(12)}`).slice(0, 32);
  return {
    feedId,
    key,
    uid: `uid-${counter}@uni.example`,
    recurrenceId: null,
    organizerEmail: 'ada.lovelace@uni.example',
    organizerId: '11111111-2222-3333-4444-555555555555',
    externalId: `tts-${key}-0`,
    generation: 0,
    meetingId: `meeting-${counter}`,
    joinWebUrl: `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${counter}%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d`,
    subject: `Session ${counter}`,
    start: '2026-09-14T08:15:00Z',
    end: '2026-09-14T10:00:00Z',
    contentHash: `hash-${counter}`,
    state: 'active',
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    ...overrides,
  };
}

/** Feed record and body as stored, without the ETag (for before/after comparisons). */
export async function snapshotFeed(services: AppServices, feedId: string) {
  const feed = await services.store.feeds.get(feedId);
  const body = feed?.bodyVersion ? await services.store.feedBodies.get(feedId, feed.bodyVersion) : null;
  const versions = await services.store.feedBodies.list(feedId);
  const meetings = (await services.store.meetings.listByFeed(feedId)).map(({ etag: _e, ...m }) => m);
  return { feed, body, versions, meetings };
}
