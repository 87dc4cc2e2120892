/** Call accounting, checked with a recording wrapper: one target pass per block; the drafter never re-evaluates an accepted token. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LanguageModel } from "../src/backends/languageModel.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { RecordingModel, replayEvaluatedSequences } from "../src/backends/recordingModel.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { PromptLookupDrafter } from "../src/drafters/promptLookupDrafter.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import { GREEDY, samplingFrom } from "../src/sampling/samplingSettings.js";
import { ChainPolicy } from "../src/verifier/chainPolicy.js";
import { fixturePrompts, loadFixturePair } from "./helpers/fixtures.js";

async function checkCalls(targetModel: LanguageModel, draftModel: LanguageModel, sampling = GREEDY as ReturnType<typeof samplingFrom>) {
  for (const [i, prompt] of fixturePrompts(10, 3).entries()) {
    const target = new RecordingModel(targetModel);
    const draft = new RecordingModel(draftModel);
    const drafter = new ModelDrafter(draft, sampling);
    const k = 1 + (i % 5);
    const run = await collectGeneration(generateSpeculative(target, drafter, prompt, { maxTokens: 30, sampling, policy: new ChainPolicy(k) }));
    drafter.dispose();
    const promptTokens = targetModel.vocabulary.tokenize(prompt);
    // The prompt minus its last token is prefilled in one call (it fits one batch); then one call per step.
    const prefillCalls = promptTokens.length > 1 ? 1 : 0;
    const passes = target.evaluations;
    assert.equal(passes.length, prefillCalls + run.steps.length, "one target pass per block");
    for (const [s, step] of run.steps.entries()) {
      const call = passes[prefillCalls + s];
      assert.equal(call.batch.length, step.drafted + 1, "a pass holds the last context token and the whole block");
      assert.ok(
        call.batch.every((t) => t.logits),
        "p is read at every position of the block",
      );
    }
    assert.equal(run.metrics.targetCalls, passes.length, "metrics count the same target calls");
    assert.equal(run.metrics.drafterCalls, draft.evaluations.length, "metrics count the same drafter calls");
    // Every token the drafter evaluated completed a distinct sequence: nothing it had seen was evaluated again.
    const evaluated = replayEvaluatedSequences(draft.calls).map((s) => s.join(","));
    assert.equal(new Set(evaluated).size, evaluated.length, "the drafter re-evaluated a token it had already seen");
    // And it followed the accepted output: it saw all of it but the last step or two (the final step may draft nothing, so the block before it is never evaluated).
    const final = [...promptTokens, ...run.tokens];
    const followed = replayEvaluatedSequences(draft.calls).filter((s) => s.every((t, j) => final[j] === t));
    assert.ok(Math.max(...followed.map((s) => s.length)) >= final.length - (k + 2));
  }
}

test("n-gram: one target call per block, no drafter re-evaluation (greedy and sampled)", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -6 });
  await checkCalls(target, target.blend(0.3, 8));
  await checkCalls(target, target.blend(0.3, 8), samplingFrom({ temperature: 0.8, seed: 4 }));
});

test("GGUF fixtures: one target call per block, no drafter re-evaluation", async () => {
  const { target, draft } = await loadFixturePair();
  await checkCalls(target, draft);
  target.dispose();
  draft.dispose();
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
