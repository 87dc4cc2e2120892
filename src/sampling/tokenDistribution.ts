/**
 * A distribution over the vocabulary as the verifier and the acceptance rules read it: the probability of a
 * token, the entropy, the most likely tokens, and (for the sampled rules only) the whole vector. Two forms:
 * a dense vector, or a row summary made by the backend (most likely tokens, log-sum-exp, entropy), which is
 * all a greedy drafter's q needs and costs no full-row work in JavaScript.
 */
import type { LogitRows, RowSummary } from "../model/rows.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "./constraints.js";
import { argmax, samplingDistribution, softmax } from "./distribution.js";
import type { RandomSamplingSettings } from "./samplingSettings.js";

export interface TokenDistribution {
  /** Vocabulary size. */
  readonly size: number;
  /** The probability of a token. */
  prob(token: TokenId): number;
  /** Entropy in nats. */
  readonly entropy: number;
  /** The n most likely tokens, most likely first, ties to the lower id (fewer when fewer have probability > 0). */
  top(n: number): TokenId[];
  /** The whole vector (what speculative sampling's residual needs). */
  dense(): Float64Array;
}

/** A distribution held as a whole vector; entropy and ranking are computed when first asked for. */
export class DenseDistribution implements TokenDistribution {
  /** The most likely tokens, most likely first: all with probability > 0 (`rankedAll`), or the first few of them. */
  private ranked: TokenId[] | undefined;
  private rankedAll = false;
  private h: number | undefined;

  constructor(private readonly probs: Float64Array) {}

  get size(): number {
    return this.probs.length;
  }

  prob(token: TokenId): number {
    return this.probs[token];
  }

  get entropy(): number {
    if (this.h === undefined) {
      let h = 0;
      for (const p of this.probs) if (p > 0) h -= p * Math.log(p);
      this.h = h;
    }
    return this.h;
  }

  top(n: number): TokenId[] {
    if (n === 1) return this.probs.length ? [argmax(this.probs)] : [];
    // The verifier asks for a few (a margin, a tree's alternatives): one pass keeps them, where ranking the whole
    // vocabulary cost about 1 ms a row in JavaScript at 8,192 tokens.
    if (this.ranked === undefined || (this.ranked.length < n && !this.rankedAll)) {
      this.rankedAll = n > FEW_TOP_TOKENS;
      this.ranked = this.rankedAll ? rankByProbability(this.probs) : topByProbability(this.probs, n);
    }
    return this.ranked.slice(0, n);
  }

  dense(): Float64Array {
    return this.probs;
  }
}

/** Up to this many most likely tokens are found in one pass over the vector rather than by sorting it. */
const FEW_TOP_TOKENS = 32;

/** The n most likely tokens with probability > 0, most likely first, ties to the lower id: one pass, n kept. */
export function topByProbability(probs: Float64Array, n: number): TokenId[] {
  const ids: TokenId[] = [];
  const ps: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    // Full: an equal probability loses to the lower ids already kept.
    if (!(p > 0) || (ids.length === n && p <= ps[n - 1])) continue;
    // Fill the next place, or, when full, the last one (its token drops out), shifting less likely ones down.
    let at = Math.min(ids.length, n - 1);
    for (; at > 0 && ps[at - 1] < p; at--) {
      ids[at] = ids[at - 1];
      ps[at] = ps[at - 1];
    }
    ids[at] = i;
    ps[at] = p;
  }
  return ids;
}

export function rankByProbability(probs: Float64Array): TokenId[] {
  const ids: TokenId[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) ids.push(i);
  return ids.sort((a, b) => probs[b] - probs[a] || a - b);
}

/**
 * The softmax (temperature 1) of a row known only by its summary: exact for the listed tokens, which is all a
 * greedy drafter's signals ask about (the drafted token is the argmax; alternatives come from the top).
 * Asking about an unlisted token, for more tokens than were listed, or for the whole vector is an error.
 */
export class SummarizedDistribution implements TokenDistribution {
  constructor(
    private readonly summary: RowSummary,
    readonly size: number,
  ) {
    if (!Number.isFinite(summary.logSumExp)) throw new RangeError("a row summary without its log-sum-exp (an argmax-only summary) is not a distribution");
  }

  prob(token: TokenId): number {
    const i = this.summary.top.indexOf(token);
    if (i < 0) throw new RangeError(`token ${token} is not among the ${this.summary.top.length} tokens the row summary lists`);
    return Math.exp(this.summary.topLogits[i] - this.summary.logSumExp);
  }

  get entropy(): number {
    return this.summary.entropy;
  }

  top(n: number): TokenId[] {
    if (n > this.summary.top.length) throw new RangeError(`the row summary lists ${this.summary.top.length} tokens; ${n} were asked for`);
    return this.summary.top.slice(0, n) as TokenId[];
  }

