/** Draft policies by name, for the CLI and benchmarks. */
import { ChainPolicy } from "./chainPolicy.js";
import type { DraftPolicy } from "./draftPolicy.js";
import { HeuristicPolicy } from "./heuristicPolicy.js";

export interface PolicyOptions {
  /** Draft length k (the initial one for adaptive policies). */
  k: number;
}

const FACTORIES: Record<string, (o: PolicyOptions) => DraftPolicy> = {
  chain: (o) => new ChainPolicy(o.k),
  heuristic: (o) => new HeuristicPolicy(o.k),
};

export const POLICY_NAMES = Object.keys(FACTORIES);

/** A fresh policy; an unknown name is refused, listing the known ones. */
export function createPolicy(name: string, options: PolicyOptions): DraftPolicy {
  const factory = FACTORIES[name];
  if (!factory) throw new RangeError(`unknown policy "${name}"; known policies: ${POLICY_NAMES.join(", ")}`);
  return factory(options);
}
