/**
 * Cascade: staged filters that trim the draft before any target work. Each
 * drafted token passes, in order:
 *   stage 1 (drafter heuristics): q(x) >= minQ, entropy of q <= maxEntropy, x among the drafter's top `gateK`;
 *   stage 2 (agreement, constraints): the calibrated acceptance estimate for q(x) in this
 *            generation >= minAgreement, and no constraint forbids x (such a token is certain to be rejected);
 *   stage 3 (learned): a loaded acceptance scorer predicts >= minScore.
 * Drafting stops at the first cut, which also saves drafter calls. Cut counts per stage are kept.
 */

import type { Drafter } from "../drafters/drafter.js";
import { type DraftBlock, draftChain } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";
import type { AcceptanceScorer } from "./acceptanceScorer.js";
import { AgreementTracker } from "./agreementTracker.js";
import { draftFeatures, RunningAcceptance } from "./draftFeatures.js";
import { type BlockOutcome, checkDraftLength, type DraftContext, type DraftPolicy } from "./draftPolicy.js";

export interface CascadeOptions {
  /** Most tokens drafted per block; 8 by default. */
  k?: number;
  /** Stage 1: smallest q(x); 0.2 by default. */
  minQ?: number;
  /** Stage 1: largest entropy of q, in nats; 3 by default. */
  maxEntropy?: number;
  /** Stage 1: x must be among the drafter's `gateK` most likely tokens; 3 by default. */
  gateK?: number;
  /** Stage 2: smallest calibrated acceptance estimate; 0.35 by default. */
  minAgreement?: number;
  /** Stage 3: smallest predicted acceptance of the learned scorer; 0.35 by default. */
  minScore?: number;
  /** Stage 3's scorer; the stage is skipped without one. */
  scorer?: AcceptanceScorer;
}

export const CASCADE_DEFAULTS = { k: 8, minQ: 0.2, maxEntropy: 3, gateK: 3, minAgreement: 0.35, minScore: 0.35 };

export const CASCADE_STAGES = ["stage1-drafter", "stage2-agreement", "stage2-constraints", "stage3-learned"] as const;

export class CascadePolicy implements DraftPolicy {
  readonly name = "cascade";
  readonly maxSequences = 1;
  readonly settings: typeof CASCADE_DEFAULTS;
  /** Blocks cut by each stage. */
  readonly cuts: Record<string, number> = Object.fromEntries(CASCADE_STAGES.map((s) => [s, 0]));
  private readonly agreement = new AgreementTracker();
  private readonly running = new RunningAcceptance();

  constructor(private readonly o: CascadeOptions = {}) {
    this.settings = { ...CASCADE_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "number")) };
    checkDraftLength(this.settings.k);
  }

  async draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    const block = await draftChain(drafter, Math.min(this.settings.k, limit), context, (b, q, x) => this.stage(b, q, x, context));
    if (block.cutBy) this.cuts[block.cutBy]++;
    return block;
  }

  observe(o: BlockOutcome): void {
    this.agreement.record(o.qx, o.accepted);
    this.running.record(o.drafted, o.accepted);
  }

  /** The first stage that cuts token x, or undefined when every stage keeps it. */
  private stage(block: DraftBlock, q: TokenDistribution, x: TokenId, context: DraftContext): string | undefined {
    const s = this.settings;
    const f = draftFeatures(block, q, x, this.running.rate);
    if (f.q < s.minQ || f.entropy > s.maxEntropy || !(f.isTop || q.top(s.gateK).includes(x))) return "stage1-drafter";
    if (this.agreement.estimate(f.q) < s.minAgreement) return "stage2-agreement";
    if (context.constraints.active && context.constraints.forbids([...context.tokens, ...block.tokens], x)) return "stage2-constraints";
    if (this.o.scorer && this.o.scorer.predict(f) < s.minScore) return "stage3-learned";
    return undefined;
  }
}
