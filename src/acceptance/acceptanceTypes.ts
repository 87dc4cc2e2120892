/** What an acceptance rule decides for one block. */
import type { TokenId } from "../backends/languageModel.js";

export interface BlockVerdict {
  /** How many drafted tokens the target accepts: a chain prefix, plus the winning sibling if there is one. */
  accepted: number;
  /** The target's own token after the accepted prefix. */
  bonus: TokenId;
  /** When a tree branch won: the index of the sibling that ends the accepted path (counted in `accepted`). */
  sibling?: number;
}
