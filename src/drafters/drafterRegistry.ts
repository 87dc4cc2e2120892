/**
 * How a drafter is made, by name: drafters that need no model of their own are registered here, and any
 * other --draft value names a draft model. One place decides, for the CLI and the benchmark alike.
 */
import type { LanguageModel } from "../backends/languageModel.js";
import type { Constraints } from "../generation/constraints.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import type { Drafter } from "./drafter.js";
import { LookupFirstDrafter } from "./lookupFirstDrafter.js";
import { ModelDrafter } from "./modelDrafter.js";
import { PromptLookupDrafter } from "./promptLookupDrafter.js";

/** Drafters without a model, by the name --draft takes. */
const MODEL_FREE: Record<string, (target: LanguageModel) => Drafter> = {
  "prompt-lookup": (target) => new PromptLookupDrafter(target.vocabulary.size),
};

/** The names of drafters that need no model. */
export const MODEL_FREE_DRAFTERS = Object.keys(MODEL_FREE);

/** Whether a --draft value names a drafter without a model (rather than a draft model). */
export function isModelFreeDrafter(name: string): boolean {
  return name in MODEL_FREE;
}

/** What drafts: a draft model, or a drafter without one, by name. */
export type DrafterSource = { model: LanguageModel } | { name: string };

export interface DrafterSettings {
  sampling: SamplingSettings;
  contextSize?: number;
  constraints?: Constraints;
  /**
   * With a draft model: try prompt lookup first, and let the model draft only the blocks for which the
   * context's last `lookupFirst` tokens (or more) did not occur earlier (LookupFirstDrafter). Off by default.
   */
  lookupFirst?: number;
  /** With a draft model: it is shared with other requests' drafters (ModelDrafterOptions.shared). */
  sharedModel?: boolean;
}

/** A fresh drafter for one generation against `target`. */
export function createDrafter(source: DrafterSource, target: LanguageModel, s: DrafterSettings): Drafter {
  if ("model" in source) {
    const model = new ModelDrafter(source.model, s.sampling, { contextSize: s.contextSize, constraints: s.constraints, shared: s.sharedModel });
    return s.lookupFirst === undefined ? model : new LookupFirstDrafter(model, target.vocabulary.size, s.lookupFirst);
  }
  const make = MODEL_FREE[source.name];
  if (!make) throw new RangeError(`unknown drafter "${source.name}"; drafters without a model: ${MODEL_FREE_DRAFTERS.join(", ")}`);
  return make(target);
}
