/** Call accounting on the GGUF fixtures: one target pass per block; the drafter never re-evaluates an accepted token. */
import { test } from "node:test";
import { checkCalls } from "./helpers/callCounts.js";
import { loadFixturePair } from "./helpers/fixtures.js";

test("GGUF fixtures: one target call per block, no drafter re-evaluation", async () => {
  const { target, draft } = await loadFixturePair();
  await checkCalls(target, draft);
  target.dispose();
  draft.dispose();
});
