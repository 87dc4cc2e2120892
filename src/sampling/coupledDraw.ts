/**
 * Coupled draws: Gumbel-max sampling with noise keyed by (seed, position). The token at position t of a sequence
 * is argmax over tokens v of log p(v) + g(v), where g is Gumbel noise that depends only on (seed, t, v); written
 * as an exponential race, argmin of E(v) / p(v) with E(v) = -log U(v). Each draw follows p exactly, since the
 * noise of a position is fresh. A drafter that proposes with its own q and the SAME noise proposes the target's
 * token as often as the coupling allows (when q = p, always), so a drafted token is accepted exactly when it
 * equals the target's draw, and the text is a function of (model, prompt, settings, seed) alone: target-only and
 * every policy and drafter give the same text. native/sampling.cc's coupled_token is this rule bit for bit.
 */
import type { TokenId } from "../model/vocabulary.js";

/** murmur3's finaliser: spreads every input bit over the 32-bit word. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit key of one position's noise. */
export function positionKey(seed: number, position: number): number {
  return fmix32(fmix32((seed ^ 0x9e3779b9) >>> 0) ^ position);
}

/** A uniform in (0, 1) for one token under a position's key, from 52 hashed bits: exact in float64, never 0 or 1. */
export function tokenUniform(key: number, token: TokenId): number {
  const a = fmix32((key + Math.imul(token, 0x9e3779b1)) | 0);
  const b = fmix32(a ^ 0x6a09e667);
  return ((a >>> 6) * 67108864 + (b >>> 6) + 0.5) / 4503599627370496;
}

/** A seed as the 32-bit word the noise is keyed by (the same reduction the native draw gets). */
export function noiseSeed(seed: number): number {
  return seed >>> 0;
}

/** The token the coupled draw picks from `probs` at `position` under `seed`. */
export function coupledDraw(probs: ArrayLike<number>, seed: number, position: number): TokenId {
  const key = positionKey(noiseSeed(seed), position >>> 0);
  let best = Number.POSITIVE_INFINITY;
  let token = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (p <= 0) continue;
    const u = tokenUniform(key, i);
    // -log(u) >= 1 - u, so a token whose bound already loses needs no logarithm.
    if ((1 - u) / p >= best) continue;
    const score = -Math.log(u) / p;
    if (score < best) {
      best = score;
      token = i;
    }
  }
  return Math.max(token, 0);
}
