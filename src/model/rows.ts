/**
 * What an evaluation hands back, and what is drawn from it: logits rows (`LogitRows`), their summaries
 * (`RowSummary`), the sampler's transform and how a token is drawn, and the greedy and sampled runs a session
 * continues in one call.
 */
import type { TokenId } from "./vocabulary.js";

/**
 * A logits row in brief, at temperature 1: its most likely tokens and their logits (most likely first, ties to
 * the lower id; at least the argmax), and over the whole vocabulary the log-sum-exp and the entropy in nats
 * (NaN when the session only finds the argmax). Backends that do per-row work natively give these, so a
 * 128k-token row need not be copied into JavaScript for what a greedy step needs.
 */
export interface RowSummary {
  readonly top: readonly TokenId[];
  readonly topLogits: readonly number[];
  readonly logSumExp: number;
  readonly entropy: number;
}

/** From logits to a sampler's distribution: softmax at a temperature, then top-k (0: off), then top-p (1: off). */
export interface SamplingTransform {
  temperature: number;
  topK: number;
  topP: number;
}

/** Logits rows of one evaluation, one per batch token that asked for them, in batch order. */
export interface LogitRows {
  readonly count: number;
  readonly vocabSize: number;
  /**
   * Row i, a view into storage that the next `evaluate` of the same session reuses (a backend may fetch the
   * row only when it is asked for, and refuse once the next evaluate has run).
   */
  row(i: number): Float32Array;
  /** What the backend works out per row without copying it into JavaScript, stated by every set of rows. */
  readonly capabilities: RowCapabilities;
}

/**
 * Per-row work a backend does natively, so that a 128k-token row need not be copied into JavaScript: each ability is
 * the object that does it, or undefined where the rows lack it (the shape of SessionCapabilities, for its reasons).
 */
export interface RowCapabilities {
  /** Row summaries, where the backend summarises rows (see `SessionOptions.rowSummary`). */
  readonly summaries: RowSummaries | undefined;
  /** The sampler's work at a row; where absent, see `rowSamplingDistribution` for the fallback. */
  readonly sampling: RowSampling | undefined;
}

/** Rows with no native per-row work: everything is computed from `row(i)`. */
export const PLAIN_ROWS: RowCapabilities = { summaries: undefined, sampling: undefined };

/** RowCapabilities.summaries. */
export interface RowSummaries {
  /** Row i in brief. */
  summary(i: number): RowSummary;
}

/** RowCapabilities.sampling. */
export interface RowSampling {
  /**
   * The distribution a sampler draws from at row i (softmax of logits / temperature, then top-k, then top-p,
   * renormalised: sampling/distribution.ts's transform). Like `row`, a view into storage that the next `evaluate`
   * reuses (and the next call for the same row overwrites).
   */
  samplingDistribution(i: number, s: SamplingTransform): Float64Array;
  /** A token drawn from row i's sampling distribution, without handing the distribution over (see TokenDraw). */
  sampleToken(i: number, s: SamplingTransform, draw: TokenDraw): TokenId;
}

/**
 * What a greedy run summarises of each row: "top" (what a drafter's q needs for the verifier's signals), or
 * "argmax" alone, which skips the exp over the whole vocabulary that a "top" summary's log-sum-exp and entropy
 * cost (most of the row work at a 128k vocabulary). The session's own kind (at least "argmax") by default.
 */
export type RunSummaryKind = Exclude<RowSummaryKind, "none">;

/** A greedy run's tokens, each with the summary of the row it is the argmax of. */
export interface GreedyRun {
  tokens: TokenId[];
  summaries: RowSummary[];
}

/**
 * How one sampled token is drawn: the token a uniform in [0, 1) picks by inverse CDF in id order (`sampleFrom`'s
 * rule), or the coupled draw at its position in the sequence under a 32-bit seed (`coupledDraw`'s rule).
 */
export type TokenDraw = { readonly uniform: number } | CoupledKey;

/** The key of a coupled draw: the seed (a 32-bit unsigned integer) and the drawn token's position. */
export interface CoupledKey {
  readonly seed: number;
  readonly position: number;
}

/**
 * How a sampled run draws its tokens: one uniform per step from the caller's rng (step i's token is the one
 * u_i picks by inverse CDF in id order), or coupled draws from the first token's position on (step i's at
 * position + i).
 */
export type RunDraws = { readonly uniforms: Float64Array } | CoupledKey;

/** A sampled run: the sampler's transform and how its tokens are drawn. */
export interface RunSampler {
  transform: SamplingTransform;
  draws: RunDraws;
  /**
   * Storage for the distributions (steps x vocabulary size at least), owned by the caller and reused from run
   * to run: the run's distributions are views of it, valid until the caller reuses it. A fresh array by default.
   */
  into?: Float64Array;
}

/** A sampled run's tokens, each with the sampling distribution it was drawn from. */
export interface SampledRun {
  tokens: TokenId[];
  distributions: Float64Array[];
}

/**
 * What a session summarises of each row it returns, where its backend can: "argmax" (the most likely token),
 * "top" (the TOP_SUMMARY_TOKENS most likely, log-sum-exp and entropy: what a drafter's q needs), or "none".
 */
export type RowSummaryKind = "none" | "argmax" | "top";

/** Tokens a "top" row summary lists. */
export const TOP_SUMMARY_TOKENS = 16;
