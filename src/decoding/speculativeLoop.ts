/**
 * The speculative decoding loop. Each step:
 *   1. draft   - the policy asks the drafter for a block of up to k tokens, with q at each;
 *   2. verify  - ONE target pass over the last context token and the block gives p at all k+1 positions;
 *   3. accept  - greedy match, or speculative sampling (min(1, p/q), residual max(0, p - q));
 *   4. roll back - the target's cache drops everything past the accepted prefix; the drafter follows;
 *   5. emit    - the accepted tokens and the bonus token.
 * The target's cache always holds the context except its last token, which opens the next pass.
 */

import type { BlockVerdict } from "../acceptance/acceptanceTypes.js";
import { acceptGreedy } from "../acceptance/greedyAcceptance.js";
import { acceptSampled, type SampledAcceptanceRule } from "../acceptance/speculativeSampling.js";
import type { LanguageModel, LogitRows, ModelSession, TokenId } from "../backends/languageModel.js";
import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import { type Constraints, NO_CONSTRAINTS } from "../generation/constraints.js";
import { DEFAULT_MAX_TOKENS, type GenerationOptions, type StepEvent } from "../generation/generationTypes.js";
import { OutputTracker } from "../generation/outputTracker.js";
import { checkPromptFits, outsideFinish, prefill, promptTokens } from "../generation/prompt.js";
import { argmax, samplingDistribution } from "../sampling/distribution.js";
import { Random } from "../sampling/random.js";
import { GREEDY, type SamplingSettings } from "../sampling/samplingSettings.js";
import { ChainPolicy } from "../verifier/chainPolicy.js";
import type { DraftPolicy } from "../verifier/draftPolicy.js";

export interface SpeculativeOptions extends GenerationOptions {
  /** How each step's draft is shaped; chain with k = 4 by default. */
  policy?: DraftPolicy;
  /** The rule for sampled blocks; the lossless `acceptSampled` by default (replaceable to study other rules). */
  sampledAcceptance?: SampledAcceptanceRule;
}

/** Step 2: one target pass over [last context token, ...block]; returns the logits rows (k + 1 of them). */
async function verifyBlock(session: ModelSession, context: readonly TokenId[], block: DraftBlock) {
  const start = context.length - 1;
  const batch = [context[start], ...block.tokens].map((token, i) => ({ token, position: start + i, sequences: [0], logits: true }));
  return session.evaluate(batch);
}

/** Step 3: the acceptance rule for the sampling mode; row i is the target's logits after context + block[0..i). */
function judge(block: DraftBlock, rows: LogitRows, context: readonly TokenId[], o: JudgeSettings): BlockVerdict {
  const n = block.tokens.length + 1;
  const logits = (i: number) => (o.constraints.active ? o.constraints.apply(rows.row(i), [...context, ...block.tokens.slice(0, i)]) : rows.row(i));
  if (o.sampling.mode === "greedy")
    return acceptGreedy(
      block.tokens,
      Array.from({ length: n }, (_, i) => argmax(logits(i))),
    );
  const sampling = o.sampling;
  const p = Array.from({ length: n }, (_, i) => samplingDistribution(logits(i), sampling));
  return o.rule(block.tokens, block.q, p, o.rng!);
}

interface JudgeSettings {
  sampling: SamplingSettings;
  constraints: Constraints;
  rule: SampledAcceptanceRule;
  rng: Random | undefined;
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
  const judgeSettings: JudgeSettings = {
    sampling,
    constraints: options.constraints ?? NO_CONSTRAINTS,
    rule: options.sampledAcceptance ?? acceptSampled,
    rng: sampling.mode === "sample" ? new Random(sampling.seed) : undefined,
  };
  const session = await target.createSession({ contextSize: options.contextSize });
  try {
    const context = promptTokens(target.vocabulary, prompt);
    checkPromptFits(context, session, 1);
    await prefill(session, context.slice(0, -1), 0, false);
    await drafter.start(context);
    let start = performance.now();
    let targetCalls = Math.ceil((context.length - 1) / session.batchSize);
    for (;;) {
      const drafterCallsBefore = drafter.calls;
      const limit = Math.min(maxTokens - tracker.tokens.length - 1, session.contextSize - context.length - 1);
      const block = await policy.draft(drafter, Math.max(0, limit));
      const drafted = performance.now();
      const rows = await verifyBlock(session, context, block);
      const verdict = judge(block, rows, context, judgeSettings);
      const keep = context.length + verdict.accepted;
      if (session.sequenceLength(0) > keep) session.removeRange(0, keep);
      drafter.commit(verdict.accepted, verdict.bonus);
      const emitted = [...block.tokens.slice(0, verdict.accepted), verdict.bonus];
      context.push(...emitted);
      const verified = performance.now();
      const outcome = { drafted: block.tokens.length, accepted: verdict.accepted, draftMs: drafted - start, verifyMs: verified - drafted };
      policy.observe(outcome);
      const out = tracker.pushStep(emitted, outsideFinish(options.signal, context.length, session.contextSize));
      yield {
        ...outcome,
        tokens: out.tokens,
        text: out.text,
        drafterCalls: drafter.calls - drafterCallsBefore,
        targetCalls: targetCalls + 1,
        finish: out.finish,
      };
      if (out.finish) return;
      targetCalls = 0;
      start = performance.now();
    }
  } finally {
    session.dispose();
  }
}
