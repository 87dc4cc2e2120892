/** The shipped model pair: present, small, compatible, tokenizing real prompts exactly, and lossless under speculation. */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { readPromptFile } from "../src/bench/promptFile.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { checkCompatibleVocabularies } from "../src/model/vocabularyCompatibility.js";
import { ChainPolicy } from "../src/policies/chainPolicy.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { packageRoot } from "../src/util/packageRoot.js";
import { speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";

const HUMANEVAL = path.join(packageRoot(), "..", "shared", "bench", "humaneval.jsonl");
let target: LlamaCppModel;
let draft: LlamaCppModel;

before(async () => {
  const p = embeddedModelPaths();
  [target, draft] = [await LlamaCppModel.load(p.target, { threads: 2 }), await LlamaCppModel.load(p.draft, { threads: 2 })];
});
after(() => {
  target.dispose();
  draft.dispose();
});

test("the embedded pair is at most 40 MB and shares one vocabulary", () => {
  const p = embeddedModelPaths();
  assert.ok(statSync(p.target).size + statSync(p.draft).size <= 40_000_000);
  assert.equal(target.vocabulary.size, 8192);
  checkCompatibleVocabularies(target.vocabulary, draft.vocabulary);
});

test("every HumanEval prompt survives detokenize(tokenize(x)) exactly", () => {
  for (const prompt of readPromptFile(HUMANEVAL)) {
    const tokens = target.vocabulary.tokenize(prompt);
    assert.equal(Buffer.concat(tokens.map((t) => target.vocabulary.piece(t))).toString("utf8"), prompt);
  }
});

test("speculative greedy on the trained pair equals the target's own greedy output", async () => {
  const options = { maxTokens: 32, sampling: GREEDY };
  const drafter = new ModelDrafter(draft, GREEDY);
  for (const prompt of readPromptFile(HUMANEVAL).slice(0, 6)) {
    const expected = await targetOnlyTokens(target, prompt.trimEnd(), options);
    assert.ok(expected.length > 0);
    for (const k of [1, 4, 8])
      assert.deepEqual(await speculativeTokens(target, drafter, prompt.trimEnd(), { ...options, policy: new ChainPolicy(k) }), expected, `k=${k}`);
  }
  drafter.dispose();
});
