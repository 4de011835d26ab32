// Published-calendar URLs handed to admins (who pass them on to students). The token is the only
// secret in them: these URLs go into admin responses, never into logs.
import { randomBytes } from 'node:crypto';

import { AppError } from '../errors.js';

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

/** Calendar links were asked for but PUBLIC_BASE_URL is not set (the HTTP layer answers 503). */
export class PublicBaseUrlMissingError extends AppError {
  override name = 'PublicBaseUrlMissingError';
  constructor() {
    super(
      'publicBaseUrlMissing',
      "PUBLIC_BASE_URL is not set: published-calendar links are built from it alone, never from the request's Host header (which the caller chooses). Set it to the app's public https URL (e.g. https://<app>.azurewebsites.net or the custom domain)",
    );
  }
}

/**
 * The base of every published-calendar link: PUBLIC_BASE_URL, and nothing the request says (a Host
 * header `evil.example` must not turn into links students subscribe to). The local server sets it to
 * its own listen address when it is not configured (src/web/serve.ts).
 */
export function publicBaseUrl(configured: string | null): string {
  if (!configured) throw new PublicBaseUrlMissingError();
  return configured.replace(/\/+$/, '');
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
