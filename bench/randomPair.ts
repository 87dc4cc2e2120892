/**
 * Writes a random-weight target and drafter (the target's first layer) with a vocabulary of any size, for
 * measuring per-row overheads at a real model's vocabulary (128,256 tokens, as Llama 3 has) where the trained
 * pair has 8,192. Grow the target to a big model's cost with `verispec embed-target --shape 7b`.
 * Usage: node dist/bench/randomPair.js --out DIR [--vocab 128256] [--seed 42]   (writes DIR/target.gguf, DIR/draft.gguf)
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { GgmlType } from "../src/gguf/ggufTypes.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";

const { values: a } = parseArgs({
  options: { out: { type: "string" }, vocab: { type: "string", default: "128256" }, seed: { type: "string", default: "42" } },
});
if (!a.out) throw new Error("--out DIR is required");
mkdirSync(a.out, { recursive: true });
const [target, draft] = [path.join(a.out, "target.gguf"), path.join(a.out, "draft.gguf")];
const start = performance.now();
// The trained pair's target shape (8 x 512, ffn 1376), so that embed-target grows it like the trained target.
const options = {
  seed: Number(a.seed),
  vocabSize: Number(a.vocab),
  embeddingSize: 512,
  layers: 8,
  heads: 8,
  feedForwardSize: 1376,
  contextLength: 1024,
  type: GgmlType.Q8_0,
};
writeRandomLlamaPair(options, target, draft, 1);
console.log(`wrote ${target} and ${draft} (vocabulary ${options.vocabSize}) in ${((performance.now() - start) / 1000).toFixed(1)} s`);
