/** Runs of the target's own tokens (steps that draft nothing, several tokens in one native call) on the GGUF fixture. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { createDrafter } from "../src/drafters/drafterRegistry.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import { GREEDY, samplingFrom } from "../src/sampling/samplingSettings.js";
import { SharedModel } from "../src/slots/sharedModel.js";
import { loadFixturePair } from "./helpers/fixtures.js";

/** A policy that never drafts and asks for runs of `n` of the target's own tokens. */
const running = (n: number) => ({
  name: "runs",
  maxSequences: 1,
  draft: async () => ({ tokens: [], q: [], drawn: [], run: n }),
  observe: () => {},
});

test("runs of the target's own tokens (steps that draft nothing) give the target alone's text, greedy and seeded sampling alike", async () => {
  const { target } = await loadFixturePair();
  // Count the runs the shared model makes, to know the runs were taken (not refused and stepped token by token).
  const runAlone = SharedModel.prototype.runAlone;
  let runs = 0;
  SharedModel.prototype.runAlone = function (...args) {
    runs++;
    return runAlone.apply(this, args);
  };
  try {
    for (const sampling of [GREEDY, samplingFrom({ temperature: 0.9, seed: 11 })]) {
      const alone = await collectGeneration(generateTargetOnly(target, "the cat sat on", { maxTokens: 30, sampling }));
      const drafter = createDrafter({ free: ["suffix"] }, target, { sampling });
      const ran = await collectGeneration(generateSpeculative(target, drafter, "the cat sat on", { maxTokens: 30, sampling, policy: running(8) }));
      drafter.dispose();
      assert.deepEqual(ran.tokens, alone.tokens, `${sampling.mode}`);
      // One event a token, as a step of one token gives.
      assert.equal(ran.steps.length, 30);
      assert.ok(ran.steps.every((s) => s.tokens.length <= 1 && s.drafted === 0));
    }
    // 30 tokens in runs of 8, 8, 8 and 6 (the budget's end), greedy and sampled.
    assert.equal(runs, 8);
  } finally {
    SharedModel.prototype.runAlone = runAlone;
    target.dispose();
  }
});
