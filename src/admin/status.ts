// What ops need on one page: health (anonymous, no details) and status (last run per feed, counts,
// blocked sessions grouped by reason, attendance by collection state, poison messages).
import { X509Certificate } from 'node:crypto';

import type { AppServices } from '../compose.js';
import type { AppConfig } from '../config.js';
import { SESSION_ATTENDANCE_STATES, type SessionAttendanceState } from '../core/attendance.js';
import type { MeetingState } from '../core/state.js';
import type { RunSummary } from '../storage/index.js';

export interface HealthReport {
  healthy: boolean;
  storage: 'ok' | 'failed';
  graph: 'ok' | 'failed' | 'not configured';
}

/** Storage reachable and a Graph token obtainable; the answer carries no detail an attacker could use. */
export async function checkHealth(services: Pick<AppServices, 'store' | 'graph'>): Promise<HealthReport> {
  const storage = await services.store.feeds.list().then(
    () => 'ok' as const,
    () => 'failed' as const,
  );
  const graph = !services.graph
    ? ('not configured' as const)
    : await services.graph.getToken().then(
        () => 'ok' as const,
        () => 'failed' as const,
      );
  // Graph not configured is a valid state (admin routes work); only a failing token makes the app unhealthy.
  return { healthy: storage === 'ok' && graph !== 'failed', storage, graph };
}

export interface CredentialStatus {
  kind: 'secret' | 'certificate' | 'assertionFile' | 'managedIdentity' | 'none';
  /** Known only for certificates whose PEM includes the certificate itself. */
  expiresAt: string | null;
  daysLeft: number | null;
}

/** When the Graph credential expires, where that can be known without calling Graph. */
export function credentialStatus(config: Pick<AppConfig, 'graph'>, now: Date): CredentialStatus {
  const credential = config.graph?.credential;
  if (!credential) return { kind: 'none', expiresAt: null, daysLeft: null };
  if (credential.kind !== 'certificate') return { kind: credential.kind, expiresAt: null, daysLeft: null };
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(
    credential.privateKeyPem,
  )?.[0];
  if (!certificate) return { kind: 'certificate', expiresAt: null, daysLeft: null };
  try {
    const expires = new Date(new X509Certificate(certificate).validTo);
    return {
      kind: 'certificate',
      expiresAt: expires.toISOString(),
      daysLeft: Math.floor((expires.getTime() - now.getTime()) / 86_400_000),
    };
  } catch {
    return { kind: 'certificate', expiresAt: null, daysLeft: null };
  }
}

export interface FeedStatus {
  id: string;
  source: 'url' | 'upload';
  enabled: boolean;
  lastRun: RunSummary | null;
  meetings: Record<MeetingState, number>;
  guard: { held: boolean; reason: string | null; wouldCancel: number; futureMeetings: number } | null;
  /** The creation guard's hold, with the events holding the most sessions. */
  creationGuard: {
    held: boolean;
    reasons: string[];
    wouldCreate: number;
    heldCreates: number;
    events: Array<{ uid: string; summary: string; sessions: number }>;
  } | null;
  nextRetryAt: string | null;
  /** With attendance on: its sessions by collection state (src/attendance); null when it is off. */
  attendance: Record<SessionAttendanceState, number> | null;
}

export interface StatusReport {
  generatedAt: string;
  feeds: FeedStatus[];
  /** Sessions without a meeting, grouped by reason code (policyMissing, organizerUnresolved, …). */
  blocked: Array<{ code: string; sessions: number; example: string | null }>;
  poison: { count: number; feedIds: string[] };
  credential: CredentialStatus;
}

const EMPTY_COUNTS: Record<MeetingState, number> = {
  creating: 0,
  active: 0,
  blocked: 0,
  failed: 0,
  cancelling: 0,
  cancelled: 0,
};

export async function buildStatus(
  services: Pick<AppServices, 'store' | 'now' | 'config'>,
): Promise<StatusReport> {
  const feeds = await services.store.feeds.list();
  const blocked = new Map<string, { sessions: number; example: string | null }>();
  const feedStatuses: FeedStatus[] = [];
  for (const feed of feeds) {
    const counts = { ...EMPTY_COUNTS };
    for (const record of await services.store.meetings.listByFeed(feed.id)) {
      counts[record.state]++;
      if (record.lastError && record.state !== 'active' && record.state !== 'cancelled') {
        const code = record.lastError?.code ?? record.state;
        const entry = blocked.get(code) ?? { sessions: 0, example: record.lastError?.message ?? null };
        entry.sessions++;
        blocked.set(code, entry);
      }
    }
    feedStatuses.push({
      id: feed.id,
      source: feed.source,
      enabled: feed.enabled,
      lastRun: feed.lastRun,
      meetings: counts,
      guard: feed.guard
        ? {
            held: feed.guard.held,
            reason: feed.guard.reason,
            wouldCancel: feed.guard.wouldCancel,
            futureMeetings: feed.guard.futureMeetings,
          }
        : null,
      creationGuard: feed.creationGuard?.held
        ? {
            held: true,
            reasons: feed.creationGuard.reasons,
            wouldCreate: feed.creationGuard.wouldCreate,
            heldCreates: feed.creationGuard.heldCreates,
            events: feed.creationGuard.events.map(({ uid, summary, sessions }) => ({
              uid,
              summary,
              sessions,
            })),
          }
        : null,
      nextRetryAt: feed.nextDueRetryAt,
      attendance: feed.attendance ? await attendanceCounts(services.store, feed.id) : null,
    });
  }
  return {
    generatedAt: services.now().toISOString(),
    feeds: feedStatuses,
    blocked: [...blocked].map(([code, v]) => ({ code, ...v })).sort((a, b) => b.sessions - a.sessions),
    poison: await services.store.syncQueue.peekPoison(20),
    credential: credentialStatus(services.config, services.now()),
  };
}

async function attendanceCounts(
  store: AppServices['store'],
  feedId: string,
): Promise<Record<SessionAttendanceState, number>> {
  const counts = Object.fromEntries(SESSION_ATTENDANCE_STATES.map((state) => [state, 0])) as Record<
    SessionAttendanceState,
    number
  >;
  for (const session of await store.attendance.listSessions(feedId)) counts[session.state]++;
  return counts;
}
