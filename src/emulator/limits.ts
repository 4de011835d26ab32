// Throttling (token buckets → 429 + Retry-After) and fault injection for the emulator's /v1.0 routes.
// Throttling uses wall-clock time (performance.now), not the emulator's injectable clock: the client
// really sleeps for Retry-After, so the bucket must refill in real time.
// https://learn.microsoft.com/graph/throttling

export interface ThrottleSettings {
  /** Sustained requests per second per app (client id); unset = unlimited. */
  perAppPerSecond?: number;
  /** Sustained requests per second per organizer (user id in the path); unset = unlimited. */
  perOrganizerPerSecond?: number;
  /** Bucket capacity (default: the per-second rate, at least 1). */
  burst?: number;
  /** Retry-After sent with each 429 (default 1 s). */
  retryAfterSeconds?: number;
}

export interface FaultSettings {
  /** Added before every /v1.0 response. */
  latencyMs?: number;
  latencyJitterMs?: number;
  /** Share (0..1) of requests answered with 500/502/503/504 before any work is done. */
  errorRate?: number;
  /** Share of requests whose connection is destroyed before any work is done. */
  resetRate?: number;
  /** Share of writes (POST/PATCH/DELETE) that commit but whose response is lost. */
  failAfterCommitRate?: number;
  /** The next N writes commit but lose their response (counted down). */
  failAfterCommitNext?: number;
  /** How a committed write's response is lost: connection reset (default) or a 504. */
  failAfterCommitMode?: 'reset' | '504';
  /** Retry-After on injected 503/504 (unset: none, like most Graph gateway errors). */
  retryAfterSeconds?: number;
  /** Also apply latency-free resets/5xx to the token endpoint (default: /v1.0 routes only). */
  applyToTokenEndpoint?: boolean;
  /** Seed for the fault dice; same seed + same request order = same faults. */
  seed?: number;
}

/** mulberry32: a tiny deterministic PRNG. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Requests before this instant get another 429 (a client that did not wait Retry-After). */
  blockedUntil: number;
}

// Timers may fire a few ms "early" compared with performance.now(); do not punish that.
const RETRY_AFTER_TOLERANCE_MS = 50;

export class Throttle {
  private settings: ThrottleSettings = {};
  private readonly buckets = new Map<string, Bucket>();

  configure(settings: ThrottleSettings | null): void {
    this.settings = settings ?? {};
    this.buckets.clear();
  }

  current(): ThrottleSettings {
    return { ...this.settings };
  }

  /** Returns Retry-After seconds when the request must be refused with 429, else null (and takes a token). */
  check(appId: string, organizerId: string | null, nowMs = performance.now()): number | null {
    const retryAfter = this.settings.retryAfterSeconds ?? 1;
    const keys: [string, number][] = [];
    if (this.settings.perAppPerSecond) keys.push([`app:${appId}`, this.settings.perAppPerSecond]);
    if (organizerId && this.settings.perOrganizerPerSecond)
      keys.push([`org:${organizerId.toLowerCase()}`, this.settings.perOrganizerPerSecond]);
    let refuse: number | null = null;
    const buckets: Bucket[] = [];
    for (const [key, rate] of keys) {
      const capacity = Math.max(1, this.settings.burst ?? rate);
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = { tokens: capacity, updatedAt: nowMs, blockedUntil: 0 };
        this.buckets.set(key, bucket);
      }
      bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = nowMs;
      if (nowMs + RETRY_AFTER_TOLERANCE_MS < bucket.blockedUntil) {
        // Came back before Retry-After elapsed: refused again with the time still to wait.
        refuse = Math.max(refuse ?? 0, Math.ceil((bucket.blockedUntil - nowMs) / 1000));
      } else if (bucket.tokens < 1) {
        bucket.blockedUntil = nowMs + retryAfter * 1000;
        // Make sure a client that waits Retry-After finds a token.
        bucket.tokens = Math.max(bucket.tokens, 1 - retryAfter * rate);
        refuse = Math.max(refuse ?? 0, retryAfter);
      }
      buckets.push(bucket);
    }
    if (refuse !== null) return refuse;
    for (const bucket of buckets) bucket.tokens -= 1;
    return null;
  }
}

export type FaultDecision =
  { kind: 'none' } | { kind: 'reset' } | { kind: 'error'; status: 500 | 502 | 503 | 504 };

export class Faults {
  private settings: FaultSettings = {};
  private rng = createRng(1);
  private failNext = 0;

  configure(settings: FaultSettings | null): void {
    this.settings = settings ?? {};
    this.rng = createRng(this.settings.seed ?? 1);
    this.failNext = this.settings.failAfterCommitNext ?? 0;
  }

  current(): FaultSettings {
    return { ...this.settings, failAfterCommitNext: this.failNext };
  }

  latencyMs(): number {
    const base = this.settings.latencyMs ?? 0;
    const jitter = this.settings.latencyJitterMs ?? 0;
    return base + (jitter ? this.rng() * jitter : 0);
  }

  /** Decided before the request is handled. */
  before(): FaultDecision {
    const { resetRate = 0, errorRate = 0 } = this.settings;
    if (resetRate > 0 && this.rng() < resetRate) return { kind: 'reset' };
    if (errorRate > 0 && this.rng() < errorRate) {
      const statuses = [500, 502, 503, 504] as const;
      return { kind: 'error', status: statuses[Math.floor(this.rng() * statuses.length)] ?? 503 };
    }
    return { kind: 'none' };
  }

  /** Decided after a write committed: lose the response? */
  afterCommit(): 'reset' | '504' | null {
    const mode = this.settings.failAfterCommitMode ?? 'reset';
    if (this.failNext > 0) {
      this.failNext--;
      return mode;
    }
    const rate = this.settings.failAfterCommitRate ?? 0;
    return rate > 0 && this.rng() < rate ? mode : null;
  }

  retryAfterSeconds(): number | undefined {
    return this.settings.retryAfterSeconds;
  }
}
