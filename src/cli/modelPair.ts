/** Loading the target and the drafter named on the command line, checked for compatibility. */
import type { LanguageModel } from "../backends/languageModel.js";
import { openLlamaCppModel } from "../backends/llamaCpp/openModel.js";
import type { ProcessModelOptions } from "../backends/llamaCpp/worker/processModel.js";
import { checkCompatibleVocabularies } from "../backends/vocabularyCompatibility.js";
import type { Drafter } from "../drafters/drafter.js";
import { ModelDrafter } from "../drafters/modelDrafter.js";
import { PromptLookupDrafter } from "../drafters/promptLookupDrafter.js";
import type { Constraints } from "../generation/constraints.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import { embeddedModelPaths } from "../util/embeddedModels.js";

/** The --draft value that selects prompt-lookup drafting instead of a draft model. */
export const PROMPT_LOOKUP = "prompt-lookup";

export interface ModelPairOptions {
  target?: string;
  /** A draft model reference, PROMPT_LOOKUP, or undefined for the embedded drafter. */
  draft?: string;
  threads?: number;
  /** Where the target runs (a device, RPC servers) and the drafter (a local device). */
  targetPlacement?: ProcessModelOptions;
  drafterPlacement?: ProcessModelOptions;
}

export interface LoadedPair {
  target: LanguageModel;
  /** Undefined for prompt lookup. */
  draft?: LanguageModel;
  targetName: string;
  draftName: string;
  dispose(): void;
}

export async function loadModelPair(o: ModelPairOptions, withDraft: boolean): Promise<LoadedPair> {
  const embedded = embeddedModelPaths();
  const targetRef = o.target ?? embedded.target;
  const draftRef = o.draft ?? (o.target ? undefined : embedded.draft);
  if (withDraft && draftRef === undefined) throw new RangeError(`--draft is needed with a --target of your own (a GGUF drafter or "${PROMPT_LOOKUP}")`);
  const target = await openLlamaCppModel(targetRef, { threads: o.threads, ...o.targetPlacement });
  const useModel = withDraft && draftRef !== PROMPT_LOOKUP;
  let draft: LanguageModel | undefined;
  try {
    if (useModel) {
      draft = await openLlamaCppModel(draftRef!, { threads: o.threads, ...o.drafterPlacement });
      checkCompatibleVocabularies(target.vocabulary, draft.vocabulary);
    }
  } catch (e) {
    target.dispose();
    draft?.dispose();
    throw e;
  }
  return {
    target,
    draft,
    targetName: targetRef,
    draftName: withDraft ? draftRef! : "none",
    dispose() {
      draft?.dispose();
      target.dispose();
    },
  };
}

/** A fresh drafter over the pair's draft model, or prompt lookup when it has none. */
export function createDrafter(pair: LoadedPair, sampling: SamplingSettings, contextSize?: number, constraints?: Constraints): Drafter {
  return pair.draft ? new ModelDrafter(pair.draft, sampling, { contextSize, constraints }) : new PromptLookupDrafter(pair.target.vocabulary.size);
}
