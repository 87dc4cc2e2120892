/**
 * The block-level parts of a step, chain or tree: lay the block out over the request's slot (planning),
 * then, once the target's pass has given its rows, judge it with the acceptance rule of the sampling mode,
 * price the verifier's cut (shadow mode), and roll the slot back to the accepted path (settling).
 */

import type { DraftBlock } from "../drafts/draftBlock.js";
import type { LogitRows } from "../model/rows.js";
import type { ModelSession } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "../sampling/constraints.js";
import { samplingDistribution } from "../sampling/distribution.js";
import type { RandomSamplingSettings, SamplingSettings } from "../sampling/samplingSettings.js";
import { constrainedArgmax, rowArgmax, rowSamplingDistribution } from "../sampling/tokenDistribution.js";
import { coupledKey, drawFrom } from "../sampling/tokenDraws.js";
import type { Random } from "../util/random.js";
import type { BlockVerdict, ProposedBlock } from "./acceptanceTypes.js";
import type { MatchAcceptanceRule } from "./greedyAcceptance.js";
import type { SampledAcceptanceRule } from "./speculativeSampling.js";
import { acceptGreedyTree, type SampledTreeRule } from "./treeAcceptance.js";
import { type BlockLayout, layoutBlock } from "./treeLayout.js";

export interface JudgeSettings {
  sampling: SamplingSettings;
  constraints: Constraints;
  chainRule: SampledAcceptanceRule;
  matchRule: MatchAcceptanceRule;
  treeRule: SampledTreeRule;
  rng: Random | undefined;
}

export interface VerifiedBlock {
  layout: BlockLayout;
  rows: LogitRows;
}

/**
 * The target's batch for a block: the context tokens its slot does not hold yet and the whole block, every
 * branch seeing only its own path (its sequences fork from the chain's here). Evaluated in one pass.
 */
export function layOutBlock(session: ModelSession, context: readonly TokenId[], block: DraftBlock): BlockLayout {
  const layout = layoutBlock(context, session.sequenceLength(0), block);
  for (let s = 1; s < layout.sequences; s++) session.copySequence(0, s);
  return layout;
}

/** The tokens each row of the pass comes after, beyond the context: its path in the tree. */
function rowPath(block: DraftBlock, layout: BlockLayout, row: number): TokenId[] {
  const chain = [...block.tokens, ...(block.shadow?.tokens ?? [])];
  const d = layout.parentRow.indexOf(row);
  if (d >= 0) return chain.slice(0, d);
  const j = layout.siblingRow.indexOf(row);
  const s = block.siblings![j];
  return [...chain.slice(0, s.depth), s.token];
}

/** The target's logits at a row, with the generation's constraints applied for that row's path. */
function constrainedRow(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, row: number): Float32Array {
  const logits = v.rows.row(row);
  return o.constraints.active ? o.constraints.apply(logits, [...context, ...rowPath(block, v.layout, row)]) : logits;
}

/** The target's constrained logits predicting chain depth d (d = 0: after the last context token). */
export function chainLogits(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, depth: number): Float32Array {
  return constrainedRow(v, block, context, o, v.layout.parentRow[depth]);
}

/** The target's argmax at a row: from the backend's row summary unless constraints change it there. */
function targetArgmax(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, row: number): TokenId {
  return o.constraints.active ? constrainedArgmax(v.rows, row, [...context, ...rowPath(block, v.layout, row)], o.constraints) : rowArgmax(v.rows, row);
}

/** The target's sampling distribution p at a row: from the backend unless constraints change the row. */
function targetSampling(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, row: number): Float64Array {
  if (o.sampling.mode !== "sample") throw new Error("p is a sampling distribution: greedy steps compare argmaxes");
  return o.constraints.active ? samplingDistribution(constrainedRow(v, block, context, o, row), o.sampling) : rowSamplingDistribution(v.rows, row, o.sampling);
}

/** The target's coupled draw at a row: the noise of the position its token takes (SampledRule "coupled"). */
function targetCoupled(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, s: RandomSamplingSettings, row: number): TokenId {
  const key = coupledKey(s, context.length + rowPath(block, v.layout, row).length);
  const sampling = v.rows.capabilities.sampling;
  if (!o.constraints.active && sampling) return sampling.sampleToken(row, s, key);
  return drawFrom(targetSampling(v, block, context, o, row), key);
}

