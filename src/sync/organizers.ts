// E-mail → Entra object id, cached in the organizers table so a steady-state run asks Graph nothing.
import type { OrganizerRecord } from '../core/state.js';
import { normalizeEmail } from '../core/identity.js';
import type { UsersGateway } from '../graph/types.js';
import type { StateStore } from '../storage/index.js';

export type OrganizerResolution =
  | { status: 'resolved'; email: string; objectId: string; displayName: string }
  | { status: 'unresolved'; email: string; reason: string; retryable: boolean }
  /** The account exists but Teams will refuse it as an organizer (guest, disabled): no call is sent. */
  | {
      status: 'refused';
      email: string;
      objectId: string;
      displayName: string;
      reason: string;
      recheckAt: string;
    };

export interface OrganizerResolver {
  resolve(email: string): Promise<OrganizerResolution>;
  /** Directory look-ups sent to Graph during this resolver's life. */
  lookups(): number;
}

/** One resolver per run: each e-mail is looked up at most once per run, and only when the cache is stale. */
export function createOrganizerResolver(deps: {
  store: Pick<StateStore, 'organizers'>;
  users: UsersGateway;
  now: () => Date;
  cacheHours: number;
}): OrganizerResolver {
  const inFlight = new Map<string, Promise<OrganizerResolution>>();
  let lookups = 0;

  async function lookUp(email: string): Promise<OrganizerResolution> {
    const now = deps.now();
    const cached = await deps.store.organizers.get(email);
    if (cached && Date.parse(cached.expiresAt) > now.getTime()) return fromRecord(cached);
    lookups++;
    let user;
    try {
      user = await deps.users.resolveByEmail(email);
    } catch (error) {
      // A failed look-up is not "no such user": keep any older answer, else retry next run.
      if (cached) return fromRecord(cached);
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'unresolved', email, reason: `directory look-up failed: ${message}`, retryable: true };
    }
    const record: OrganizerRecord = {
      email,
      objectId: user?.objectId ?? null,
      displayName: user?.displayName ?? null,
      notFound: user === null,
      userType: user?.userType ?? null,
      accountEnabled: user?.accountEnabled ?? null,
      resolvedAt: now.toISOString(),
      // "Not found", a guest or a disabled account is re-checked sooner: someone may be fixing it.
      expiresAt: new Date(
        now.getTime() +
          (user && !unusableReason(user) ? deps.cacheHours : Math.min(deps.cacheHours, 1)) * 3_600_000,
      ).toISOString(),
      ...(cached?.etag ? { etag: cached.etag } : {}),
    };
    try {
      await deps.store.organizers.put(record);
    } catch {
      // Another run cached the same organizer at the same time; its answer is as good as ours.
    }
    return fromRecord(record);
  }

  return {
    resolve(raw: string) {
      const email = normalizeEmail(raw);
      let pending = inFlight.get(email);
      if (!pending) {
        pending = lookUp(email);
        inFlight.set(email, pending);
      }
      return pending;
    },
    lookups: () => lookups,
  };
}

/**
 * Why Teams would refuse this account as a meeting organizer for the app, from the directory alone;
 * null when nothing is known against it. (An unlicensed account shows only when Graph refuses it.)
 */
export function unusableReason(user: Pick<OrganizerRecord, 'userType' | 'accountEnabled'>): string | null {
  if (user.accountEnabled === false)
    return 'the account is disabled in Entra ID: enable it, or give these sessions another ORGANIZER';
  if (user.userType?.toLowerCase() === 'guest')
    return "the account is a guest (B2B) account, which cannot organize meetings for the app: use the lecturer's member account in the timetable";
  return null;
}

function fromRecord(record: OrganizerRecord): OrganizerResolution {
  const unusable = unusableReason(record);
  if (record.objectId && !record.notFound && unusable) {
    return {
      status: 'refused',
      email: record.email,
      objectId: record.objectId,
      displayName: record.displayName ?? record.email,
      reason: `${record.email}: ${unusable}`,
      recheckAt: record.expiresAt,
    };
  }
  if (record.objectId && !record.notFound) {
    return {
      status: 'resolved',
      email: record.email,
      objectId: record.objectId,
      displayName: record.displayName ?? record.email,
    };
  }
  return {
    status: 'unresolved',
    email: record.email,
    reason: `no user with e-mail or UPN ${record.email} in the directory: fix the ORGANIZER in the timetable or create the account`,
    retryable: false,
  };
}
