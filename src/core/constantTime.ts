// Comparing a presented secret (function key, calendar token) with the expected one.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Equal-length digests first, so neither the content nor the length of the secret leaks through timing. */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