/**
 * The target's own token at each row where a drafted token is judged by matching it: the argmax when greedy, the
 * coupled draw when sampling by the coupled rule; undefined for rejection sampling.
 */
function targetChoice(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings): ((row: number) => TokenId) | undefined {
  const s = o.sampling;
  if (s.mode === "greedy") return (row) => targetArgmax(v, block, context, o, row);
  return s.rule === "coupled" ? (row) => targetCoupled(v, block, context, o, s, row) : undefined;
}

/** The acceptance rule: a match with the target's own token (greedy, coupled) or speculative sampling, for a chain or a tree. */
export function judgeBlock(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings): BlockVerdict {
  const s = o.sampling;
  if (s.mode === "sample" && s.rule === "rejection") return judgeByRejection(v, block, context, o, s);
  // Greedy or coupled from here: targetChoice gives the target's own token for both.
  const choice = targetChoice(v, block, context, o)!;
  if ((block.siblings?.length ?? 0) > 0) return acceptGreedyTree(block, v.layout, choice);
  return o.matchRule(block.tokens, (i) => choice(v.layout.parentRow[i]));
}

/** Speculative sampling (min(1, p/q), then the residual) over the block's rows, chain or tree. */
function judgeByRejection(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], o: JudgeSettings, s: RandomSamplingSettings): BlockVerdict {
  // p at a row, computed once and only if the rule asks for it (a rejection leaves the rows after it unread).
  const computed = new Map<number, Float64Array>();
  const p = (r: number) => computed.get(r) ?? computed.set(r, targetSampling(v, block, context, o, r)).get(r)!;
  const proposed = asProposed(block);
  if ((block.siblings?.length ?? 0) > 0) return o.treeRule(proposed, v.layout, p, o.rng!);
  const parents = v.layout.parentRow;
  // The bonus after a fully accepted chain is a plain draw from p, which the backend makes without handing p over.
  const sampling = v.rows.capabilities.sampling;
  const draw = o.constraints.active || !sampling ? undefined : (i: number, rng: Random) => sampling.sampleToken(parents[i], s, { uniform: rng.next() });
  return o.chainRule(proposed.tokens, proposed.q, (i) => p(parents[i]), o.rng!, draw);
}

/** The block with each token's proposal: q as a vector, or one-hot (the token alone) where it was chosen by argmax. */
export function asProposed(block: DraftBlock): ProposedBlock {
  const q = block.q.map((qi, i) => (block.drawn[i] === "argmax" ? { oneHot: block.tokens[i] } : qi.dense()));
  return { tokens: block.tokens, q, siblings: block.siblings };
}

/**
 * Shadow mode: how many of the tokens drafted past the verifier's cut the target
 * would have accepted (greedy and coupled: matches; rejection sampling: the expected count). Zero when
 * the block before the cut was not fully accepted, since then the cut cost nothing.
 */
export function shadowPrice(v: VerifiedBlock, block: DraftBlock, context: readonly TokenId[], verdict: BlockVerdict, o: JudgeSettings): number {
  const shadow = block.shadow;
  if (!shadow || verdict.accepted < block.tokens.length || verdict.sibling !== undefined) return 0;
  let price = 0;
  let alive = 1;
  const choice = targetChoice(v, block, context, o);
  for (let j = 0; j < shadow.tokens.length; j++) {
    const row = v.layout.parentRow[block.tokens.length + j];
    if (choice) {
      if (choice(row) !== shadow.tokens[j]) break;
      price++;
      continue;
    }
    const p = targetSampling(v, block, context, o, row);
    const x = shadow.tokens[j];
    alive *= Math.min(1, p[x] / shadow.q[j].prob(x));
    price += alive;
  }
  return price;
}

/**
 * The request's slot keeps the context and the accepted chain prefix, in its
 * sequence 0 (other slots are untouched: the session is the request's slot). A winning sibling's cell is dropped too (see treeLayout.ts):
 * the sibling is evaluated again at the start of the next pass.
 */
export function rollBack(session: ModelSession, v: VerifiedBlock, contextLength: number, verdict: BlockVerdict): void {
  if (v.layout.sequences > 1) session.keepOnlySequence(0);
  const keep = contextLength + verdict.accepted - (verdict.sibling === undefined ? 0 : 1);
  if (session.sequenceLength(0) > keep) session.removeRange(0, keep);
}
