/**
 * Speculative sampling (Leviathan et al. 2023; Chen et al. 2023). For each
 * drafted token x, drawn from the drafter's q: accept with probability
 * min(1, p(x) / q(x)); at the first rejection, draw the bonus token from the
 * normalised residual max(0, p - q); if every token is accepted, draw the bonus
 * token from p after the block. The emitted tokens then follow p exactly.
 */
import type { TokenId } from "../model/vocabulary.js";
import { sampleFrom } from "../sampling/distribution.js";
import type { Random } from "../util/random.js";
import { type BlockVerdict, type Proposal, proposalAt } from "./acceptanceTypes.js";

/**
 * The normalised residual max(0, p - q); p itself if the residual has no mass (p equals q up to rounding). For a
 * one-hot q at x, that is p without x, renormalised by 1 - p(x).
 */
export function residual(p: Float64Array, q: Proposal): Float64Array {
  if (!(q instanceof Float64Array)) return withoutMass(p, q.oneHot);
  const out = new Float64Array(p.length);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    out[i] = Math.max(0, p[i] - q[i]);
    sum += out[i];
  }
  if (sum <= 0) return p;
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** p without token x, renormalised (p itself if nothing is left). */
export function withoutMass(p: Float64Array, x: TokenId): Float64Array {
  const rest = 1 - p[x];
  if (rest <= 0) return p;
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = i === x ? 0 : p[i] / rest;
  return out;
}

/** Whether drafted token x (drawn from q) is accepted against p: u < min(1, p(x) / q(x)). */
export function acceptsToken(x: TokenId, p: Float64Array, q: Proposal, rng: Random): boolean {
  if (q instanceof Float64Array && q.length !== p.length)
    throw new RangeError(`q covers ${q.length} tokens, p ${p.length}: a drafter's q must be stated over the target's vocabulary`);
  const u = rng.next();
  const qx = proposalAt(q, x);
  return qx > 0 && u < Math.min(1, p[x] / qx);
}

/**
 * The target's sampling distribution at draft position i (0..draft.length, the last after the block), computed
 * when a rule first asks for it: a rule that stops at an early rejection never pays for the positions after.
 */
export type TargetAt = (i: number) => Float64Array;

/**
 * A draw from p at position i with the next uniform of the rng, by sampleFrom's rule: what the backend can do
 * without handing p over (RowSampling.sampleToken), for the bonus token after a fully accepted block.
 */
export type DrawAt = (i: number, rng: Random) => TokenId;

/** A rule deciding a sampled block; `acceptSampled` is the lossless one. */
export type SampledAcceptanceRule = (draft: readonly TokenId[], q: readonly Proposal[], p: TargetAt, rng: Random, draw?: DrawAt) => BlockVerdict;

/** `p(i)` is the target's sampling distribution at draft position i (also after the block); `q[i]` the drafter's. */
export function acceptSampled(draft: readonly TokenId[], q: readonly Proposal[], p: TargetAt, rng: Random, draw?: DrawAt): BlockVerdict {
  if (q.length !== draft.length) throw new RangeError("speculative sampling needs q at every drafted position");
  for (let i = 0; i < draft.length; i++) {
    const pi = p(i);
    if (!acceptsToken(draft[i], pi, q[i], rng)) return { accepted: i, bonus: sampleFrom(residual(pi, q[i]), rng) };
  }
  return { accepted: draft.length, bonus: draw ? draw(draft.length, rng) : sampleFrom(p(draft.length), rng) };
}
