/**
 * What a block is worth to the adaptive policy (adaptivePolicy.ts): the expected tokens it emits and what drafting and
 * verifying it costs, so its expected tokens per ms, from what the memory has measured (each source's acceptance and
 * drafting time, the pass cost) and the shared pass the block joins at this step (the other requests' tokens and what
 * they are expected to emit with it). The policy decides; this prices.
 */
import type { DraftSource, FreeProposal } from "../drafters/drafter.js";
import type { AdaptiveMemory, SourceMemory } from "./adaptiveMemory.js";
import type { CostModel } from "./costModel.js";

/** A likely free proposal's prefix drafted to price a larger pass: its cumulative acceptance at least this (AdaptivePolicy's PASS_REFRESH). */
const REFRESH_CUMULATIVE = 0.5;
/** The longest such prefix. */
const REFRESH_TOKENS = 16;

/** The limits the rates are taken within. */
export interface RateLimits {
  /** Longest draft considered from a draft model. */
  maxK: number;
  /** Longest draft considered from a source at no model cost. */
  maxFreeK: number;
  /** Until passes are priced, a free token is drafted while its cumulative acceptance is at least this. */
  minCumulative: number;
  exploreEvery: number;
}

/** A source and a draft length. */
export interface SourceLength {
  source: DraftSource;
  k: number;
}

export class BlockRates {
  /** Tokens other requests add to the shared pass this block joins: the block's cost is the pass's at load + its size. */
  private load = 0;
  /**
   * Tokens the other requests of the shared pass are expected to emit with it. A block's rate counts them too: a
   * token drafted here also delays their pass, so at high concurrency only likely tokens are worth it.
   */
  othersYield = 0;
  /** With a scorer: moving average of its predictions per draft position. */
  private readonly predictedAt: number[] = [];

  constructor(
    readonly cost: CostModel,
    private readonly memory: AdaptiveMemory,
    private readonly limits: RateLimits,
  ) {}

  /** The shared pass this step's block joins: `load` tokens of other requests, expected to emit `othersYield` tokens. */
  atStep(load: number, othersYield: number): void {
    this.load = load;
    this.othersYield = othersYield;
  }

  /** What the memory knows of a source. */
  source(source: DraftSource): SourceMemory {
    return this.memory.source(source, this.limits.exploreEvery);
  }

  /** Predicted time of the shared pass when this block holds n tokens. */
  passTime(n: number): number {
    return this.cost.verifyTime(this.load + n);
  }

  /** Whether a pass with this block's one token (a decode) has been priced at the current load. */
  decodeMeasured(): boolean {
    return this.cost.measured(this.load + 1);
  }

  /** Whether the pass cost and the source's drafting cost have been measured. */
  readyFor(source: DraftSource): boolean {
    return this.cost.ready && this.source(source).draft.ready;
  }

  /** Moving average of the scorer's predictions at a draft position. */
  recordPrediction(position: number, estimate: number): void {
    const previous = this.predictedAt[position];
    this.predictedAt[position] = previous === undefined ? estimate : previous + 0.1 * (estimate - previous);
  }

  /** Expected tokens of blocks of 0..n drafted tokens from a source (the bonus included), in one pass over its measured acceptance. */
  expectedByLength(source: DraftSource, n = this.limits.maxK): number[] {
    const measured = this.source(source).agreement.positionRates(n);
    const out = [1];
    let alive = 1;
    for (let i = 0; i < n; i++) {
      alive *= this.predictedAt[i] ?? measured[i];
      out.push(out[i] + alive);
    }
    return out;
  }

  /** A source's draft length (0 included) with the best expected tokens per ms, and that rate. */
  bestLength(source: DraftSource): { k: number; rate: number } {
    const draft = this.source(source).draft;
    const expected = this.expectedByLength(source);
    let best = { k: 0, rate: 0 };
    for (let k = 0; k <= this.limits.maxK; k++) {
      const rate = (expected[k] + this.othersYield) / (draft.time(k) + this.passTime(k + 1));
      if (rate > best.rate) best = { k, rate };
    }
    return best;
  }

  /** The model's best expected rate over its draft lengths of at least one token. */
  bestModelRate(): number {
    const draft = this.source("model").draft;
    const expected = this.expectedByLength("model");
    let best = 0;
    for (let k = 1; k <= this.limits.maxK; k++) best = Math.max(best, (expected[k] + this.othersYield) / (draft.time(k) + this.passTime(k + 1)));
    return best;
  }

  /** Whether some draft length from the source would beat not drafting, were drafting free (the acceptance and pass costs alone). */
  paysIfDraftingWereFree(source: DraftSource): boolean {
    const undrafted = (1 + this.othersYield) / this.passTime(1);
    const expected = this.expectedByLength(source);
    for (let k = 1; k <= this.limits.maxK; k++) if ((expected[k] + this.othersYield) / this.passTime(k + 1) > undrafted) return true;
    return false;
  }

  /** Whether one more drafted token (the block holds n from the source, its cumulative acceptance is c) raises expected tokens per ms. */
  worthVerifying(source: DraftSource, n: number, expected: number, c: number): boolean {
    if (!this.readyFor(source)) return c >= this.limits.minCumulative;
    const drafting = this.source(source).draft.time(n + 1);
    const others = this.othersYield;
    return (expected + c + others) / (drafting + this.passTime(n + 2)) >= (expected + others) / (drafting + this.passTime(n + 1));
  }

  /** The prefix of a free proposal with the best expected tokens per ms (0 tokens: a decode), by calibrated confidence. */
  freeLength(p: FreeProposal, limit: number): { k: number; rate: number } {
    const m = this.source(p.source);
    const n = Math.min(limit, p.tokens.length, this.limits.maxFreeK);
    let expected = 1 + this.othersYield;
    let alive = 1;
    let best = { k: 0, rate: expected / this.passTime(1) };
    for (let k = 1; k <= n; k++) {
      alive *= m.agreement.estimate(p.confidence[k - 1]);
      // Until passes are priced, a free token is worth drafting while it is likely enough.
      if (!this.cost.ready && alive < this.limits.minCumulative) break;
      expected += alive;
      const rate = expected / (m.draft.time(k) + this.passTime(k + 1));
      if (rate > best.rate || !this.cost.ready) best = { k, rate };
    }
    return best;
  }

  /** The likeliest free proposal's prefix with cumulative acceptance >= REFRESH_CUMULATIVE, if any (to price a larger pass). */
  refreshingDraft(proposals: readonly FreeProposal[], limit: number): SourceLength | undefined {
    let best: SourceLength | undefined;
    for (const p of proposals) {
      const agreement = this.source(p.source).agreement;
      let k = 0;
      for (let alive = 1; k < Math.min(limit, p.tokens.length, REFRESH_TOKENS); k++) {
        alive *= agreement.estimate(p.confidence[k]);
        if (alive < REFRESH_CUMULATIVE) break;
      }
      if (k > (best?.k ?? 0)) best = { source: p.source, k };
    }
    return best;
  }
}
