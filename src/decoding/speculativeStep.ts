/**
 * One speculative step of one request, in the two halves around the target's pass:
 *   plan   - the policy asks the drafter for a block of up to k tokens with q at each (a chain, or a tree
 *            with alternatives at uncertain positions), laid out over the request's slot;
 *   (the scheduler evaluates every request's layout in ONE target pass: p at every node)
 *   settle - accept (greedy match, or speculative sampling: min(1, p/q), residual max(0, p - q)), roll the
 *            slot and the drafter back to the accepted path, and emit the accepted tokens and the bonus token.
 * The slot always holds the context except its last token, which opens the next pass.
 */

import type { TargetOutputs } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import type { StepEvent } from "../generation/generationTypes.js";
import { outsideFinish } from "../generation/prompt.js";
import type { LogitRows } from "../model/rows.js";
import type { TokenId } from "../model/vocabulary.js";
import type { BlockOutcome } from "../policies/draftPolicy.js";
import { chainLogits, judgeBlock, layOutBlock, rollBack, shadowPrice, type VerifiedBlock } from "../verification/blockVerification.js";
import type { BlockLayout } from "../verification/treeLayout.js";
import type { ActiveRequest } from "./generationRequest.js";

/** A request's block, drafted and laid out over its slot, waiting for the target's pass. */
export interface PlannedStep {
  block: DraftBlock;
  layout: BlockLayout;
  /** Context tokens the pass writes before the block's root, verifying nothing (a new request's prompt). */
  prefill: number;
  draftMs: number;
  drafterCalls: number;
}

/** The shared target pass a settled step was verified in. */
export interface PassReport {
  ms: number;
  /** Tokens of every request in the pass. */
  tokens: number;
  /** Of them, those that only wrote context (PlannedStep.prefill, summed). */
  prefill: number;
  /** Requests in the pass. */
  requests: number;
}

const NO_DRAFT: Readonly<DraftBlock> = { tokens: [], q: [], drawn: [] };

/** Drafts this step's block (nothing for a request without a drafter) and lays it out. */
export async function planStep(r: ActiveRequest): Promise<PlannedStep> {
  const start = performance.now();
  const callsBefore = r.drafter?.calls ?? 0;
  const context = { tokens: r.context, constraints: r.judge.constraints, shadow: r.submitted.shadow ?? false, sharedPass: r.sharedPass };
  const block = r.drafter ? await r.policy.draft(r.drafter, r.draftLimit(), { ...context, endsGeneration: (d) => r.endsWith(d) }) : { ...NO_DRAFT, tokens: [] };
  const layout = layOutBlock(r.slot, r.context, block);
  // The batch opens at the first context token the slot does not hold; those before the root only write context.
  const prefill = r.context.length - 1 - layout.batch[0].position;
  return { block, layout, prefill, draftMs: performance.now() - start, drafterCalls: (r.drafter?.calls ?? 0) - callsBefore };
}

/**
 * Settles a run (PlannedStep with block.run: the target's own `tokens`, decoded one after the other in one call):
 * as many one-token steps as it decoded, each its own event, until one ends the generation. The slot already holds
 * every token but the last, as after any step.
 */
export function settleRun(r: ActiveRequest, plan: PlannedStep, tokens: readonly TokenId[], pass: PassReport): StepEvent[] {
  r.drafter?.commit(0, tokens);
  r.context.push(...tokens);
  r.policy.observe({
    drafted: 0,
    accepted: 0,
    qx: [],
    verifiedTokens: 1,
    passTokens: pass.tokens,
    passPrefill: pass.prefill,
    draftMs: plan.draftMs,
    verifyMs: pass.ms,
    emitted: tokens,
    decodes: tokens.length,
  });
  r.sharedPass = { tokens: 0, requests: 0 };
  const events: StepEvent[] = [];
  const end = r.context.length - tokens.length;
  for (const [i, token] of tokens.entries()) {
    const outside = outsideFinish(r.submitted.signal, end + i + 1, r.slot.contextSize) ?? (r.cancelled ? "aborted" : undefined);
    const out = r.tracker.pushStep([token], i === tokens.length - 1 ? outside : undefined);
    const first = i === 0;
    events.push({
      drafted: 0,
      accepted: 0,
      verifiedTokens: 1,
      draftMs: first ? plan.draftMs : 0,
      verifyMs: pass.ms / tokens.length,
      tokens: out.tokens,
      text: out.text,
      drafterCalls: first ? plan.drafterCalls : 0,
      targetCalls: first ? r.targetCalls : 1,
      finish: out.finish,
    });
    if (out.finish) break;
  }
  r.targetCalls = 1;
  return events;
}

