/**
 * The speculative decoding loop. Each step:
 *   1. draft    - the policy asks the drafter for a block of up to k tokens with q at each
 *                 (a chain, or a tree with alternatives at uncertain positions);
 *   2. verify   - ONE target pass over the last context token and the block gives p at every node;
 *   3. accept   - greedy match, or speculative sampling (min(1, p/q), residual max(0, p - q));
 *   4. roll back - the target's cache keeps only the accepted path; the drafter follows;
 *   5. emit     - the accepted tokens and the bonus token.
 * The target's cache always holds the context except its last token, which opens the next pass.
 */
import { acceptSampled, type SampledAcceptanceRule } from "../acceptance/speculativeSampling.js";
import { acceptSampledTree, type SampledTreeRule } from "../acceptance/treeAcceptance.js";
import type { LanguageModel, TokenId } from "../backends/languageModel.js";
import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import { NO_CONSTRAINTS } from "../generation/constraints.js";
import { DEFAULT_MAX_TOKENS, type GenerationOptions, type StepEvent } from "../generation/generationTypes.js";
import { OutputTracker } from "../generation/outputTracker.js";
import { checkPromptFits, outsideFinish, prefill, promptTokens } from "../generation/prompt.js";
import { Random } from "../sampling/random.js";
import { GREEDY } from "../sampling/samplingSettings.js";
import { ChainPolicy } from "../verifier/chainPolicy.js";
import type { DraftPolicy } from "../verifier/draftPolicy.js";
import { type JudgeSettings, judgeBlock, rollBack, shadowPrice, verifyBlock } from "./blockVerification.js";

export interface SpeculativeOptions extends GenerationOptions {
  /** How each step's draft is shaped; chain with k = 4 by default. */
  policy?: DraftPolicy;
  /** Shadow mode: also verify what the verifier cut, to price each cut (costs drafter work). */
  shadow?: boolean;
  /** The rule for sampled chains; the lossless `acceptSampled` by default (replaceable to study other rules). */
  sampledAcceptance?: SampledAcceptanceRule;
  /** The rule for sampled trees; the lossless `acceptSampledTree` by default. */
  sampledTreeAcceptance?: SampledTreeRule;
}

/** The tokens a step emits: the accepted chain prefix, the winning sibling if any, then the bonus token. */
function emittedTokens(block: DraftBlock, accepted: number, bonus: TokenId, sibling: number | undefined): { keptDrafts: number; appended: TokenId[] } {
  if (sibling === undefined) return { keptDrafts: accepted, appended: [bonus] };
  return { keptDrafts: accepted - 1, appended: [block.siblings![sibling].token, bonus] };
}

/** Generates with a drafter and the target; yields one step event per verified block. The caller owns the drafter. */
export async function* generateSpeculative(
  target: LanguageModel,
  drafter: Drafter,
  prompt: string | readonly TokenId[],
  options: SpeculativeOptions = {},
): AsyncGenerator<StepEvent> {
  const sampling = options.sampling ?? GREEDY;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const tracker = new OutputTracker(target.vocabulary, maxTokens, options.stop);
  const policy = options.policy ?? new ChainPolicy();
  const constraints = options.constraints ?? NO_CONSTRAINTS;
  const judge: JudgeSettings = {
    sampling,
    constraints,
    chainRule: options.sampledAcceptance ?? acceptSampled,
    treeRule: options.sampledTreeAcceptance ?? acceptSampledTree,
    rng: sampling.mode === "sample" ? new Random(sampling.seed) : undefined,
  };
  const session = await target.createSession({ contextSize: options.contextSize, maxSequences: policy.maxSequences });
  try {
    const context = promptTokens(target.vocabulary, prompt);
    checkPromptFits(context, session, 1);
    await prefill(session, context.slice(0, -1), 0, false);
    await drafter.start(context);
    let targetCalls = Math.ceil((context.length - 1) / session.batchSize);
    for (;;) {
      const start = performance.now();
      const drafterCallsBefore = drafter.calls;
      const limit = Math.max(0, Math.min(maxTokens - tracker.tokens.length - 1, session.contextSize - context.length - 1));
      const block = await policy.draft(drafter, limit, { tokens: context, constraints, shadow: options.shadow ?? false });
      const drafted = performance.now();
      const verified = await verifyBlock(session, context, block);
      const verdict = judgeBlock(verified, block, context, judge);
      const price = shadowPrice(verified, block, context, verdict, judge);
      rollBack(session, verified, context.length, verdict);
      const { keptDrafts, appended } = emittedTokens(block, verdict.accepted, verdict.bonus, verdict.sibling);
      drafter.commit(keptDrafts, appended);
      const emitted = [...block.tokens.slice(0, keptDrafts), ...appended];
      context.push(...emitted);
      const done = performance.now();
      const outcome = {
        drafted: block.tokens.length,
        accepted: verdict.accepted,
        qx: block.tokens.map((t, i) => block.q[i][t]),
        verifiedTokens: verified.layout.batch.length,
        draftMs: drafted - start,
        verifyMs: done - drafted,
      };
      policy.observe(outcome);
      const out = tracker.pushStep(emitted, outsideFinish(options.signal, context.length, session.contextSize));
      yield {
        ...outcome,
        tokens: out.tokens,
        text: out.text,
        branches: block.siblings?.length ?? 0,
        branchAccepted: verdict.sibling !== undefined,
        cutBy: block.cutBy,
        shadowDrafted: block.shadow?.tokens.length ?? 0,
        shadowAccepted: price,
        drafterCalls: drafter.calls - drafterCallsBefore,
        targetCalls: targetCalls + 1,
        finish: out.finish,
      };
      if (out.finish) return;
      targetCalls = 0;
    }
  } finally {
    session.dispose();
  }
}
