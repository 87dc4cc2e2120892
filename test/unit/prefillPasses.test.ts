/**
 * Prefill passes. Under batch invariance (llama.cpp on CUDA, --batch-invariant) a pass flagged as a prompt's
 * prefill runs the stock kernels, whose numbers depend on the pass's shape; that is lossless only if every way
 * of generating from a prompt prefills it in the same passes, and if a prefill never shares a pass with another
 * slot's tokens. Drafter sessions, whose numbers never decide the output, do without invariance altogether.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../../src/decoding/targetOnly.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import type { LanguageModel, SessionOptions } from "../../src/model/session.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";
import { SharedModel } from "../../src/slots/sharedModel.js";
import { RecordingModel } from "../helpers/recordingModel.js";

/** The model, with the options of every session opened on it kept. */
function spyOnSessions(model: LanguageModel): { model: LanguageModel; opened: SessionOptions[] } {
  const opened: SessionOptions[] = [];
  const spy = Object.create(model) as LanguageModel;
  spy.createSession = (options?: SessionOptions) => {
    opened.push(options ?? {});
    return model.createSession(options);
  };
  return { model: spy, opened };
}

test("the target alone and speculation prefill a prompt in the same passes, the only ones flagged as a prefill", async () => {
  const model = NgramModel.create({ seed: 3, eosBias: -9 });
  // A batch size of 4 splits the prefill into several passes.
  const prompt = "the cat sat on a mat";
  const promptLength = model.vocabulary.tokenize(prompt).length;
  const runs: RecordingModel[] = [];
  for (const speculate of [false, true]) {
    const target = new RecordingModel(model);
    const small = { ...spyOnSessions(target), batch: 4 };
    const sized = Object.create(small.model) as LanguageModel;
    sized.createSession = (options?: SessionOptions) => small.model.createSession({ ...options, batchSize: small.batch });
    const draft = spyOnSessions(model.blend(0.3, 8));
    const drafter = new ModelDrafter(draft.model, GREEDY);
    const events = speculate
      ? generateSpeculative(sized, drafter, prompt, { maxTokens: 12, policy: new ChainPolicy(3) })
      : generateTargetOnly(sized, prompt, { maxTokens: 12 });
    await collectGeneration(events);
    drafter.dispose();
    if (speculate) {
      // The drafter's session keeps no invariance; the target's sessions keep the default (invariant).
      assert.ok(draft.opened.length > 0 && draft.opened.every((o) => o.batchInvariant === false));
      assert.ok(small.opened.every((o) => o.batchInvariant === undefined));
    }
    runs.push(target);
  }
  const [alone, speculative] = runs.map((r) => r.evaluations);
  const prefills = (passes: typeof alone) => passes.filter((p) => p.prefill).map((p) => p.batch);
  // All of the prompt but its last token (positions 0 .. length - 2), in passes of at most 4.
  const expected = Array.from({ length: Math.ceil((promptLength - 1) / 4) }, (_, i) =>
    Array.from({ length: Math.min(4, promptLength - 1 - 4 * i) }, (_, j) => 4 * i + j),
  );
  assert.ok(expected.length >= 2);
  assert.deepEqual(
    prefills(alone).map((b) => b.map((t) => t.position)),
    expected,
  );
  assert.deepEqual(prefills(speculative), prefills(alone), "the same prefill passes, token for token");
  // Both then pass the prompt's last token first, as a step (not a prefill).
  for (const passes of [alone, speculative]) {
    const first = passes.find((p) => !p.prefill)!;
    assert.equal(first.batch[0].position, promptLength - 1);
    assert.equal(passes.indexOf(first), prefills(alone).length, "no prefill pass after the first step");
  }
});

test("a slot's prefill runs in a pass of its own, never merged with other slots' batches", async () => {
  const target = new RecordingModel(NgramModel.create({ seed: 3 }));
  const shared = new SharedModel(target, { slots: 3, sequencesPerSlot: 1 });
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => shared.createSession()));
  const token = (position: number, logits = false) => ({ token: 1, position, sequences: [0], logits });
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => token(i, i === n - 1));
  // Asked in one round of the merger: b's and c's plain batches merge; a's prefill and c's prefill do not.
  await shared.merger.round([() => a.evaluate(tokens(3), { prefill: true }), () => b.evaluate(tokens(2)), () => c.evaluate(tokens(2))]);
  await shared.merger.round([() => a.evaluate([token(3, true)]), () => c.evaluate([token(2, true)], { prefill: true })]);
  const passes = target.evaluations.filter((e) => e.batch.some((t) => t.logits));
  assert.deepEqual(
    passes.map((p) => [p.prefill === true, p.batch.length]),
    [
      [true, 3],
      [false, 4],
      [true, 1],
      [false, 1],
    ],
  );
  shared.dispose();
});