/** The tokens a step emits: the accepted chain prefix, the winning sibling if any, then the bonus token. */
function emittedTokens(block: DraftBlock, accepted: number, bonus: TokenId, sibling: number | undefined): { keptDrafts: number; appended: TokenId[] } {
  if (sibling === undefined) return { keptDrafts: accepted, appended: [bonus] };
  return { keptDrafts: accepted - 1, appended: [block.siblings![sibling].token, bonus] };
}

/**
 * The rows of the kept path: the chain's rows up to its last kept draft, and the winning sibling's. Chain row d was
 * computed at the token before depth d (the context's last for d = 0); the sibling's at the sibling itself (the next
 * pass evaluates the sibling again, but asks no row of it: the bonus after it is already emitted).
 */
function keptOutputs(v: VerifiedBlock, contextLength: number, keptDrafts: number, sibling: number | undefined): TargetOutputs {
  const rows = v.layout.parentRow.slice(0, keptDrafts + 1);
  const positions = rows.map((_, d) => contextLength - 1 + d);
  if (sibling !== undefined) {
    rows.push(v.layout.siblingRow[sibling]);
    positions.push(contextLength + keptDrafts);
  }
  return { positions, logits: (i) => v.rows.row(rows[i]) };
}

/** Judges the block on its rows of the pass, rolls back, emits; returns the step event (with `finish` on the last). */
export function settleStep(r: ActiveRequest, plan: PlannedStep, rows: LogitRows, pass: PassReport): StepEvent {
  const { block, layout } = plan;
  const verified: VerifiedBlock = { layout, rows };
  const verdict = judgeBlock(verified, block, r.context, r.judge);
  const price = shadowPrice(verified, block, r.context, verdict, r.judge);
  r.submitted.inspect?.({ context: r.context, block, logitsAt: (d) => chainLogits(verified, block, r.context, r.judge, d), accepted: verdict.accepted });
  rollBack(r.slot, verified, r.context.length, verdict);
  const { keptDrafts, appended } = emittedTokens(block, verdict.accepted, verdict.bonus, verdict.sibling);
  r.drafter?.capabilities.targetReading?.observeTarget(keptOutputs(verified, r.context.length, keptDrafts, verdict.sibling));
  r.drafter?.commit(keptDrafts, appended);
  const emitted = [...block.tokens.slice(0, keptDrafts), ...appended];
  r.context.push(...emitted);
  const outcome = blockOutcome(plan, verdict.accepted, pass, emitted);
  r.policy.observe(outcome);
  r.sharedPass = { tokens: pass.tokens - pass.prefill - (layout.batch.length - plan.prefill), requests: pass.requests - 1 };
  const out = r.tracker.pushStep(emitted, outsideFinish(r.submitted.signal, r.context.length, r.slot.contextSize) ?? (r.cancelled ? "aborted" : undefined));
  const targetCalls = r.targetCalls;
  r.targetCalls = 1;
  const { drafted, accepted, verifiedTokens, draftMs, verifyMs } = outcome;
  return {
    drafted,
    accepted,
    verifiedTokens,
    draftMs,
    verifyMs,
    tokens: out.tokens,
    text: out.text,
    branches: block.siblings?.length ?? 0,
    branchAccepted: verdict.sibling !== undefined,
    cutBy: block.cutBy,
    shadowDrafted: block.shadow?.tokens.length ?? 0,
    shadowAccepted: price,
    drafterCalls: plan.drafterCalls,
    targetCalls,
    finish: out.finish,
  };
}

/** What the policy learns of a settled block. */
function blockOutcome(plan: PlannedStep, accepted: number, pass: PassReport, emitted: TokenId[]): BlockOutcome {
  const { block, layout } = plan;
  return {
    drafted: block.tokens.length,
    accepted,
    qx: block.tokens.map((t, i) => block.q[i].prob(t)),
    verifiedTokens: layout.batch.length,
    passTokens: pass.tokens,
    passPrefill: pass.prefill,
    draftMs: plan.draftMs,
    verifyMs: pass.ms,
    emitted,
  };
}