  dense(): Float64Array {
    throw new Error("a summarised distribution has no dense form: sampled acceptance needs a drafter that reports dense q");
  }
}

/** All mass on one token: what a deterministic proposal is (prompt lookup; a greedy drafter's argmax as a proposal). */
export class PointDistribution implements TokenDistribution {
  readonly entropy = 0;

  constructor(
    readonly token: TokenId,
    readonly size: number,
  ) {}

  prob(token: TokenId): number {
    return token === this.token ? 1 : 0;
  }

  top(n: number): TokenId[] {
    return n > 0 ? [this.token] : [];
  }

  dense(): Float64Array {
    const out = new Float64Array(this.size);
    out[this.token] = 1;
    return out;
  }
}

/** The softmax of a logits row as a dense distribution. */
export function denseSoftmax(logits: ArrayLike<number>): DenseDistribution {
  return new DenseDistribution(softmax(logits));
}

/** The sampling distribution at row i: computed by the backend where it can, else from the row itself. */
export function rowSamplingDistribution(rows: LogitRows, i: number, s: RandomSamplingSettings): Float64Array {
  const sampling = rows.capabilities.sampling;
  return sampling ? sampling.samplingDistribution(i, s) : samplingDistribution(rows.row(i), s);
}

/** The argmax of row i: from the backend's summary when it gives one, else from the row itself. */
export function rowArgmax(rows: LogitRows, i: number): TokenId {
  const summaries = rows.capabilities.summaries;
  return summaries ? summaries.summary(i).top[0] : argmax(rows.row(i));
}

/**
 * The argmax at row i after the constraints for the token following `context`: the backend's argmax where the
 * constraints cannot change it (`Constraints.keepsArgmax`), else from the whole constrained row.
 */
export function constrainedArgmax(rows: LogitRows, i: number, context: readonly TokenId[], constraints: Constraints): TokenId {
  const best = rowArgmax(rows, i);
  if (!constraints.active || constraints.keepsArgmax(context, best)) return best;
  return argmax(constraints.apply(rows.row(i), context));
}

/** q at row i at temperature 1, from the backend's "top" summary when it has one, else from the row. */
export function rowDistribution(rows: LogitRows, i: number): TokenDistribution {
  const s = rows.capabilities.summaries?.summary(i);
  return s && Number.isFinite(s.logSumExp) ? new SummarizedDistribution(s, rows.vocabSize) : denseSoftmax(rows.row(i));
}

/**
 * A few listed tokens with their probabilities, the rest of the mass spread evenly over the vocabulary: what a
 * drafter without a model (the suffix drafter) knows of the next token, as a confidence for the verifier's
 * signals. Its proposals are one-hot (drawn "argmax"), so this q never enters an acceptance rule. The first listed
 * token (the drafted one) and the listed mass are given; the others are listed only when asked about (most
 * policies read the drafted token's probability alone).
 */
export class SparseDistribution implements TokenDistribution {
  private readonly rest: number;
  private others: readonly { token: TokenId; prob: number }[] | undefined;

  constructor(
    private readonly first: { token: TokenId; prob: number },
    /** The mass of every listed token, the first included (at most 1). */
    listedMass: number,
    private readonly listOthers: () => readonly { token: TokenId; prob: number }[],
    readonly size: number,
  ) {
    if (!(listedMass <= 1 + 1e-9) || !(first.prob >= 0) || first.prob > listedMass + 1e-9)
      throw new RangeError("listed probabilities must be >= 0 and sum to at most 1");
    this.rest = Math.max(0, 1 - listedMass) / size;
  }

  private get listed(): readonly { token: TokenId; prob: number }[] {
    this.others ??= this.listOthers();
    return [this.first, ...this.others];
  }

  prob(token: TokenId): number {
    if (token === this.first.token) return this.first.prob + this.rest;
    return (this.listed.find((t) => t.token === token)?.prob ?? 0) + this.rest;
  }

  get entropy(): number {
    let h = 0;
    const listed = this.listed;
    for (const t of listed) {
      const p = t.prob + this.rest;
      if (p > 0) h -= p * Math.log(p);
    }
    const unlisted = this.size - listed.length;
    return this.rest > 0 ? h - unlisted * this.rest * Math.log(this.rest) : h;
  }

  top(n: number): TokenId[] {
    return [...this.listed]
      .sort((a, b) => b.prob - a.prob || a.token - b.token)
      .slice(0, n)
      .map((t) => t.token);
  }

  dense(): Float64Array {
    const out = new Float64Array(this.size).fill(this.rest);
    for (const t of this.listed) out[t.token] += t.prob;
    return out;
  }
}
