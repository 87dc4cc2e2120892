/**
 * Acceptance over a tree: a chain with alternative tokens (siblings) at some
 * depths. Greedy: follow the chain while it matches the target's argmax; at the
 * first mismatch take a sibling equal to the argmax if there is one, and the
 * bonus token is the target's argmax after the accepted path. Sampling: a
 * lossless multi-draft rule (recursive rejection sampling, as in SpecInfer):
 * the chain token x, drawn from q, is accepted with min(1, p(x)/q(x)); on
 * rejection the target distribution becomes the residual r = norm(max(0, p - q))
 * and each sibling s, a deterministic candidate, is accepted with probability
 * r(s), after which r loses s and is renormalised; if none is accepted, the
 * bonus token is drawn from what is left of r. Each test is an exact rejection
 * step for the current r, so the emitted token follows p.
 */

import type { DraftBlock, Sibling } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";
import { sampleFrom } from "../sampling/distribution.js";
import type { Random } from "../util/random.js";
import type { BlockVerdict, ProposedBlock } from "./acceptanceTypes.js";
import { acceptsToken, residual, withoutMass } from "./speculativeSampling.js";
import type { BlockLayout } from "./treeLayout.js";

function siblingsAt(block: { siblings?: readonly Sibling[] }, depth: number): number[] {
  return (block.siblings ?? []).flatMap((s, j) => (s.depth === depth ? [j] : []));
}

/** Greedy tree acceptance; `choice(row)` is the target's argmax at a row of the pass. */
export function acceptGreedyTree(block: Pick<DraftBlock, "tokens" | "siblings">, layout: BlockLayout, choice: (row: number) => TokenId): BlockVerdict {
  for (let d = 0; ; d++) {
    const want = choice(layout.parentRow[d]);
    if (d < block.tokens.length && block.tokens[d] === want) continue;
    const hit = siblingsAt(block, d).find((j) => block.siblings![j].token === want);
    if (hit === undefined) return { accepted: d, bonus: want };
    return { accepted: d + 1, bonus: choice(layout.siblingRow[hit]), sibling: hit };
  }
}

/** A rule deciding a sampled tree; `acceptSampledTree` is the lossless one. */
export type SampledTreeRule = (block: ProposedBlock, layout: BlockLayout, p: (row: number) => Float64Array, rng: Random) => BlockVerdict;

/** Sampled tree acceptance; `p(row)` is the target's sampling distribution at a row of the pass. */
export const acceptSampledTree: SampledTreeRule = (block, layout, p, rng) => {
  for (let d = 0; d < block.tokens.length; d++) {
    const pd = p(layout.parentRow[d]);
    if (acceptsToken(block.tokens[d], pd, block.q[d], rng)) continue;
    let r = residual(pd, block.q[d]);
    for (const j of siblingsAt(block, d)) {
      const s = block.siblings![j].token;
      if (rng.next() < r[s]) return { accepted: d + 1, bonus: sampleFrom(p(layout.siblingRow[j]), rng), sibling: j };
      r = withoutMass(r, s);
    }
    return { accepted: d, bonus: sampleFrom(r, rng) };
  }
  return { accepted: block.tokens.length, bonus: sampleFrom(p(layout.parentRow[block.tokens.length]), rng) };
};
