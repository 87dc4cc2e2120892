/** Every draft policy, by name, as made for a draft length k: the losslessness suites run them all. */
import { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";
import { CascadePolicy } from "../../src/policies/cascadePolicy.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import type { DraftPolicy } from "../../src/policies/draftPolicy.js";
import { HeuristicPolicy } from "../../src/policies/heuristicPolicy.js";
import { TreePolicy } from "../../src/policies/treePolicy.js";
import { handMadeHead } from "./heads.js";

export const POLICIES: Record<string, (k: number) => DraftPolicy> = {
  chain: (k) => new ChainPolicy(k),
  heuristic: (k) => new HeuristicPolicy(k),
  // Branch everywhere (branchBelow > 1) so the tree paths are exercised on every block.
  tree: (k) => new TreePolicy({ k, budget: 6, width: 2, branchBelow: 1.01 }),
  cascade: (k) => new CascadePolicy({ k }),
  adaptive: (k) => new AdaptivePolicy({ initialK: k }),
  // With a learned head in use: the head only chooses what to verify.
  "cascade+head": (k) => new CascadePolicy({ k, scorer: handMadeHead(), minScore: 0.5 }),
  "adaptive+head": (k) => new AdaptivePolicy({ initialK: k, scorer: handMadeHead() }),
};

export const DRAFT_LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8];
