/**
 * Tokenizer parity of the shipped GGUF model against the training tokenizer:
 * reads held-out snippets with the ids the training tokenizer gave them
 * (heldout.jsonl from the training run) and compares llama.cpp's tokenization,
 * and checks detokenize(tokenize(x)) == x.
 * Usage: node dist/bench/tokenizerParity.js HELDOUT.jsonl [MODEL.gguf]
 */
import { readFileSync } from "node:fs";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";

const [file, modelPath = embeddedModelPaths().target] = process.argv.slice(2);
if (!file) throw new Error("usage: tokenizerParity.js HELDOUT.jsonl [MODEL.gguf]");
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { text: string; ids: number[] });
const model = await LlamaCppModel.load(modelPath, { threads: 1 });
let same = 0;
let roundTrip = 0;
const firstMismatch: string[] = [];
for (const { text, ids } of rows) {
  const got = model.vocabulary.tokenize(text, false);
  if (got.length === ids.length && got.every((t, i) => t === ids[i])) same++;
  else if (firstMismatch.length < 3) firstMismatch.push(JSON.stringify(text.slice(0, 60)));
  const back = Buffer.concat(got.map((t) => model.vocabulary.piece(t))).toString("utf8");
  if (back === text) roundTrip++;
}
console.log(`snippets: ${rows.length}`);
console.log(`llama.cpp ids equal to the training tokenizer's: ${same}/${rows.length}`);
console.log(`detokenize(tokenize(x)) == x: ${roundTrip}/${rows.length}`);
if (firstMismatch.length) console.log(`first mismatches: ${firstMismatch.join(", ")}`);
model.dispose();
