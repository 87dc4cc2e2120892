/**
 * Tree drafting: the drafter's chain of k tokens, plus alternative tokens
 * (siblings) at uncertain positions, all verified in one target pass. Which
 * alternatives enter the tree is decided by cumulative drafter probability
 * (the chain's q up to that depth times q of the alternative, as EAGLE-2 ranks
 * nodes), under a node budget, only where the chain token's q is below a
 * threshold, and never for a token the constraints forbid. Alternatives are
 * leaves: a branch adds one token and the target's bonus token after it.
 */

import type { Drafter } from "../drafters/drafter.js";
import { type DraftBlock, draftChain, type Sibling } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";
import { checkDraftLength, DEFAULT_DRAFT_LENGTH, type DraftContext, type DraftPolicy } from "./draftPolicy.js";

/** Most alternative tokens in a tree; 4 by default. */
export const DEFAULT_TREE_BUDGET = 4;
/** Most alternatives at one depth; 2 by default. */
export const DEFAULT_TREE_WIDTH = 2;
/** Branch only where the chain token's q is below this; 0.8 by default. */
export const DEFAULT_BRANCH_BELOW = 0.8;

export interface TreeOptions {
  k?: number;
  budget?: number;
  width?: number;
  branchBelow?: number;
}

/** The n most likely tokens of q with q > 0, other than `exclude`. */
export function topTokens(q: TokenDistribution, n: number, exclude: TokenId): TokenId[] {
  return q
    .top(Math.min(n + 1, q.size))
    .filter((t) => t !== exclude)
    .slice(0, n);
}

export class TreePolicy implements DraftPolicy {
  readonly name = "tree";
  readonly k: number;
  readonly budget: number;
  readonly width: number;
  readonly branchBelow: number;
  readonly maxSequences: number;

  constructor(o: TreeOptions = {}) {
    this.k = checkDraftLength(o.k ?? DEFAULT_DRAFT_LENGTH);
    this.budget = o.budget ?? DEFAULT_TREE_BUDGET;
    this.width = o.width ?? DEFAULT_TREE_WIDTH;
    this.branchBelow = o.branchBelow ?? DEFAULT_BRANCH_BELOW;
    if (!Number.isInteger(this.budget) || this.budget < 0 || this.budget > 63)
      throw new RangeError(`tree budget must be a whole number from 0 to 63, got ${o.budget}`);
    if (!Number.isInteger(this.width) || this.width < 1) throw new RangeError(`tree width must be a positive whole number, got ${o.width}`);
    this.maxSequences = 1 + this.budget;
  }

  async draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    const block = await draftChain(drafter, Math.min(this.k, limit), { endsGeneration: context.endsGeneration });
    block.siblings = this.chooseSiblings(block, context);
    return block;
  }

  observe(): void {}

  /** The best alternatives by cumulative drafter probability, under the budget. */
  chooseSiblings(block: DraftBlock, context: DraftContext): Sibling[] {
    const candidates: (Sibling & { score: number })[] = [];
    let pathQ = 1;
    for (let d = 0; d < block.tokens.length; d++) {
      const q = block.q[d];
      const chainToken = block.tokens[d];
      const qChain = q.prob(chainToken);
      if (qChain < this.branchBelow) {
        const path = context.constraints.active ? [...context.tokens, ...block.tokens.slice(0, d)] : [];
        for (const t of topTokens(q, this.width, chainToken)) {
          if (!context.constraints.forbids(path, t)) candidates.push({ depth: d, token: t, score: pathQ * q.prob(t) });
        }
      }
      pathQ *= qChain;
    }
    return candidates
      .sort((a, b) => b.score - a.score)
      .slice(0, this.budget)
      .sort((a, b) => a.depth - b.depth)
      .map(({ depth, token }) => ({ depth, token }));
  }
}
