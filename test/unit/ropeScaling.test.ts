/** Llama-3.1's RoPE factors as convert_hf_to_gguf.py computes them for its rope_freqs tensor. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LLAMA_3_1_ROPE_SCALING, llama3RopeFactors, ropeScalingMetadata } from "../../src/gguf/ropeScaling.js";

test("Llama-3.1-8B's shape (head 128, base 500,000): 29 factors of 1, 6 interpolated, 29 of 8", () => {
  const factors = [...llama3RopeFactors(128, 500_000, LLAMA_3_1_ROPE_SCALING)];
  // Frequency i has wavelength 2*pi*500000^(i/64). Below 8192/4 = 2048 (i <= 28) it keeps factor 1; above
  // 8192/1 (i >= 35) it gets the full factor 8; i = 29..34 are interpolated, rising strictly between the two.
  assert.equal(factors.length, 64);
  assert.deepEqual(factors.slice(0, 29), new Array(29).fill(1));
  assert.deepEqual(factors.slice(35), new Array(29).fill(8));
  const middle = factors.slice(28, 36);
  for (let i = 1; i < middle.length; i++) assert.ok(middle[i] > middle[i - 1], `factor ${28 + i} rises: ${middle}`);
});

test("Llama-3.1's factors are a tensor, not keys; YaRN's are keys llama.cpp reads", () => {
  assert.deepEqual(ropeScalingMetadata(LLAMA_3_1_ROPE_SCALING), []);
  const keys = ropeScalingMetadata({ kind: "yarn", factor: 4, originalContextLength: 32_768 }).map(([key, v]) => [key, v.value]);
  assert.deepEqual(keys, [
    ["llama.rope.scaling.type", "yarn"],
    ["llama.rope.scaling.factor", 4],
    ["llama.rope.scaling.original_context_length", 32_768],
  ]);
});
