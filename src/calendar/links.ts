// Published-calendar URLs handed to admins (who pass them on to students). The token is the only
// secret in them: these URLs go into admin responses, never into logs.
import { randomBytes } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';

export interface CalendarLinks {
  ics: string;
  json: string;
  /** The same .ics as a webcal:// link, which calendar apps open as a subscription. */
  webcal: string;
}

/** A new unguessable calendar token (192 bits, URL-safe). */
export function newCalendarToken(): string {
  return randomBytes(24).toString('base64url');
}

/** PUBLIC_BASE_URL when configured (behind a proxy or custom domain), else the origin the request came to. */
export function publicBaseUrl(configured: string | null, request: Pick<HttpRequest, 'url'>): string {
  if (configured) return configured.replace(/\/+$/, '');
  return new URL(request.url).origin;
}

function links(base: string, path: string, token: string): CalendarLinks {
  const query = `?token=${encodeURIComponent(token)}`;
  const ics = `${base}/api/calendars/${path}.ics${query}`;
  return {
    ics,
    json: `${base}/api/calendars/${path}.json${query}`,
    webcal: ics.replace(/^https?:/, 'webcal:'),
  };
}

export function feedCalendarLinks(base: string, feedId: string, token: string): CalendarLinks {
  return links(base, encodeURIComponent(feedId), token);
}

export function organizerCalendarLinks(base: string, email: string, token: string): CalendarLinks {
  return links(base, `organizers/${encodeURIComponent(email)}`, token);
}
