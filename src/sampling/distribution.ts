/**
 * From logits to the distribution tokens are drawn from: temperature, then
 * top-k, then top-p, renormalised. The same transform is applied to the
 * target's p and the drafter's q, so speculative sampling reproduces exactly
 * the distribution that target-only sampling draws from.
 */
import type { TokenId } from "../model/vocabulary.js";
import type { Random } from "../util/random.js";
import type { RandomSamplingSettings } from "./samplingSettings.js";

/** Index of the largest logit (the lowest index among ties). */
export function argmax(values: ArrayLike<number>): TokenId {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Softmax of logits / temperature, in float64. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const out = new Float64Array(logits.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] - max) / temperature);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Token ids by decreasing probability (ties by id), only those with non-zero probability. */
function rankedTokens(probs: Float64Array): number[] {
  const ids: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) ids.push(i);
  return ids.sort((a, b) => probs[b] - probs[a] || a - b);
}

/** Zeroes everything outside the top-k / top-p set and renormalises, in place. */
function truncate(probs: Float64Array, topK: number, topP: number): void {
  if (topK <= 0 && topP >= 1) return;
  const ranked = rankedTokens(probs);
  let keep = topK > 0 ? Math.min(topK, ranked.length) : ranked.length;
  if (topP < 1) {
    const kMass = ranked.slice(0, keep).reduce((s, t) => s + probs[t], 0);
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += probs[ranked[i]] / kMass;
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const kept = new Set(ranked.slice(0, keep));
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    if (!kept.has(i)) probs[i] = 0;
    sum += probs[i];
  }
  for (let i = 0; i < probs.length; i++) probs[i] /= sum;
}

/** The distribution a sampler draws from after temperature, top-k and top-p. */
export function samplingDistribution(logits: ArrayLike<number>, s: RandomSamplingSettings): Float64Array {
  const probs = softmax(logits, s.temperature);
  truncate(probs, s.topK, s.topP);
  return probs;
}

/** Draws a token from a normalised distribution (inverse CDF) with the rng's next uniform. */
export function sampleFrom(probs: ArrayLike<number>, rng: Random): TokenId {
  return inverseCdf(probs, rng.next());
}

/** The token a uniform u in [0, 1) picks by inverse CDF in id order (zeros skipped; the last token with mass if rounding leaves u past the total). */
export function inverseCdf(probs: ArrayLike<number>, u: number): TokenId {
  let cum = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = i;
    if (u < cum) return i;
  }
  return last;
}
