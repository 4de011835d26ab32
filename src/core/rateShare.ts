// One tenant's Graph ceiling shared by the Function instances that sync at the same time. Each
// instance's pacer learns the ceiling from its own 429s, so it learns only its own share of the app's
// ceiling. When an instance stops syncing, the others would creep back to the share it freed at 0.1
// request/s per second: four instances measured 84-86 % of the ceiling, most of the loss after two of
// them had finished. Instead each instance publishes the ceiling it learned; the ceiling of one that
// left (it said so, or it stopped reporting) is split among those still syncing, in proportion to their
// own.
//
// Whether a peer is silent is judged on the reader's clock (how long its report has not changed), never
// by comparing the peer's time stamps with the reader's: machines' clocks differ. A share is taken only
// from a peer this instance saw syncing, once per departure: not again until it is seen syncing again,
// and never from a row left behind long ago.

export interface RateReport {
  /** The instance's id (one per process). */
  instance: string;
  /** Requests/s its pacer takes as its share of the ceiling; null while unpaced (no 429 yet). */
  ceiling: number | null;
  /** The writer's wall-clock ms: a new value means a new report. */
  at: number;
  /** It stopped syncing and gave its share up. */
  left: boolean;
  /** Its last sync ended and it leaves unless another starts: it takes no share meanwhile. */
  idle: boolean;
}

/** A peer's latest report as this instance sees it. */
export interface PeerView {
  instance: string;
  ceiling: number | null;
  left: boolean;
  idle: boolean;
  /** How long, on this instance's clock, the peer's report has not changed. */
  silentForMs: number;
}

export interface ShareInput {
  /** This instance's pacer ceiling; null while unpaced. */
  ownCeiling: number | null;
  /** The other instances' latest reports. */
  peers: readonly PeerView[];
  /** Peers this instance saw syncing whose departure it has not shared out yet. */
  watching: ReadonlySet<string>;
  /** A peer silent this long, not marked `left`, died: its share is freed. */
  staleAfterMs: number;
}

export interface ShareDecision {
  /** The ceiling this instance's pacer should take now; equal to ownCeiling when nothing was freed. */
  ceiling: number | null;
  /** Its part of the instances' ceilings: the pacer grows by this part of one instance's step. */
  growthShare: number;
  /** The peers whose freed share was taken (or passed over, while unpaced) now: no longer watched. */
  taken: PeerView[];
  /** The peers seen syncing now: watched from now on. */
  active: PeerView[];
}

export function shareFreedCeilings(input: ShareInput): ShareDecision {
  const { ownCeiling } = input;
  const gone = (p: PeerView) => p.left || p.silentForMs > input.staleAfterMs;
  const active = input.peers.filter((p) => !gone(p));
  const freed = input.peers.filter((p) => gone(p) && input.watching.has(p.instance));
  // Unpaced, there is no share to scale: what it frees is relearned from the next 429 anyway.
  if (ownCeiling === null) return { ceiling: null, growthShare: 1, taken: freed, active };
  // An idle peer takes nothing, so the freed share is split among those still syncing only.
  const takers = active.filter((p) => !p.idle);
  const activeTotal = ownCeiling + takers.reduce((sum, p) => sum + (p.ceiling ?? 0), 0);
  const part = ownCeiling / activeTotal;
  const gained = freed.reduce((sum, p) => sum + (p.ceiling ?? 0), 0) * part;
  return { ceiling: ownCeiling + gained, growthShare: part, taken: freed, active };
}
