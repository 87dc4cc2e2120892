/**
 * How often the target has agreed with the drafter lately, as a calibrated estimate of P(accept | q(x)):
 * accepted/drafted counts per bucket of q(x), fading with each block, smoothed towards the bucket's own q (a Beta
 * prior), so the estimate starts at "q is calibrated" and moves to what the target has been doing.
 * Also keeps acceptance by draft position (given the earlier tokens were accepted), with older blocks
 * fading (so what no longer holds is forgotten), each position's prior being the rate of the one before it
 * (so a position not drafted lately is expected to do as its neighbour does, not as it did long ago).
 */

/** Buckets of q(x): [0, 0.1), [0.1, 0.2), ... [0.9, 1]. */
export const AGREEMENT_BUCKETS = 10;
/** Weight of the prior, in pseudo-observations; 4 by default. */
export const DEFAULT_PRIOR_WEIGHT = 4;
/** Share of the position counts forgotten with each recorded block (about the last 50 blocks weigh). */
export const POSITION_MEMORY = 0.02;
/**
 * Share of the bucket counts forgotten with each recorded block (about the last 200 weigh): text changes (a loop
 * ends, a template gives way to new code), and counts kept from earlier generations must not outweigh what the
 * target does now (a suffix drafter's high-confidence bucket at 327 of 327 from a loop kept drafting 28-token
 * blocks into a new file's docstrings that the target rejected at the first token).
 */
export const BUCKET_MEMORY = 0.005;
/** Draft positions a saved tracker keeps at most (adaptive drafts at most 8; trees and cascades a few more). */
const MAX_RECORDED_POSITIONS = 64;
/** What an AgreementTracker has counted, as plain data. */
export interface AgreementRecord {
  drafted: number[];
  accepted: number[];
  reachedAt: number[];
  acceptedAt: number[];
}
/** Weight of a position's prior (the previous position's rate), in pseudo-observations. */
const POSITION_PRIOR_WEIGHT = 2;

export class AgreementTracker {
  private readonly drafted = new Float64Array(AGREEMENT_BUCKETS);
  private readonly accepted = new Float64Array(AGREEMENT_BUCKETS);
  private readonly reachedAt: number[] = [];
  private readonly acceptedAt: number[] = [];

  constructor(private readonly priorWeight = DEFAULT_PRIOR_WEIGHT) {}

  static bucket(q: number): number {
    return Math.min(AGREEMENT_BUCKETS - 1, Math.max(0, Math.floor(q * AGREEMENT_BUCKETS)));
  }

  /** Estimated probability that the target accepts a drafted token with this q(x). */
  estimate(q: number): number {
    const b = AgreementTracker.bucket(q);
    const prior = (b + 0.5) / AGREEMENT_BUCKETS;
    return (this.accepted[b] + this.priorWeight * prior) / (this.drafted[b] + this.priorWeight);
  }

  /** Measured acceptance at a draft position, given the tokens before it were accepted (the prior: the previous position's rate, 0.5 for the first). */
  positionRate(position: number): number {
    return this.positionRates(position + 1)[position];
  }

  /** positionRate for positions 0..n-1, in one pass (each position's prior is the one before it). */
  positionRates(n: number): number[] {
    const rates: number[] = [];
    let rate = 0.5;
    for (let i = 0; i < n; i++) {
      rate = ((this.acceptedAt[i] ?? 0) + POSITION_PRIOR_WEIGHT * rate) / ((this.reachedAt[i] ?? 0) + POSITION_PRIOR_WEIGHT);
      rates.push(rate);
    }
    return rates;
  }

  toRecord(): AgreementRecord {
    return { drafted: [...this.drafted], accepted: [...this.accepted], reachedAt: [...this.reachedAt], acceptedAt: [...this.acceptedAt] };
  }

  /** A tracker holding what a record says; entries that are not counts are left at zero. */
  static fromRecord(r: AgreementRecord): AgreementTracker {
    const t = new AgreementTracker();
    const counts = (xs: unknown, n: number) =>
      Array.isArray(xs) ? xs.slice(0, n).map((x) => (typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : 0)) : [];
    t.drafted.set(counts(r.drafted, AGREEMENT_BUCKETS));
    t.accepted.set(counts(r.accepted, AGREEMENT_BUCKETS));
    t.reachedAt.push(...counts(r.reachedAt, MAX_RECORDED_POSITIONS));
    t.acceptedAt.push(...counts(r.acceptedAt, t.reachedAt.length));
    return t;
  }

  /** Records a verified block: the q(x) of each drafted token that the target judged, and how many it accepted. */
  record(qs: readonly number[], accepted: number): void {
    const judged = Math.min(qs.length, accepted + 1);
    for (let b = 0; b < AGREEMENT_BUCKETS; b++) {
      this.drafted[b] *= 1 - BUCKET_MEMORY;
      this.accepted[b] *= 1 - BUCKET_MEMORY;
    }
    for (let i = 0; i < this.reachedAt.length; i++) {
      this.reachedAt[i] *= 1 - POSITION_MEMORY;
      this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) * (1 - POSITION_MEMORY);
    }
    for (let i = 0; i < judged; i++) {
      const b = AgreementTracker.bucket(qs[i]);
      this.drafted[b]++;
      this.reachedAt[i] = (this.reachedAt[i] ?? 0) + 1;
      if (i < accepted) {
        this.accepted[b]++;
        this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + 1;
      }
    }
  }
}
