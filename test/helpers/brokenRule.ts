/** An acceptance rule that is wrong on purpose, to show that the chi-square tests detect a biased rule. */

import { sampleFrom } from "../../src/sampling/distribution.js";
import { type BlockVerdict, proposalAt } from "../../src/verification/acceptanceTypes.js";
import { residual, type SampledAcceptanceRule } from "../../src/verification/speculativeSampling.js";

/** Wrong on purpose: accepts x outright whenever p(x) >= q(x), and rejects otherwise, with no coin flip. */
export const brokenRule: SampledAcceptanceRule = (draft, q, p, rng): BlockVerdict => {
  for (let i = 0; i < draft.length; i++) {
    if (p(i)[draft[i]] < proposalAt(q[i], draft[i])) return { accepted: i, bonus: sampleFrom(residual(p(i), q[i]), rng) };
  }
  return { accepted: draft.length, bonus: sampleFrom(p(draft.length), rng) };
};
