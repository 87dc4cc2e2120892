/**
 * Cheap signals about a drafted token, computed with no target work: the
 * drafter's probability q(x), the entropy of q, the top-1/top-2 margin, and
 * the position in the block.
 */
import type { TokenId } from "../model/vocabulary.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";

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

export function tokenSignals(q: TokenDistribution, token: TokenId, position: number): TokenSignals {
  const [first, second] = q.top(2);
  const top = q.prob(first);
  return { q: q.prob(token), entropy: q.entropy, margin: second === undefined ? top : top - q.prob(second), isTop: token === first, position };
}
