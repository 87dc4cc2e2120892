/** Plain speculative decoding: a chain of exactly k drafted tokens every step. */
import type { Drafter } from "../drafters/drafter.js";
import { type DraftBlock, draftChain } from "../drafts/draftBlock.js";
import { checkDraftLength, DEFAULT_DRAFT_LENGTH, type DraftContext, type DraftPolicy } from "./draftPolicy.js";

export class ChainPolicy implements DraftPolicy {
  readonly name = "chain";
  constructor(readonly k: number = DEFAULT_DRAFT_LENGTH) {
    checkDraftLength(k);
  }

  readonly maxSequences = 1;

  draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    // Reads no q: a greedy drafter's run need not summarise its rows.
    return draftChain(drafter, Math.min(this.k, limit), { ...context, signals: false });
  }

  observe(): void {}
}
