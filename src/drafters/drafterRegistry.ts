/**
 * How a drafter is made, by name: drafters that need no model of their own are registered here, and any
 * other --draft value names a draft model. One place decides, for the CLI, the server and the benchmark alike.
 */
import type { FeatureHeadModel } from "../model/head.js";
import type { LanguageModel } from "../model/session.js";
import type { Constraints } from "../sampling/constraints.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import { DEFAULT_FREE_MIN_MATCH, type Drafter, type FreeDrafter } from "./drafter.js";
import { EagleDrafter } from "./eagleDrafter.js";
import { ModelDrafter } from "./modelDrafter.js";
import { MultiSourceDrafter } from "./multiSourceDrafter.js";
import { PromptLookupDrafter } from "./promptLookupDrafter.js";
import type { SuffixCorpus } from "./suffixCorpus.js";
import { SuffixDrafter } from "./suffixDrafter.js";

/** The sources that draft at no model cost, by name. */
export type FreeSourceName = "suffix" | "lookup";

/** What a free source is made with. */
interface FreeSettings {
  vocabSize: number;
  minMatch: number;
  corpus?: SuffixCorpus;
}

const FREE: Record<FreeSourceName, (s: FreeSettings) => FreeDrafter> = {
  suffix: (s) => new SuffixDrafter(s.vocabSize, { minMatch: s.minMatch, corpus: s.corpus }),
  lookup: (s) => new PromptLookupDrafter(s.vocabSize, Math.max(s.minMatch, 3), s.minMatch),
};

/** Drafters without a model, by the name --draft takes: each free source alone, or both ("ngram"). */
const MODEL_FREE: Record<string, readonly FreeSourceName[]> = {
  suffix: ["suffix"],
  "prompt-lookup": ["lookup"],
  ngram: ["suffix", "lookup"],
};

/** The names of drafters that need no model. */
export const MODEL_FREE_DRAFTERS = Object.keys(MODEL_FREE);

/** Free sources that draft before a draft model by default: suffix drafting, then prompt lookup. */
export const DEFAULT_FREE_SOURCES: readonly FreeSourceName[] = ["suffix", "lookup"];

/** Whether a --draft value names a drafter without a model (rather than a draft model). */
export function isModelFreeDrafter(name: string): boolean {
  return name in MODEL_FREE;
}

/** What drafts: a draft model, a feature head (EAGLE-3), a drafter without a model by name, or free sources alone. */
export type DrafterSource = { model: LanguageModel } | { head: FeatureHeadModel } | { name: string } | { free: readonly FreeSourceName[] };

export interface DrafterSettings {
  sampling: SamplingSettings;
  contextSize?: number;
  constraints?: Constraints;
  /**
   * With a draft model or a feature head: the free sources that draft a block before it, where they find a match of at
   * least `freeMinMatch` tokens (and among which an adaptive policy chooses by cost and acceptance). None by default.
   */
  free?: readonly FreeSourceName[];
  /** Shortest match a free source drafts from; DEFAULT_FREE_MIN_MATCH (3) by default. */
  freeMinMatch?: number;
  /** Earlier generations the suffix source drafts from too (a server's shared corpus). */
  corpus?: SuffixCorpus;
  /** With a draft model: it is shared with other requests' drafters (ModelDrafterOptions.shared). */
  sharedModel?: boolean;
}

function freeDrafters(names: readonly FreeSourceName[], target: LanguageModel, s: DrafterSettings): FreeDrafter[] {
  const settings = { vocabSize: target.vocabulary.size, minMatch: s.freeMinMatch ?? DEFAULT_FREE_MIN_MATCH, corpus: s.corpus };
  if (!Number.isInteger(settings.minMatch) || settings.minMatch < 1)
    throw new RangeError(`the free sources' match must be a whole number of tokens >= 1, got ${settings.minMatch}`);
  return names.map((n) => FREE[n](settings));
}

/** A fresh drafter for one generation against `target`. */
export function createDrafter(source: DrafterSource, target: LanguageModel, s: DrafterSettings): Drafter {
  if ("head" in source || "model" in source) {
    const drafter =
      "head" in source
        ? new EagleDrafter(source.head, s.sampling, s.constraints)
        : new ModelDrafter(source.model, s.sampling, {
            contextSize: s.contextSize,
            constraints: s.constraints,
            shared: s.sharedModel,
            targetVocabularySize: target.vocabulary.size,
          });
    return s.free && s.free.length > 0 ? new MultiSourceDrafter(freeDrafters(s.free, target, s), drafter) : drafter;
  }
  const names = "free" in source ? source.free : MODEL_FREE[source.name];
  if (!names || names.length === 0)
    throw new RangeError(`unknown drafter "${"name" in source ? source.name : ""}"; drafters without a model: ${MODEL_FREE_DRAFTERS.join(", ")}`);
  const free = freeDrafters(names, target, s);
  return free.length === 1 ? free[0] : new MultiSourceDrafter(free);
}
