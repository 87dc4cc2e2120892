/** The n-gram test model, and the target alone on it: greedy output by hand, seeded sampling that repeats. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { generateTargetOnly } from "../../src/decoding/targetOnly.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { argmax } from "../../src/sampling/distribution.js";
import { samplingFrom } from "../../src/sampling/samplingSettings.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

test("the n-gram model's logits depend on exactly the last order-1 tokens and the seed", () => {
  const v = model.vocabulary;
  // Order 3: only the last two tokens matter, so "xxab" and "ab" give identical logits.
  assert.deepEqual(model.logitsAfter(v.tokenize("zzab")), model.logitsAfter(v.tokenize("ab")));
  assert.notDeepEqual(model.logitsAfter(v.tokenize("ab")), model.logitsAfter(v.tokenize("ba")));
  assert.notDeepEqual(NgramModel.create({ seed: 22 }).logitsAfter(v.tokenize("ab")), model.logitsAfter(v.tokenize("ab")));
});

test("greedy target-only output follows the argmax chain by hand", async () => {
  const run = await collectGeneration(generateTargetOnly(model, "the", { maxTokens: 5 }));
  const context = model.vocabulary.tokenize("the");
  const expected: number[] = [];
  for (let i = 0; i < 5; i++) {
    const next = argmax(model.logitsAfter([...context, ...expected]));
    if (next === model.vocabulary.eos) break;
    expected.push(next);
  }
  assert.deepEqual(run.tokens, expected);
  assert.equal(run.steps.at(-1)!.finish, expected.length === 5 ? "max-tokens" : "eos");
});

test("seeded sampling repeats exactly, and different seeds differ", async () => {
  const gen = (seed: number) => collectGeneration(generateTargetOnly(model, "a", { maxTokens: 30, sampling: samplingFrom({ temperature: 1, seed }) }));
  assert.deepEqual((await gen(1)).tokens, (await gen(1)).tokens);
  assert.notDeepEqual((await gen(1)).tokens, (await gen(2)).tokens);
});
