/** What an acceptance rule decides for one block, and the block as the sampled rules read it. */
import type { TokenId } from "../backends/languageModel.js";
import type { Sibling } from "../drafts/draftBlock.js";

/**
 * A block with each drafted token's proposal distribution as a whole vector: q where the token was drawn from
 * q, one-hot where it was chosen by argmax. What speculative sampling's min(1, p/q) and residual work on.
 */
export interface ProposedBlock {
  tokens: readonly TokenId[];
  q: readonly Float64Array[];
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
