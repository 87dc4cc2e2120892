/** Builds the features of the next drafted token of a block, and keeps the running acceptance of a generation. */

import type { DraftBlock } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";
import type { DraftFeatures } from "./acceptanceScorer.js";
import { tokenSignals } from "./signals.js";

export class RunningAcceptance {
  private drafted = 0;
  private accepted = 0;

  get rate(): number {
    return (this.accepted + 1) / (this.drafted + 2);
  }

  record(drafted: number, accepted: number): void {
    this.drafted += drafted;
    this.accepted += Math.min(accepted, drafted);
  }
}

export function draftFeatures(block: DraftBlock, q: TokenDistribution, token: TokenId, running: number): DraftFeatures {
  const position = block.tokens.length;
  const previousQ = position > 0 ? block.q[position - 1].prob(block.tokens[position - 1]) : 1;
  const cumulativeQ = block.tokens.reduce((c, t, i) => c * block.q[i].prob(t), q.prob(token));
  return { ...tokenSignals(q, token, position), previousQ, cumulativeQ, runningAcceptance: running };
}
