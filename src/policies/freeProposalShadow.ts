/**
 * What a free draft source (prompt lookup, suffix) would have scored while adaptive drafts nothing from it: each
 * step's proposal is compared with the tokens that step and the next ones emit. For a one-hot proposal x, "the
 * target emitted x" has the probability "the rule would have accepted x" has: p(x) either way (greedy: p is
 * one-hot; sampled: min(1, p(x) / q(x)) with q(x) = 1), and a later position is reached only where the earlier
 * ones matched, as in a verified block. So the comparison is a fair sample of acceptance at no cost, and a
 * source that stopped paying is found again as soon as its proposals come true (repetitive text), without the
 * ever-rarer explorations a costly drafter needs.
 */

import type { FreeProposal } from "../drafters/drafter.js";
import type { TokenId } from "../model/vocabulary.js";
import type { AgreementTracker } from "./agreementTracker.js";

interface Followed {
  proposal: readonly TokenId[];
  /** Each proposed token's confidence (its q(x) had it been drafted). */
  confidence: readonly number[];
  matched: number;
}

export class FreeProposalShadow {
  /** Proposals not decided yet (one a step at most, each decided within its length in steps). */
  private followed: Followed[] = [];

  /** Follows a step's proposal: its first `max` tokens (all by default), each as confident as the source says (1 by default). */
  follow(p: readonly TokenId[] | Pick<FreeProposal, "tokens" | "confidence">, max = Number.POSITIVE_INFINITY): void {
    const tokens = "tokens" in p ? p.tokens : p;
    const confidence = "tokens" in p ? p.confidence : tokens.map(() => 1);
    if (tokens.length > 0) this.followed.push({ proposal: tokens.slice(0, max), confidence: confidence.slice(0, max), matched: 0 });
  }

  /** Compares a step's emitted tokens with each followed proposal; each one decided is recorded as a block of one-hot drafts. */
  observe(emitted: readonly TokenId[], agreement: AgreementTracker): void {
    this.followed = this.followed.filter((f) => {
      for (const token of emitted) {
        if (token === f.proposal[f.matched] && ++f.matched < f.proposal.length) continue;
        agreement.record(f.confidence, f.matched);
        return false;
      }
      return true;
    });
  }
}
