/**
 * Cheap signals about a drafted token, computed with no target work: the
 * drafter's probability q(x), the entropy of q, the top-1/top-2 margin, and
 * the position in the block.
 */
import type { TokenId } from "../backends/languageModel.js";

export interface TokenSignals {
  /** q(x): the drafter's probability of the drafted token. */
  q: number;
  /** Entropy of q, in nats. */
  entropy: number;
  /** q of the most likely token minus q of the second. */
  margin: number;
  /** Whether x is the drafter's most likely token. */
  isTop: boolean;
  /** 0-based position of the token in its block. */
  position: number;
}

/** The two most likely tokens of a distribution. */
export function topTwo(q: ArrayLike<number>): [TokenId, TokenId] {
  let a = 0;
  let b = -1;
  for (let i = 1; i < q.length; i++) {
    if (q[i] > q[a]) {
      b = a;
      a = i;
    } else if (b < 0 || q[i] > q[b]) b = i;
  }
  return [a, Math.max(b, 0)];
}

export function entropyOf(q: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < q.length; i++) if (q[i] > 0) h -= q[i] * Math.log(q[i]);
  return h;
}

export function tokenSignals(q: Float64Array, token: TokenId, position: number): TokenSignals {
  const [first, second] = topTwo(q);
  return { q: q[token], entropy: entropyOf(q), margin: q[first] - q[second], isTop: token === first, position };
}
