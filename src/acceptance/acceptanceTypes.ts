/** What an acceptance rule decides for one block. */
import type { TokenId } from "../backends/languageModel.js";

export interface BlockVerdict {
  /** How many drafted tokens, from the start of the block, the target accepts. */
  accepted: number;
  /** The target's own token after the accepted prefix. */
  bonus: TokenId;
}
