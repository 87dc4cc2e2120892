/**
 * Losslessness, greedy: for every policy, every draft length k in 1..8 and both
 * drafters, speculative output equals the target's own greedy output token for
 * token on every prompt (50 each), on the n-gram backend and on the GGUF fixtures.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { LanguageModel } from "../src/backends/languageModel.js";
import type { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { fixturePrompts, loadFixturePair } from "./helpers/fixtures.js";
import { drafterKinds, speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { DRAFT_LENGTHS, POLICIES } from "./helpers/policies.js";

const PROMPTS = fixturePrompts(50);
const MAX_TOKENS = 40;

async function checkLossless(target: LanguageModel, draft: LanguageModel): Promise<void> {
  const options = { maxTokens: MAX_TOKENS, sampling: GREEDY };
  const expected = await Promise.all(PROMPTS.map((p) => targetOnlyTokens(target, p, options)));
  assert.ok(expected.every((e) => e.length > 0));
  for (const [drafterName, makeDrafter] of Object.entries(drafterKinds(target, draft, options))) {
    const drafter = makeDrafter();
    for (const [policyName, makePolicy] of Object.entries(POLICIES)) {
      for (const k of DRAFT_LENGTHS) {
        for (const [i, prompt] of PROMPTS.entries()) {
          const got = await speculativeTokens(target, drafter, prompt, { ...options, policy: makePolicy(k) });
          assert.deepEqual(got, expected[i], `${drafterName} drafter, ${policyName} k=${k}, prompt ${i} ${JSON.stringify(prompt)}`);
        }
      }
    }
    drafter.dispose();
  }
}

test("n-gram backend: speculative greedy equals target-only greedy for every policy, k and drafter", async () => {
  const target = NgramModel.create({ seed: 11, eosBias: -4 });
  await checkLossless(target, target.blend(0.4, 99));
});

describe("GGUF fixtures", () => {
  let pair: { target: LlamaCppModel; draft: LlamaCppModel };
  before(async () => {
    pair = await loadFixturePair();
  });
  after(() => {
    pair.target.dispose();
    pair.draft.dispose();
  });
  test("speculative greedy equals target-only greedy for every policy, k and drafter", async () => {
    await checkLossless(pair.target, pair.draft);
  });
});
