/**
 * What adaptive policies learn and share (AdaptivePolicy): the target's pass cost by size, and per draft
 * source its cost per drafted token, how often the target agrees with it and how rarely to explore it. A
 * memory shared by a bench variant's generations or a server's requests lets each start from what is known.
 */
import type { DraftSource } from "../drafters/drafter.js";
import { AgreementTracker } from "./agreementTracker.js";
import { CostModel, DraftCost } from "./costModel.js";

/** Steps between explorations of a source that has not paid yet, by default (AdaptivePolicy's exploreEvery). */
export const DEFAULT_EXPLORE_EVERY = 8;

/**
 * What is learnt about one draft source: its cost per drafted token, how often the target agrees with it, and
 * how rarely to explore it while it does not pay (one source paying, such as lookup, says nothing of another).
 */
export interface SourceMemory {
  readonly draft: DraftCost;
  readonly agreement: AgreementTracker;
  /** Steps between explorations while drafting from this source does not pay (see AdaptivePolicy.exploring). */
  exploreGap: number;
}

export class AdaptiveMemory {
  /** The target's pass cost by pass size (whoever drafted). */
  readonly pass = new CostModel();
  private readonly sources = new Map<DraftSource, SourceMemory>();

  /** What is known of a draft source (a model's drafts and prompt lookup's differ in cost and acceptance). */
  source(s: DraftSource, exploreEvery = DEFAULT_EXPLORE_EVERY): SourceMemory {
    const known = this.sources.get(s);
    if (known) return known;
    const m = { draft: new DraftCost(), agreement: new AgreementTracker(), exploreGap: exploreEvery };
    this.sources.set(s, m);
    return m;
  }
}
