/** What 8 concurrent server requests ask for in the identity tests: every policy, and each drafter kind. */
export const EVERY_POLICY_AND_DRAFTER: Record<string, unknown>[] = [
  { policy: "chain", k: 4 },
  { policy: "tree", k: 4 },
  { policy: "adaptive" },
  { policy: "cascade", k: 6 },
  { policy: "heuristic", k: 3 },
  { policy: "chain", k: 8, draft: "suffix" },
  { policy: "chain", k: 4, draft: "prompt-lookup" },
  { draft: "none" },
];
