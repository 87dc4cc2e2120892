/** What an acceptance rule decides for one block, and the block as the sampled rules read it. */

import type { Sibling } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";

/** A proposal that puts all its mass on one token (a token chosen by argmax, or copied from the context). */
export interface OneHot {
  readonly oneHot: TokenId;
}

/** A drafted token's proposal distribution: the whole vector q, or one-hot (kept as the token alone). */
export type Proposal = Float64Array | OneHot;

/** The proposal's probability of token x. */
export function proposalAt(q: Proposal, x: TokenId): number {
  return q instanceof Float64Array ? q[x] : x === q.oneHot ? 1 : 0;
}

/**
 * A block with each drafted token's proposal distribution: q where the token was drawn from q, one-hot where it
 * was chosen by argmax. What speculative sampling's min(1, p/q) and residual work on.
 */
export interface ProposedBlock {
  tokens: readonly TokenId[];
  q: readonly Proposal[];
  siblings?: readonly Sibling[];
}

export interface BlockVerdict {
  /** How many drafted tokens the target accepts: a chain prefix, plus the winning sibling if there is one. */
  accepted: number;
  /** The target's own token after the accepted prefix. */
  bonus: TokenId;
  /** When a tree branch won: the index of the sibling that ends the accepted path (counted in `accepted`). */
  sibling?: number;
}
