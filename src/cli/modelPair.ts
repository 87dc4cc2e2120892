/** Loading the target and the drafter named on the command line, checked for compatibility. */

import { openLlamaCppModel } from "../backends/llamaCpp/openModel.js";
import type { ProcessModelOptions } from "../backends/llamaCpp/worker/processModel.js";
import type { Drafter } from "../drafters/drafter.js";
import { type DrafterSettings, isModelFreeDrafter, MODEL_FREE_DRAFTERS, createDrafter as makeDrafter } from "../drafters/drafterRegistry.js";
import type { LanguageModel } from "../model/session.js";
import { checkCompatibleVocabularies } from "../model/vocabularyCompatibility.js";
import { embeddedModelPaths } from "../util/embeddedModels.js";

export interface ModelPairOptions {
  target?: string;
  /** A draft model reference, the name of a drafter without a model (drafterRegistry), or undefined for the embedded drafter. */
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
  if (withDraft && draftRef === undefined)
    throw new RangeError(`--draft is needed with a --target of your own (a GGUF drafter or one of: ${MODEL_FREE_DRAFTERS.join(", ")})`);
  const target = await openLlamaCppModel(targetRef, { threads: o.threads, ...o.targetPlacement });
  const useModel = withDraft && !isModelFreeDrafter(draftRef!);
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
export function createDrafter(pair: LoadedPair, settings: DrafterSettings): Drafter {
  return makeDrafter(pair.draft ? { model: pair.draft } : { name: pair.draftName }, pair.target, settings);
}
