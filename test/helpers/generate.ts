/** Small helpers to run whole generations in tests. */
import type { LanguageModel, TokenId } from "../../src/backends/languageModel.js";
import { generateSpeculative, type SpeculativeOptions } from "../../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../../src/decoding/targetOnly.js";
import type { Drafter } from "../../src/drafters/drafter.js";
import { LookupFirstDrafter } from "../../src/drafters/lookupFirstDrafter.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { PromptLookupDrafter } from "../../src/drafters/promptLookupDrafter.js";
import type { GenerationOptions } from "../../src/generation/generationTypes.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";

export async function targetOnlyTokens(target: LanguageModel, prompt: string | TokenId[], options: GenerationOptions): Promise<TokenId[]> {
  return (await collectGeneration(generateTargetOnly(target, prompt, options))).tokens;
}

export async function speculativeTokens(target: LanguageModel, drafter: Drafter, prompt: string | TokenId[], options: SpeculativeOptions): Promise<TokenId[]> {
  return (await collectGeneration(generateSpeculative(target, drafter, prompt, options))).tokens;
}

/** The kinds of drafter, made for a target and a draft model (lookup first matches 2 tokens, so it fires often here). */
export function drafterKinds(target: LanguageModel, draft: LanguageModel, options: SpeculativeOptions = {}): Record<string, () => Drafter> {
  const sampling = options.sampling ?? GREEDY;
  return {
    model: () => new ModelDrafter(draft, sampling, { contextSize: options.contextSize, constraints: options.constraints }),
    "prompt-lookup": () => new PromptLookupDrafter(target.vocabulary.size),
    "lookup-first": () =>
      new LookupFirstDrafter(
        new ModelDrafter(draft, sampling, { contextSize: options.contextSize, constraints: options.constraints }),
        target.vocabulary.size,
        2,
      ),
  };
}
