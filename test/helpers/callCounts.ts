/** Call accounting of whole generations, checked with a recording wrapper on any pair of models. */
import assert from "node:assert/strict";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import type { LanguageModel } from "../../src/model/session.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { GREEDY, type samplingFrom } from "../../src/sampling/samplingSettings.js";
import { fixturePrompts } from "./fixtures.js";
import { RecordingModel, replayEvaluatedSequences } from "./recordingModel.js";

/** Speculates on 10 fixture prompts: one target pass per block, each holding the whole block; the drafter never re-evaluates a token. */
export async function checkCalls(targetModel: LanguageModel, draftModel: LanguageModel, sampling = GREEDY as ReturnType<typeof samplingFrom>) {
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
