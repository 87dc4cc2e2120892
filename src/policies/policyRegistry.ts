/** Draft policies by name, for the CLI and benchmarks. */
import type { AcceptanceScorer } from "./acceptanceScorer.js";
import type { AdaptiveMemory } from "./adaptiveMemory.js";
import { type AdaptiveOptions, AdaptivePolicy } from "./adaptivePolicy.js";
import { type CascadeOptions, CascadePolicy } from "./cascadePolicy.js";
import { ChainPolicy } from "./chainPolicy.js";
import type { DraftPolicy } from "./draftPolicy.js";
import { HeuristicPolicy } from "./heuristicPolicy.js";
import { type TreeOptions, TreePolicy } from "./treePolicy.js";

export interface PolicyOptions {
  /** Draft length k (the chain length of a tree, the longest cascade block, the initial length of adaptive policies). */
  k: number;
  tree?: Omit<TreeOptions, "k">;
  cascade?: Omit<CascadeOptions, "k" | "scorer">;
  adaptive?: Omit<AdaptiveOptions, "initialK" | "scorer">;
  /** A learned acceptance scorer for the cascade's stage 3 and the adaptive stop rule. */
  scorer?: AcceptanceScorer;
  /** What adaptive policies created with these options share across generations (see AdaptiveMemory). */
  adaptiveMemory?: AdaptiveMemory;
}

const FACTORIES: Record<string, (o: PolicyOptions) => DraftPolicy> = {
  chain: (o) => new ChainPolicy(o.k),
  heuristic: (o) => new HeuristicPolicy(o.k),
  tree: (o) => new TreePolicy({ ...o.tree, k: o.k }),
  cascade: (o) => new CascadePolicy({ ...o.cascade, k: o.k, scorer: o.scorer }),
  adaptive: (o) => new AdaptivePolicy({ ...o.adaptive, initialK: o.k, scorer: o.scorer, memory: o.adaptiveMemory }),
};

export const POLICY_NAMES = Object.keys(FACTORIES);

/** A fresh policy; an unknown name is refused, listing the known ones. */
export function createPolicy(name: string, options: PolicyOptions): DraftPolicy {
  const factory = FACTORIES[name];
  if (!factory) throw new RangeError(`unknown policy "${name}"; known policies: ${POLICY_NAMES.join(", ")}`);
  return factory(options);
}
