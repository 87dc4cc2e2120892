/** Small helpers to run whole generations in tests. */

import { generateSpeculative, type SpeculativeOptions } from "../../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../../src/decoding/targetOnly.js";
import type { Drafter } from "../../src/drafters/drafter.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { MultiSourceDrafter } from "../../src/drafters/multiSourceDrafter.js";
import { PromptLookupDrafter } from "../../src/drafters/promptLookupDrafter.js";
import { SuffixDrafter } from "../../src/drafters/suffixDrafter.js";
import type { GenerationOptions } from "../../src/generation/generationTypes.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import type { LanguageModel } from "../../src/model/session.js";
import type { TokenId } from "../../src/model/vocabulary.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";

export async function targetOnlyTokens(target: LanguageModel, prompt: string | TokenId[], options: GenerationOptions): Promise<TokenId[]> {
  return (await collectGeneration(generateTargetOnly(target, prompt, options))).tokens;
}

export async function speculativeTokens(target: LanguageModel, drafter: Drafter, prompt: string | TokenId[], options: SpeculativeOptions): Promise<TokenId[]> {
  return (await collectGeneration(generateSpeculative(target, drafter, prompt, options))).tokens;
}

/** The kinds of drafter, made for a target and a draft model (free sources first match 2 tokens, so they fire often here). */
export function drafterKinds(target: LanguageModel, draft: LanguageModel, options: SpeculativeOptions = {}): Record<string, () => Drafter> {
  const sampling = options.sampling ?? GREEDY;
  return {
    model: () =>
      new ModelDrafter(draft, sampling, { contextSize: options.contextSize, constraints: options.constraints, targetVocabularySize: target.vocabulary.size }),
    "prompt-lookup": () => new PromptLookupDrafter(target.vocabulary.size),
    suffix: () => new SuffixDrafter(target.vocabulary.size, { minMatch: 2 }),
    "lookup-first": () =>
      new MultiSourceDrafter(
        [new PromptLookupDrafter(target.vocabulary.size, 3, 2)],
        new ModelDrafter(draft, sampling, { contextSize: options.contextSize, constraints: options.constraints, targetVocabularySize: target.vocabulary.size }),
      ),
    "free-first": () =>
      new MultiSourceDrafter(
        [new SuffixDrafter(target.vocabulary.size, { minMatch: 2 }), new PromptLookupDrafter(target.vocabulary.size, 3, 2)],
        new ModelDrafter(draft, sampling, { contextSize: options.contextSize, constraints: options.constraints, targetVocabularySize: target.vocabulary.size }),
      ),
  };
}
