/** Options out of range are refused where they are made, saying which. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputTracker } from "../../src/generation/outputTracker.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { samplingFrom } from "../../src/sampling/samplingSettings.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

test("invalid options are refused", () => {
  assert.throws(() => samplingFrom({ temperature: -1 }), /temperature must be >= 0/);
  assert.throws(() => samplingFrom({ topP: 0 }), /top-p must be in/);
  assert.throws(() => new ChainPolicy(0), /draft length k/);
  assert.throws(() => new OutputTracker(model.vocabulary, 0), /max tokens/);
});
