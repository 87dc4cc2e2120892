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
import type { LanguageModel, ModelSession, TokenId, Vocabulary } from "../backends/languageModel.js";
import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import { NO_CONSTRAINTS } from "../generation/constraints.js";
import { endsGeneration } from "../generation/generationEnd.js";
import { DEFAULT_MAX_TOKENS, type GenerationOptions, type StepEvent } from "../generation/generationTypes.js";
import { OutputTracker } from "../generation/outputTracker.js";
import { checkPromptFits, outsideFinish, prefill, promptTokens } from "../generation/prompt.js";
import { Random } from "../sampling/random.js";
import { GREEDY } from "../sampling/samplingSettings.js";
import { ChainPolicy } from "../verifier/chainPolicy.js";
import type { DraftPolicy } from "../verifier/draftPolicy.js";
import { chainLogits, type JudgeSettings, judgeBlock, rollBack, shadowPrice, verifyBlock } from "./blockVerification.js";

export interface SpeculativeOptions extends GenerationOptions {
  /** How each step's draft is shaped; chain with k = 4 by default. */
  policy?: DraftPolicy;
  /** Shadow mode: also verify what the verifier cut, to price each cut (costs drafter work). */
  shadow?: boolean;
  /** The rule for sampled chains; the lossless `acceptSampled` by default (replaceable to study other rules). */
  sampledAcceptance?: SampledAcceptanceRule;
  /** The rule for sampled trees; the lossless `acceptSampledTree` by default. */
  sampledTreeAcceptance?: SampledTreeRule;
  /** Sees each verified block with the target's (constrained) logits at every chain depth; for collecting training data. */
  inspect?: (v: { context: readonly TokenId[]; block: DraftBlock; logitsAt(depth: number): Float32Array; accepted: number }) => void;
}

/** The tokens a step emits: the accepted chain prefix, the winning sibling if any, then the bonus token. */
function emittedTokens(block: DraftBlock, accepted: number, bonus: TokenId, sibling: number | undefined): { keptDrafts: number; appended: TokenId[] } {
  if (sibling === undefined) return { keptDrafts: accepted, appended: [bonus] };
  return { keptDrafts: accepted - 1, appended: [block.siblings![sibling].token, bonus] };
}

/** What one step did, before the output tracker turns it into a step event. */
interface StepResult {
  emitted: TokenId[];
  event: Omit<StepEvent, "tokens" | "text" | "targetCalls" | "finish">;
}

/** Everything a step needs that stays fixed during a generation. */
interface StepSetup {
  session: ModelSession;
  drafter: Drafter;
  policy: DraftPolicy;
  judge: JudgeSettings;
  shadow: boolean;
  inspect: SpeculativeOptions["inspect"];
  vocabulary: Vocabulary;
  stop: readonly string[];
}

/** Steps 1-5 for one block; `context` grows by the emitted tokens. */
async function speculativeStep(s: StepSetup, context: TokenId[], limit: number): Promise<StepResult> {
  const start = performance.now();
  const drafterCallsBefore = s.drafter.calls;
  const ends = (drafted: readonly TokenId[]) => endsGeneration(s.vocabulary, s.stop, context, drafted);
  const block = await s.policy.draft(s.drafter, limit, { tokens: context, constraints: s.judge.constraints, shadow: s.shadow, endsGeneration: ends });
  const drafted = performance.now();
  const verified = await verifyBlock(s.session, context, block);
  const verdict = judgeBlock(verified, block, context, s.judge);
  const price = shadowPrice(verified, block, context, verdict, s.judge);
  s.inspect?.({ context, block, logitsAt: (d) => chainLogits(verified, block, context, s.judge, d), accepted: verdict.accepted });
  rollBack(s.session, verified, context.length, verdict);
  const { keptDrafts, appended } = emittedTokens(block, verdict.accepted, verdict.bonus, verdict.sibling);
  s.drafter.commit(keptDrafts, appended);
  const emitted = [...block.tokens.slice(0, keptDrafts), ...appended];
  context.push(...emitted);
  const outcome = {
    drafted: block.tokens.length,
    accepted: verdict.accepted,
    qx: block.tokens.map((t, i) => block.q[i][t]),
    verifiedTokens: verified.layout.batch.length,
    draftMs: drafted - start,
    verifyMs: performance.now() - drafted,
  };
  s.policy.observe(outcome);
  const event = {
    ...outcome,
    branches: block.siblings?.length ?? 0,
    branchAccepted: verdict.sibling !== undefined,
    cutBy: block.cutBy,
    shadowDrafted: block.shadow?.tokens.length ?? 0,
    shadowAccepted: price,
    drafterCalls: s.drafter.calls - drafterCallsBefore,
  };
  return { emitted, event };
}

function judgeSettings(options: SpeculativeOptions): JudgeSettings {
  const sampling = options.sampling ?? GREEDY;
  return {
    sampling,
    constraints: options.constraints ?? NO_CONSTRAINTS,
    chainRule: options.sampledAcceptance ?? acceptSampled,
    treeRule: options.sampledTreeAcceptance ?? acceptSampledTree,
    rng: sampling.mode === "sample" ? new Random(sampling.seed) : undefined,
  };
}

/** Generates with a drafter and the target; yields one step event per verified block. The caller owns the drafter. */
export async function* generateSpeculative(
  target: LanguageModel,
  drafter: Drafter,
  prompt: string | readonly TokenId[],
  options: SpeculativeOptions = {},
): AsyncGenerator<StepEvent> {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const tracker = new OutputTracker(target.vocabulary, maxTokens, options.stop);
  const policy = options.policy ?? new ChainPolicy();
  const session = await target.createSession({ contextSize: options.contextSize, maxSequences: policy.maxSequences });
  const setup: StepSetup = {
    session,
    drafter,
    policy,
    judge: judgeSettings(options),
    shadow: options.shadow ?? false,
    inspect: options.inspect,
    vocabulary: target.vocabulary,
    stop: options.stop ?? [],
  };
  try {
    const context = promptTokens(target.vocabulary, prompt);
    checkPromptFits(context, session, 1);
    await prefill(session, context.slice(0, -1), 0, false);
    await drafter.start(context);
    let targetCalls = Math.ceil((context.length - 1) / session.batchSize) + 1;
    for (;;) {
      const limit = Math.max(0, Math.min(maxTokens - tracker.tokens.length - 1, session.contextSize - context.length - 1));
      const { emitted, event } = await speculativeStep(setup, context, limit);
      const out = tracker.pushStep(emitted, outsideFinish(options.signal, context.length, session.contextSize));
      yield { ...event, tokens: out.tokens, text: out.text, targetCalls, finish: out.finish };
      if (out.finish) return;
      targetCalls = 1;
    }
  } finally {
    session.dispose();
  }
}
