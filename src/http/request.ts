// Reading request bodies and query parameters with limits: every rejection is a ProblemError naming
// the input and what is wrong, raised before anything is stored.
import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';

import { problems } from '../admin/problems.js';

/** JSON bodies are small settings objects; anything bigger is a mistake or an attack. */
export const MAX_JSON_BYTES = 64 * 1024;

/** The media type of the request without parameters, lower-cased ('' when absent). */
export function mediaTypeOf(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function charsetOf(request: HttpRequest): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(request.headers.get('content-type') ?? '');
  return match?.[1]?.toLowerCase() ?? null;
}

/** Refuses by Content-Length before reading, then by the bytes actually received. */
export async function readBodyBytes(
  request: HttpRequest,
  maxBytes: number,
  what: string,
  /** The setting that holds the limit, named so that whoever reads the 413 knows what to raise. */
  setting?: string,
): Promise<Uint8Array> {
  const limit = `the limit is ${maxBytes} bytes${setting ? ` (${setting})` : ''}`;
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw problems.tooLarge(`${what} is ${declared} bytes (Content-Length); ${limit}`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw problems.tooLarge(`${what} is ${bytes.byteLength} bytes; ${limit}`);
  return bytes;
}

/**
 * An uploaded timetable: `text/calendar` only (RFC 5545 §8.1), UTF-8. Other types are refused rather
 * than sniffed: the body is validated anyway, and a strict type keeps an HTML form or a JSON client from
 * uploading by accident. (`curl --data-binary @file.ics -H 'Content-Type: text/calendar'`.)
 */
export async function readCalendarUpload(request: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  const type = mediaTypeOf(request);
  if (type !== 'text/calendar') {
    throw problems.unsupportedMediaType(
      `an upload must be sent as Content-Type: text/calendar (got ${type ? `'${type.slice(0, 80)}'` : 'none'}); to register a URL send application/json`,
    );
  }
  const charset = charsetOf(request);
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw problems.unsupportedMediaType(
      `charset '${charset.slice(0, 40)}' is not supported: iCalendar is UTF-8 (RFC 5545 §3.1.4)`,
    );
  }
  return readBodyBytes(request, maxBytes, 'the upload', 'MAX_FEED_BYTES');
}

/** Parses an `application/json` body and validates it with `schema`; every problem is listed. */
export async function readJson<T>(request: HttpRequest, schema: z.ZodType<T>): Promise<T> {
  const type = mediaTypeOf(request);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw problems.unsupportedMediaType(
      `this route takes Content-Type: application/json (got ${type ? `'${type.slice(0, 80)}'` : 'none'})`,
    );
  }
  const bytes = await readBodyBytes(request, MAX_JSON_BYTES, 'the JSON body');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'not UTF-8';
    throw problems.badRequest(`the body is not valid JSON: ${reason.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.') || '(body)',
      message: issue.message,
    }));
    throw problems.badRequest(errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  }
  return parsed.data;
}

/** `true`/`false` (absent → fallback); anything else is a 400 naming the parameter. */
export function booleanQuery(request: HttpRequest, name: string, fallback: boolean): boolean {
  const value = request.query.get(name);
  if (value === null || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw problems.badRequest(`query parameter ${name} must be true or false (got '${value.slice(0, 40)}')`);
}

/** A whole number query parameter, or undefined when absent. */
export function integerQuery(request: HttpRequest, name: string): number | undefined {
  const value = request.query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d{1,6}$/.test(value))
    throw problems.badRequest(`query parameter ${name} must be a whole number (got '${value.slice(0, 40)}')`);
  return Number(value);
}

export function routeParam(request: HttpRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined || value === '') throw problems.badRequest(`route parameter ${name} is missing`);
  return value;
}
