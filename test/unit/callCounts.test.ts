/**
 * Call accounting, checked with a recording wrapper: one target pass per block; the drafter never re-evaluates an
 * accepted token (on the n-gram backend; the GGUF fixtures: test/callCounts.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { PromptLookupDrafter } from "../../src/drafters/promptLookupDrafter.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { samplingFrom } from "../../src/sampling/samplingSettings.js";
import { checkCalls } from "../helpers/callCounts.js";
import { RecordingModel } from "../helpers/recordingModel.js";

test("n-gram: one target call per block, no drafter re-evaluation (greedy and sampled)", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -6 });
  await checkCalls(target, target.blend(0.3, 8));
  await checkCalls(target, target.blend(0.3, 8), samplingFrom({ temperature: 0.8, seed: 4 }));
});

test("the prompt-lookup drafter makes no model calls and proposes what followed the last match", async () => {
  const target = new RecordingModel(NgramModel.create({ seed: 3 }));
  const drafter = new PromptLookupDrafter(target.vocabulary.size);
  // Context "abcab": the suffix "ab" last occurred at 0, followed by "c", then "a", "b".
  await drafter.start(target.vocabulary.tokenize("abcab"));
  const proposals = [await drafter.next(), await drafter.next(), await drafter.next()].map((d) => target.vocabulary.tokenText(d!.token));
  assert.deepEqual(proposals, ["c", "a", "b"]);
  assert.equal(drafter.calls, 0);
  const run = await collectGeneration(generateSpeculative(target, drafter, "the cat the cat the", { maxTokens: 20, policy: new ChainPolicy(4) }));
  assert.ok(run.metrics.drafted > 0);
  assert.equal(run.metrics.drafterCalls, 0);
});
