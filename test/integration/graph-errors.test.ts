// classifyGraphError on the SDK's error shapes (no emulator needed) and redaction of secrets.
import { GraphError as SdkGraphError } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { GraphError, classifyGraphError, isGraphError, redactSecrets } from '../../src/graph/errors.js';

function sdkError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): SdkGraphError {
  const e = new SdkGraphError(status, message);
  e.code = code;
  e.requestId = 'rid-1';
  e.body = JSON.stringify({
    code,
    message,
    innerError: { date: '2026-11-18T10:00:00', 'request-id': 'rid-1' },
  });
  (e as unknown as { headers: Headers }).headers = new Headers(headers);
  return e;
}

describe('classifyGraphError', () => {
  it.each([
    [403, 'Forbidden', 'No application access policy found for this app.', 'policyMissing'],
    [403, 'General', 'No application access policy found for this app', 'policyMissing'],
    [
      403,
      'Unauthorized',
      'App 1234 is not authorized to Create meeting on behalf of user 5678',
      'policyMissing',
    ],
    [
      403,
      'Forbidden',
      "Missing role permissions on the request. API requires one of 'OnlineMeetings.ReadWrite.All'.",
      'forbidden',
    ],
    [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'forbidden'],
    [429, 'TooManyRequests', 'Too many requests.', 'throttled'],
    [503, 'ServiceNotAvailable', 'Service unavailable', 'transient'],
    [500, 'UnknownError', '', 'transient'],
    [404, 'NotFound', 'not found', 'notFound'],
    [400, 'BadRequest', 'end before start', 'invalidRequest'],
    [401, 'InvalidAuthenticationToken', 'Access token is empty.', 'unauthorized'],
  ])('%i %s %s → %s', (status, code, message, kind) => {
    const classified = classifyGraphError(
      sdkError(status, code, message, status === 429 ? { 'retry-after': '12' } : {}),
    );
    expect(classified.kind).toBe(kind);
    expect(classified).toMatchObject({
      status,
      graphCode: code,
      requestId: 'rid-1',
      date: '2026-11-18T10:00:00',
    });
    if (status === 429) expect(classified.retryAfterSeconds).toBe(12);
  });

  it('the policy rule needs 403: the same text with another status is not policyMissing', () => {
    expect(
      classifyGraphError(sdkError(400, 'Forbidden', 'No application access policy found for this app.')).kind,
    ).toBe('invalidRequest');
  });

  it('no response (status -1), fetch failures and MSAL errors', () => {
    expect(classifyGraphError(new SdkGraphError(-1, 'fetch failed')).kind).toBe('transient');
    expect(
      classifyGraphError(
        Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
        }),
      ).kind,
    ).toBe('transient');
    const msal = Object.assign(new Error('invalid_client: AADSTS7000215'), {
      errorCode: 'invalid_client',
      errorMessage: 'AADSTS7000215: Invalid client secret provided.',
    });
    expect(classifyGraphError(msal).kind).toBe('unauthorized');
    expect(classifyGraphError(Object.assign(new Error('x'), { errorCode: 'network_error' })).kind).toBe(
      'transient',
    );
  });

  it('is idempotent and guarded', () => {
    const e = new GraphError({ kind: 'notFound', message: 'gone' });
    expect(classifyGraphError(e)).toBe(e);
    expect(isGraphError(e)).toBe(true);
    expect(isGraphError(new Error('x'))).toBe(false);
  });
});

describe('redactSecrets', () => {
  it('removes tokens, join URLs, passcodes and known secrets', () => {
    const text = [
      'Authorization: Bearer abc.def.ghi',
      'token eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJl',
      'url https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d',
      '"passcode":"Ab12Cd"',
      'client_secret=s3cr3t-value',
      'my-very-secret',
    ].join(' ');
    const out = redactSecrets(text, ['my-very-secret']);
    for (const leaked of [
      'abc.def.ghi',
      'eyJhbGci',
      'meetup-join',
      'Ab12Cd',
      's3cr3t-value',
      'my-very-secret',
    ])
      expect(out).not.toContain(leaked);
    expect(new GraphError({ kind: 'transient', message: text }).message).not.toContain('meetup-join');
  });
});
