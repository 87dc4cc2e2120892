/**
 * What a pass costs when its shape repeats and when it changes. llama.cpp's CUDA backend replays a recorded graph
 * only for a pass shaped like the one before it (tokens, outputs, cache span); a server whose passes change size
 * every step launches every kernel of every pass. For each size n: `sequences` sequences hold a prompt of
 * `prompt` tokens; `repeat` runs `passes` passes of n tokens (one position per sequence in turn, every token with
 * logits) at the same positions, their cells removed after each, and `vary` does the same with the size moving
 * around n (n, n - 1, n + 1, n - 2, ...), as a served step's does. One JSON line per model, size and mode.
 * Usage: node dist/bench/passShapes.js --model a.gguf[,b.gguf] --sizes 1,8,28 [--sequences 8] [--prompt 200]
 *        [--passes 100] [--device gpu] [--threads 8] [--summary none|argmax|top]
 */
import { parseArgs } from "node:util";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import type { RowSummaryKind } from "../src/model/rows.js";
import type { BatchToken, ModelSession } from "../src/model/session.js";
import { meanAndMedian } from "./passTimes.js";

const { values: a } = parseArgs({
  options: {
    model: { type: "string" },
    sizes: { type: "string", default: "1,8,28" },
    sequences: { type: "string", default: "8" },
    prompt: { type: "string", default: "200" },
    passes: { type: "string", default: "100" },
    device: { type: "string", default: "gpu" },
    threads: { type: "string", default: "8" },
    summary: { type: "string", default: "argmax" },
  },
});
if (!a.model) throw new Error("--model is required");
const S = Number(a.sequences);
const P = Number(a.prompt);
const PASSES = Number(a.passes);
const SIZE_STEPS = [0, -1, 1, -2, 2, -1, 1, 0];

/** One pass of n tokens after every sequence's prompt: token i goes to sequence i mod S, position P + i div S. */
async function timedPass(session: ModelSession, n: number): Promise<number> {
  const batch: BatchToken[] = Array.from({ length: n }, (_, i) => ({ token: 1 + (i % 50), position: P + Math.floor(i / S), sequences: [i % S], logits: true }));
  const start = performance.now();
  const rows = await session.evaluate(batch);
  rows.capabilities.summaries?.summary(n - 1);
  for (let s = 0; s < Math.min(S, n); s++) session.removeRange(s, P);
  return performance.now() - start;
}

async function prefill(session: ModelSession): Promise<void> {
  const tokens: BatchToken[] = [];
  for (let s = 0; s < S; s++) for (let p = 0; p < P; p++) tokens.push({ token: 1 + ((p * 7 + s) % 97), position: p, sequences: [s], logits: false });
  for (let i = 0; i < tokens.length; i += session.batchSize) await session.evaluate(tokens.slice(i, i + session.batchSize));
}

async function measure(file: string): Promise<void> {
  const model = await LlamaCppModel.load(file, { threads: Number(a.threads), device: a.device === "cpu" ? "cpu" : "gpu" });
  const session = await model.createSession({ contextSize: S * (P + 64), maxSequences: S, rowSummary: a.summary as RowSummaryKind });
  await prefill(session);
  for (const n of (a.sizes ?? "").split(",").map(Number)) {
    for (const mode of ["repeat", "vary"] as const) {
      const times: number[] = [];
      for (let i = 0; i < PASSES + 5; i++) {
        const size = mode === "repeat" ? n : Math.max(1, n + SIZE_STEPS[i % SIZE_STEPS.length]);
        const ms = await timedPass(session, size);
        if (i >= 5) times.push(ms);
      }
      console.log(JSON.stringify({ model: model.name, device: a.device, sequences: S, depth: P, tokens: n, mode, passes: PASSES, ...meanAndMedian(times) }));
    }
  }
  session.dispose();
  model.dispose();
}

for (const file of a.model.split(",")) await measure(file);
