/** Loading the target and the drafter named on the command line, checked for compatibility. */

import { existsSync } from "node:fs";
import { LlamaCppModel } from "../backends/llamaCpp/llamaCppModel.js";
import { openLlamaCppModel } from "../backends/llamaCpp/openModel.js";
import type { ProcessModelOptions } from "../backends/llamaCpp/worker/processModel.js";
import type { Drafter } from "../drafters/drafter.js";
import { type DrafterSettings, isModelFreeDrafter, MODEL_FREE_DRAFTERS, createDrafter as makeDrafter } from "../drafters/drafterRegistry.js";
import { isEagleHead } from "../gguf/embedHead.js";
import type { FeatureHeadModel } from "../model/head.js";
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
  /** Undefined for prompt lookup and for a feature head. */
  draft?: LanguageModel;
  /** An EAGLE-3 head drafting from the target's states (`--draft eagle`, or a GGUF of that architecture). */
  head?: FeatureHeadModel;
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
  const headRef = withDraft ? headFile(draftRef!) : undefined;
  const useModel = withDraft && !isModelFreeDrafter(draftRef!) && !headRef;
  let draft: LanguageModel | undefined;
  let head: LlamaCppModel | undefined;
  try {
    if (useModel) {
      draft = await openLlamaCppModel(draftRef!, { threads: o.threads, ...o.drafterPlacement });
      checkCompatibleVocabularies(target.vocabulary, draft.vocabulary);
    }
    if (headRef) head = await openHead(headRef, target, o);
  } catch (e) {
    target.dispose();
    draft?.dispose();
    throw e;
  }
  return {
    target,
    draft,
    head,
    targetName: targetRef,
    draftName: withDraft ? draftRef! : "none",
    dispose() {
      head?.dispose();
      draft?.dispose();
      target.dispose();
    },
  };
}

/** A fresh drafter over the pair's draft model or head, or by the drafter's name when it has neither. */
export function createDrafter(pair: LoadedPair, settings: DrafterSettings): Drafter {
  const source = pair.head ? { head: pair.head } : pair.draft ? { model: pair.draft } : { name: pair.draftName };
  return makeDrafter(source, pair.target, settings);
}

/** The GGUF file of an EAGLE-3 head the --draft value names: `eagle` (the shipped one), or a file of that architecture. */
function headFile(draft: string): string | undefined {
  if (draft === "eagle") return embeddedModelPaths().head;
  return draft.endsWith(".gguf") && existsSync(draft) && isEagleHead(draft) ? draft : undefined;
}

/** The head, in this process beside its target (it reads the target's states and borrows its matrices); bench loads it too. */
export async function openHead(file: string, target: LanguageModel, o: Pick<ModelPairOptions, "threads">): Promise<LlamaCppModel> {
  if (!(target instanceof LlamaCppModel)) throw new RangeError("an EAGLE-3 head drafts for a target in this process, not on RPC servers");
  const head = await LlamaCppModel.load(file, { threads: o.threads });
  try {
    checkCompatibleVocabularies(target.vocabulary, head.vocabulary);
  } catch (e) {
    head.dispose();
    throw e;
  }
  return head;
}
