// Request and response plumbing shared by the route modules.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './httpErrors.js';

/** What a /v1.0 route answers; `write` marks a committed change (lost-response faults hit writes only). */
export interface GraphResult {
  status: number;
  body?: unknown;
  write: boolean;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...headers,
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body; an empty body is `{}`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest('The request payload must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** A string property of a parsed JSON body ('' for anything else). */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The value of an OData string literal ('' escapes a quote). */
export function odataString(literal: string): string {
  return literal.replace(/''/g, "'");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
