/** Where generation stops: stop strings (text held back until ruled out), max tokens, EOS, an abort. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CharacterVocabulary } from "../../src/backends/ngram/characterVocabulary.js";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { OutputTracker } from "../../src/generation/outputTracker.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

test("stop strings end generation and are not emitted; text held back is released when ruled out", () => {
  const v = new CharacterVocabulary();
  const tracker = new OutputTracker(v, 100, ["cat"]);
  assert.equal(tracker.push(v.tokenize("a c")).text, "a "); // "c" might start "cat": held back
  assert.equal(tracker.push(v.tokenize("o")).text, "co"); // "co" is not a prefix of "cat": released
  const end = tracker.push(v.tokenize("ncat!".replace("!", "")));
  assert.equal(end.text, "n");
  assert.equal(end.finish, "stop");
});

test("generation stops at max tokens, at EOS, and on abort", async () => {
  const v = model.vocabulary;
  const tracker = new OutputTracker(v, 3);
  assert.deepEqual(tracker.push(v.tokenize("abcd")).tokens, v.tokenize("abc"));
  assert.equal(tracker.finish, "max-tokens");
  const eos = new OutputTracker(v, 10);
  const out = eos.push([...v.tokenize("ab"), v.eos, ...v.tokenize("c")]);
  assert.deepEqual([out.tokens, out.finish], [v.tokenize("ab"), "eos"]);
  const abort = new AbortController();
  abort.abort();
  const run = await collectGeneration(generateSpeculative(model, new ModelDrafter(model.blend(0.3, 2), GREEDY), "ab", { signal: abort.signal, maxTokens: 50 }));
  assert.equal(run.steps.length, 1);
  assert.equal(run.steps[0].finish, "aborted");
});
