/** Options out of range are refused where they are made, saying which. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputTracker } from "../../src/generation/outputTracker.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { ruleFor, samplingFrom } from "../../src/sampling/samplingSettings.js";
import { parseJob } from "../../src/server/requestParsing.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

test("invalid options are refused", () => {
  assert.throws(() => samplingFrom({ temperature: -1 }), /temperature must be >= 0/);
  assert.throws(() => samplingFrom({ topP: 0 }), /top-p must be in/);
  assert.throws(() => new ChainPolicy(0), /draft length k/);
  assert.throws(() => new OutputTracker(model.vocabulary, 0), /max tokens/);
});

test("the sampling rule: auto is coupled for a seed the caller gave (the text is the seed's), rejection otherwise", () => {
  assert.equal(ruleFor("auto", true), "coupled");
  assert.equal(ruleFor("auto", false), "rejection");
  // An explicit rule holds either way.
  for (const seeded of [true, false]) {
    assert.equal(ruleFor("coupled", seeded), "coupled");
    assert.equal(ruleFor("rejection", seeded), "rejection");
  }
});

test("a request says whether it gave its seed (a seed the server draws does not count)", () => {
  const body = { model: "m", prompt: "a", temperature: 0.8 };
  assert.equal(parseJob({ ...body, seed: 7 }, "completion").seeded, true);
  assert.equal(parseJob(body, "completion").seeded, false);
  assert.equal(parseJob({ ...body, seed: null }, "completion").seeded, false);
});
