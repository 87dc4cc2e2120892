/** A chain draft: the block of tokens a drafter proposes in one step, each with its q. */
import type { TokenId } from "../backends/languageModel.js";
import type { Drafter } from "../drafters/drafter.js";

export interface DraftBlock {
  tokens: TokenId[];
  /** q[i]: the drafter's distribution at drafted position i. */
  q: Float64Array[];
}

/**
 * Drafts up to `length` tokens in a chain. `keep`, when given, is asked about
 * each drafted token before the next is drafted; drafting stops (and the token
 * is dropped) as soon as it says no, which also saves drafter calls.
 */
export async function draftChain(
  drafter: Drafter,
  length: number,
  keep?: (block: DraftBlock, q: Float64Array, token: TokenId) => boolean,
): Promise<DraftBlock> {
  const block: DraftBlock = { tokens: [], q: [] };
  while (block.tokens.length < length) {
    const next = await drafter.next();
    if (!next || (keep && !keep(block, next.q, next.token))) break;
    block.tokens.push(next.token);
    block.q.push(next.q);
  }
  return block;
}
