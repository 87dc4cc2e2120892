/** Prompts and contexts: a prompt the context cannot hold is refused; generate sizes its context to what it needs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../../src/decoding/targetOnly.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { CONTEXT_HEADROOM, contextFor, PromptError } from "../../src/generation/prompt.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

test("a prompt longer than the context is refused with a clear error", async () => {
  const long = "ab".repeat(600);
  await assert.rejects(
    collectGeneration(generateTargetOnly(model, long, { contextSize: 1000 })),
    (e: Error) => e instanceof PromptError && /1200 tokens but the context holds 1000/.test(e.message),
  );
  await assert.rejects(
    collectGeneration(generateSpeculative(model, new ModelDrafter(model, GREEDY), long, { contextSize: 1000 })),
    (e: Error) => e instanceof PromptError,
  );
});

test("generate's context is sized to the prompt and the tokens asked for, in steps of 256, within the limit", () => {
  // 20 + 128 + 128 headroom = 276 cells: the next multiple of 256 is 512.
  assert.equal(contextFor(20, 128, 4096), 512);
  // 10 + 100 + 128 = 238: one step of 256 holds it.
  assert.equal(contextFor(10, 100, 4096), 256);
  // Exactly 512 needed: no extra step.
  assert.equal(contextFor(512 - 128 - 100, 100, 4096), 512);
  // More than the limit: the limit (a prompt that does not fit is then refused as before).
  assert.equal(contextFor(3000, 2000, 4096), 4096);
  assert.equal(CONTEXT_HEADROOM, 128);
});
