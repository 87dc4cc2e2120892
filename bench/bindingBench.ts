/**
 * The native binding against node-llama-cpp on the same random model and thread
 * count: time to evaluate 1, 4, 8 and 16 tokens with logits at every position,
 * at the last position only, and with no outputs; and a 1-token decode that
 * picks the next token. Medians over repeated runs, all in one process.
 * Usage: node dist/bench/bindingBench.js [--repeats N] [--threads N]
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { GgmlType } from "../src/gguf/ggufTypes.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";
import type { ModelSession } from "../src/model/session.js";
import { argmax } from "../src/sampling/distribution.js";

const { values: a } = parseArgs({ options: { repeats: { type: "string", default: "40" }, threads: { type: "string", default: "1" } } });
const repeats = Number(a.repeats);
const threads = Number(a.threads);
const dir = path.join(os.tmpdir(), "verispec-bench");
mkdirSync(dir, { recursive: true });
const file = path.join(dir, "random-8x512-8192-f16.gguf");
writeRandomLlamaPair(
  { seed: 42, vocabSize: 8192, embeddingSize: 512, layers: 8, heads: 8, feedForwardSize: 1376, contextLength: 1024, type: GgmlType.F16 },
  file,
);

type Mode = "all" | "last" | "none";
const SIZES = [1, 4, 8, 16];
const MODES: Mode[] = ["all", "last", "none"];
const tokens = Array.from({ length: 16 }, (_, i) => 300 + i * 37);

async function median(run: () => Promise<void>, reset: () => Promise<void> | void): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats + 3; r++) {
    await reset();
    const t = performance.now();
    await run();
    if (r >= 3) times.push(performance.now() - t);
  }
  return times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
}

async function benchVerispec(): Promise<Map<string, number>> {
  const model = await LlamaCppModel.load(file, { threads });
  const s: ModelSession = await model.createSession({ contextSize: 512, batchSize: 64 });
  const out = new Map<string, number>();
  for (const n of SIZES) {
    for (const mode of MODES) {
      const batch = tokens.slice(0, n).map((token, i) => ({ token, position: i, sequences: [0], logits: mode === "all" || (mode === "last" && i === n - 1) }));
      out.set(
        `${n}/${mode}`,
        await median(
          async () => void (await s.evaluate(batch)),
          () => s.clear(),
        ),
      );
    }
  }
  const prompt = tokens.slice(0, 8).map((token, i) => ({ token, position: i, sequences: [0], logits: false }));
  out.set(
    "decode",
    await median(
      async () => void argmax((await s.evaluate([{ token: 17, position: 8, sequences: [0], logits: true }])).row(0)),
      async () => {
        s.clear();
        await s.evaluate(prompt);
      },
    ),
  );
  model.dispose();
  return out;
}

async function benchNodeLlamaCpp(): Promise<Map<string, number>> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 512, batchSize: 64, threads, sequences: 1 });
  const seq = ctx.getSequence();
  const out = new Map<string, number>();
  for (const n of SIZES) {
    const toks = tokens.slice(0, n) as Token[];
    const items = (mode: Mode) =>
      toks.map((t, i) => (mode === "all" || (mode === "last" && i === n - 1) ? ([t, { generateNext: { probabilities: true } }] as const) : t));
    for (const mode of MODES) {
      const run = mode === "none" ? () => seq.evaluateWithoutGeneratingNewTokens(toks) : async () => void (await seq.controlledEvaluate(items(mode) as never));
      out.set(`${n}/${mode}`, await median(run, () => seq.clearHistory()));
    }
  }
  out.set(
    "decode",
    await median(
      async () => {
        const gen = seq.evaluate([17 as Token]);
        await gen.next();
        await gen.return();
      },
      async () => {
        await seq.clearHistory();
        await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, 8) as Token[]);
      },
    ),
  );
  await ctx.dispose();
  await model.dispose();
  return out;
}

const ours = await benchVerispec();
const theirs = await benchNodeLlamaCpp();
const label = { all: "logits at every position", last: "logits at the last position", none: "no outputs" };
console.log(`random llama model: 8 layers, 512 wide, 8192 vocabulary, F16; ${threads} thread(s); median of ${repeats} runs (ms)\n`);
console.log("| tokens | outputs | verispec | node-llama-cpp | verispec / node-llama-cpp |");
console.log("| --- | --- | --- | --- | --- |");
for (const n of SIZES) {
  for (const mode of MODES) {
    const [x, y] = [ours.get(`${n}/${mode}`)!, theirs.get(`${n}/${mode}`)!];
    console.log(`| ${n} | ${label[mode]} | ${x.toFixed(2)} | ${y.toFixed(2)} | ${(x / y).toFixed(2)} |`);
  }
}
const [d1, d2] = [ours.get("decode")!, theirs.get("decode")!];
console.log(`| 1 | decode + pick the next token (sequence.evaluate) | ${d1.toFixed(2)} | ${d2.toFixed(2)} | ${(d1 / d2).toFixed(2)} |`);
const all8 = ours.get("8/all")!;
console.log(`\nverispec, 8 tokens: every position / last position = ${(all8 / ours.get("8/last")!).toFixed(2)}x (goal <= 1.25)`);
console.log(
  `verispec, 8 tokens, every position / node-llama-cpp controlledEvaluate with probabilities at every position = ${(all8 / theirs.get("8/all")!).toFixed(2)}x (goal <= 0.5)`,
);
console.log(`1-token decode: verispec / node-llama-cpp sequence.evaluate = ${(d1 / d2).toFixed(2)}x (goal within 10%, i.e. <= 1.10)`);
process.exit(0);
