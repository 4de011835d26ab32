// One tenant's Graph ceiling shared by the Function instances that sync at the same time. Each
// instance's pacer learns the ceiling from its own 429s, so it learns only its own share of the app's
// ceiling. When an instance stops syncing, the others would creep back to the share it freed at 0.1
// request/s per second: four instances measured 86 % of the ceiling, most of the loss after two of them
// had finished. Instead each instance publishes the ceiling it learned; the ceiling of one that left (it
// said so, or it stopped reporting) is split among those still syncing, in proportion to their own.

export interface RateReport {
  /** The instance's id (one per process). */
  instance: string;
  /** Requests/s its pacer takes as its share of the ceiling; null while unpaced (no 429 yet). */
  ceiling: number | null;
  /** Wall-clock ms of the report. */
  at: number;
  /** It stopped syncing and gave its share up. */
  left: boolean;
}

export interface ShareInput {
  self: string;
  /** This instance's pacer ceiling; null while unpaced. */
  ownCeiling: number | null;
  /** Every instance's latest report (this one's included or not). */
  reports: readonly RateReport[];
  /** Reports (by reportKey) already shared out, by this instance. */
  consumed: ReadonlySet<string>;
  now: number;
  /** A report older than this, not marked `left`, is an instance that died: its share is freed. */
  staleAfterMs: number;
  /** A freed share older than this is not taken any more (the ceilings have been relearned since). */
  forgetAfterMs: number;
}

export interface ShareDecision {
  /** The ceiling this instance's pacer should take now; equal to ownCeiling when nothing was freed. */
  ceiling: number | null;
  /** Its part of the instances' ceilings: the pacer grows by this part of one instance's step. */
  growthShare: number;
  /** The freed reports taken now (their keys go into `consumed`). */
  taken: RateReport[];
}

export const reportKey = (report: RateReport): string => `${report.instance}@${report.at}`;

export function shareFreedCeilings(input: ShareInput): ShareDecision {
  const { self, ownCeiling, now } = input;
  const others = input.reports.filter((r) => r.instance !== self && r.ceiling !== null);
  const gone = (r: RateReport) => r.left || now - r.at > input.staleAfterMs;
  const active = others.filter((r) => !gone(r));
  const freed = others.filter(
    (r) => gone(r) && now - r.at <= input.forgetAfterMs && !input.consumed.has(reportKey(r)),
  );
  // Unpaced, there is no share to scale: what it frees is relearned from the next 429 anyway.
  if (ownCeiling === null) return { ceiling: null, growthShare: 1, taken: freed };
  const activeTotal = ownCeiling + active.reduce((sum, r) => sum + (r.ceiling ?? 0), 0);
  const part = ownCeiling / activeTotal;
  const gained = freed.reduce((sum, r) => sum + (r.ceiling ?? 0), 0) * part;
  return { ceiling: ownCeiling + gained, growthShare: part, taken: freed };
}
