/**
 * What a free draft source (prompt lookup) would have scored while adaptive drafts nothing from it: each
 * step's proposal is compared with the tokens that step and the next ones emit. For a one-hot proposal x, "the
 * target emitted x" has the probability "the rule would have accepted x" has: p(x) either way (greedy: p is
 * one-hot; sampled: min(1, p(x) / q(x)) with q(x) = 1), and a later position is reached only where the earlier
 * ones matched, as in a verified block. So the comparison is a fair sample of acceptance at no cost, and a
 * source that stopped paying is found again as soon as its proposals come true (repetitive text), without the
 * ever-rarer explorations a costly drafter needs.
 */
import type { TokenId } from "../backends/languageModel.js";
import type { AgreementTracker } from "./agreementTracker.js";

interface Followed {
  proposal: readonly TokenId[];
  matched: number;
}

export class FreeProposalShadow {
  /** Proposals not decided yet (one a step at most, each decided within its length in steps). */
  private followed: Followed[] = [];

  /** Follows a step's proposal. */
  follow(proposal: readonly TokenId[]): void {
    if (proposal.length > 0) this.followed.push({ proposal, matched: 0 });
  }

  /** Compares a step's emitted tokens with each followed proposal; each one decided is recorded as a block of one-hot drafts. */
  observe(emitted: readonly TokenId[], agreement: AgreementTracker): void {
    this.followed = this.followed.filter((f) => {
      for (const token of emitted) {
        if (token === f.proposal[f.matched] && ++f.matched < f.proposal.length) continue;
        agreement.record(new Array(f.proposal.length).fill(1), f.matched);
        return false;
      }
      return true;
    });
  }
}
