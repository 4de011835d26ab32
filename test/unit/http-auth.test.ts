import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { ProblemError } from '../../src/admin/problems.js';
import { constantTimeEqual } from '../../src/core/constantTime.js';
import { authorizeAdmin } from '../../src/http/auth.js';
import { booleanQuery, integerQuery, mediaTypeOf } from '../../src/http/request.js';

const principal = (claims: unknown) => Buffer.from(JSON.stringify({ claims })).toString('base64');
const req = (headers: Record<string, string> = {}, query: Record<string, string> = {}) =>
  new HttpRequest({ method: 'GET', url: 'http://localhost/api/feeds', headers, query });

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof ProblemError) return error.status;
    throw error;
  }
}

describe('authorizeAdmin', () => {
  const options = { adminRole: 'TimetableSync.Admin', requireKey: 'k-123' };
  it.each([
    ['no key', {}, {}, 401],
    ['wrong key', { 'x-functions-key': 'k-12' }, {}, 401],
    ['key header', { 'x-functions-key': 'k-123' }, {}, 'ok'],
    ['key query', {}, { code: 'k-123' }, 'ok'],
    [
      'principal without role',
      { 'x-functions-key': 'k-123', 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Reader' }]) },
      {},
      403,
    ],
    [
      'principal with role',
      {
        'x-functions-key': 'k-123',
        'x-ms-client-principal': principal([{ typ: 'roles', val: 'TimetableSync.Admin' }]),
      },
      {},
      'ok',
    ],
    [
      'role claim (long type)',
      {
        'x-functions-key': 'k-123',
        'x-ms-client-principal': principal([
          { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'TimetableSync.Admin' },
        ]),
      },
      {},
      'ok',
    ],
    [
      'role under another claim type',
      {
        'x-functions-key': 'k-123',
        'x-ms-client-principal': principal([{ typ: 'groups', val: 'TimetableSync.Admin' }]),
      },
      {},
      403,
    ],
    [
      'claims not an array',
      { 'x-functions-key': 'k-123', 'x-ms-client-principal': principal('nope') },
      {},
      401,
    ],
    ['garbage principal', { 'x-functions-key': 'k-123', 'x-ms-client-principal': '%%%' }, {}, 401],
    [
      'role but no key',
      { 'x-ms-client-principal': principal([{ typ: 'roles', val: 'TimetableSync.Admin' }]) },
      {},
      401,
    ],
  ])('%s → %s', (_name, headers, query, expected) => {
    expect(statusOf(() => authorizeAdmin(req(headers, query), options))).toBe(expected);
  });

  it('reports the caller object id from an Entra principal', () => {
    const caller = authorizeAdmin(
      req({
        'x-ms-client-principal': principal([
          { typ: 'roles', val: 'R' },
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-1' },
        ]),
      }),
      { adminRole: 'R' },
    );
    expect(caller).toEqual({ via: 'entra', objectId: 'oid-1' });
  });

  it('without requireKey leaves the key to the host', () => {
    expect(authorizeAdmin(req(), { adminRole: 'R' })).toEqual({ via: 'host', objectId: null });
  });
});

describe('request helpers', () => {
  it('constantTimeEqual compares content and length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('media type, boolean and integer query parameters', () => {
    expect(mediaTypeOf(req({ 'content-type': 'Text/Calendar; charset=UTF-8' }))).toBe('text/calendar');
    expect(booleanQuery(req({}, { x: 'true' }), 'x', false)).toBe(true);
    expect(booleanQuery(req(), 'x', false)).toBe(false);
    expect(statusOf(() => booleanQuery(req({}, { x: '1' }), 'x', false))).toBe(400);
    expect(integerQuery(req({}, { n: '30' }), 'n')).toBe(30);
    expect(statusOf(() => integerQuery(req({}, { n: '3.5' }), 'n'))).toBe(400);
  });
});
