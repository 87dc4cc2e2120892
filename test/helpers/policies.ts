/** Every draft policy, by name, as made for a draft length k: the losslessness suites run them all. */
import { ChainPolicy } from "../../src/verifier/chainPolicy.js";
import type { DraftPolicy } from "../../src/verifier/draftPolicy.js";
import { HeuristicPolicy } from "../../src/verifier/heuristicPolicy.js";

export const POLICIES: Record<string, (k: number) => DraftPolicy> = {
  chain: (k) => new ChainPolicy(k),
  heuristic: (k) => new HeuristicPolicy(k),
};

export const DRAFT_LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8];
