/** Cost-equivalent targets: a model written inside a larger llama shape must compute the same function. */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { embedTarget } from "../src/gguf/embedTarget.js";
import { readGgufHeader } from "../src/gguf/ggufReader.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { fixtureDir, fixturePair } from "./helpers/fixtures.js";
import { targetOnlyTokens } from "./helpers/generate.js";

async function lastLogits(model: LlamaCppModel, tokens: number[]): Promise<Float32Array> {
  const session = await model.createSession({ contextSize: 128 });
  const rows = await session.evaluate(tokens.map((token, position) => ({ token, position, sequences: [0], logits: position === tokens.length - 1 })));
  const out = rows.row(0).slice();
  session.dispose();
  return out;
}

test("a random fixture inside a wider, deeper shape gives its logits within 1e-3", async () => {
  const source = fixturePair().target;
  const big = path.join(fixtureDir, "embedded-fixture.gguf");
  // TINY is 2 layers x 64 wide (4 heads of 16), ffn 128: grow every dimension.
  embedTarget(source, big, { layers: 4, width: 128, ffn: 256 });
  const h = readGgufHeader(big);
  assert.equal(h.metadata.get("llama.embedding_length"), 128);
  assert.equal(h.metadata.get("llama.attention.head_count"), 8, "the head size 16 is kept, so 128 wide means 8 heads");
  const [small, large] = [await LlamaCppModel.load(source, { threads: 1 }), await LlamaCppModel.load(big, { threads: 1 })];
  try {
    for (const text of ["the cat sat", "def f(x): return x * 2", "zzz qqq"]) {
      const tokens = small.vocabulary.tokenize(text);
      const [a, b] = [await lastLogits(small, tokens), await lastLogits(large, tokens)];
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      assert.ok(diff < 1e-3, `max logit difference ${diff} on "${text}"`);
    }
  } finally {
    small.dispose();
    large.dispose();
  }
});

test("the trained target inside a 10x768 shape writes the same greedy text, at a larger model's size", async () => {
  const source = embeddedModelPaths().target;
  const big = path.join(fixtureDir, "embedded-target-10x768.gguf");
  embedTarget(source, big, { layers: 10, width: 768, ffn: 2048 });
  assert.ok(statSync(big).size > 2 * statSync(source).size);
  assert.match(String(readGgufHeader(big).metadata.get("general.name")), /cost-equivalent 10x768, ffn 2048/);
  const [small, large] = [await LlamaCppModel.load(source, { threads: 2 }), await LlamaCppModel.load(big, { threads: 2 })];
  try {
    for (const prompt of ["def fibonacci(n):", "import os\n\n\ndef walk(path):", "class Queue:"]) {
      const want = await targetOnlyTokens(small, prompt, { maxTokens: 32, sampling: GREEDY });
      assert.deepEqual(await targetOnlyTokens(large, prompt, { maxTokens: 32, sampling: GREEDY }), want, prompt);
    }
  } finally {
    small.dispose();
    large.dispose();
  }
});

test("shapes that cannot hold the source are refused with the reason", () => {
  const source = fixturePair().target;
  const out = path.join(fixtureDir, "never.gguf");
  assert.throws(() => embedTarget(source, out, { layers: 1, width: 128, ffn: 256 }), /at least as large/);
  assert.throws(() => embedTarget(source, out, { layers: 4, width: 136, ffn: 256 }), /multiple of the head size 16/);
});
