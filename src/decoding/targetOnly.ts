/** Plain generation with the target alone: the baseline every speedup is measured against. */

import { DEFAULT_MAX_TOKENS, type GenerationOptions, type StepEvent } from "../generation/generationTypes.js";
import { OutputTracker } from "../generation/outputTracker.js";
import { checkPromptFits, outsideFinish, prefill, promptTokens } from "../generation/prompt.js";
import type { LanguageModel } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import { GREEDY } from "../sampling/samplingSettings.js";
import { tokenChooser } from "../sampling/tokenChooser.js";

/** Generates from the target alone, one token per step; yields a step event per token. */
export async function* generateTargetOnly(
  target: LanguageModel,
  prompt: string | readonly TokenId[],
  options: GenerationOptions = {},
): AsyncGenerator<StepEvent> {
  const tracker = new OutputTracker(target.vocabulary, options.maxTokens ?? DEFAULT_MAX_TOKENS, options.stop);
  const chooser = tokenChooser(options.sampling ?? GREEDY, options.constraints);
  const session = await target.createSession({ contextSize: options.contextSize });
  try {
    const tokens = promptTokens(target.vocabulary, prompt);
    checkPromptFits(tokens, session, 1);
    let start = performance.now();
    // As the speculative loop does: the prompt but its last token in prefill passes, then that token alone, so
    // both fill the cache in the same passes (which batch-invariant kernels need to give the same numbers).
    await prefill(session, tokens.slice(0, -1));
    const last = tokens.length - 1;
    let rows = await session.evaluate([{ token: tokens[last], position: last, sequences: [0], logits: true }]);
    let targetCalls = Math.ceil(last / session.batchSize) + 1;
    let position = tokens.length;
    for (;;) {
      const token = chooser.choose(rows, 0, tokens);
      const out = tracker.pushStep([token], outsideFinish(options.signal, position + 1, session.contextSize));
      yield {
        tokens: out.tokens,
        text: out.text,
        drafted: 0,
        accepted: 0,
        drafterCalls: 0,
        targetCalls,
        draftMs: 0,
        verifyMs: performance.now() - start,
        finish: out.finish,
      };
      if (out.finish) return;
      start = performance.now();
      rows = await session.evaluate([{ token, position, sequences: [0], logits: true }]);
      tokens.push(token);
      position++;
      targetCalls = 1;
    }
  } finally {
    session.dispose();
  }
}
