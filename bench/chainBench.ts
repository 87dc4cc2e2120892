/**
 * Target-only against chain speculative decoding at several k, in one run, on
 * the same prompts: tokens/s, speedup, mean accepted tokens per block (bonus
 * included), acceptance by draft position, and calls per 100 tokens.
 * Usage: node dist/bench/chainBench.js [--prompts FILE] [--limit N] [--max-tokens N] [--k 2,4,8] [--threads N] [--trim]
 *        [--target T --draft D | --random] [--acceptance-only]
 * --random writes and uses a random-weight pair: an 8-layer, 512-wide target (8192 tokens) and a drafter made of its first layer.
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { readPromptFile } from "../src/bench/promptFile.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import type { StepEvent } from "../src/generation/generationTypes.js";
import { GgmlType } from "../src/gguf/ggufTypes.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";
import { collectGeneration, generationMetrics } from "../src/metrics/generationMetrics.js";
import { ChainPolicy } from "../src/policies/chainPolicy.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";

const { values: a } = parseArgs({
  options: {
    prompts: { type: "string", default: "../shared/bench/humaneval.jsonl" },
    limit: { type: "string", default: "20" },
    "max-tokens": { type: "string", default: "64" },
    k: { type: "string", default: "2,4,8" },
    threads: { type: "string", default: "2" },
    target: { type: "string", default: embeddedModelPaths().target },
    draft: { type: "string", default: embeddedModelPaths().draft },
    trim: { type: "boolean", default: false },
    "acceptance-only": { type: "boolean", default: false },
    random: { type: "boolean", default: false },
  },
});
if (a.random) {
  const dir = path.join(os.tmpdir(), "verispec-bench");
  mkdirSync(dir, { recursive: true });
  [a.target, a.draft] = [path.join(dir, "random-chain-target.gguf"), path.join(dir, "random-chain-draft.gguf")];
  const options = { seed: 42, vocabSize: 8192, embeddingSize: 512, layers: 8, heads: 8, feedForwardSize: 1376, contextLength: 1024, type: GgmlType.F16 };
  writeRandomLlamaPair(options, a.target, a.draft, 1);
}
const prompts = readPromptFile(a.prompts!)
  .slice(0, Number(a.limit))
  .map((p) => (a.trim ? p.trimEnd() : p));
const maxTokens = Number(a["max-tokens"]);
const threads = Number(a.threads);
const target = await LlamaCppModel.load(a.target!, { threads });
const draft = await LlamaCppModel.load(a.draft!, { threads });

interface Row {
  variant: string;
  steps: StepEvent[];
  seconds: number;
}

async function runVariant(variant: string, k?: number): Promise<Row> {
  const steps: StepEvent[] = [];
  let seconds = 0;
  const drafter = k ? new ModelDrafter(draft, GREEDY) : undefined;
  for (const prompt of prompts) {
    const options = { maxTokens, sampling: GREEDY, policy: k ? new ChainPolicy(k) : undefined };
    const run = await collectGeneration(drafter ? generateSpeculative(target, drafter, prompt, options) : generateTargetOnly(target, prompt, options));
    steps.push(...run.steps);
    seconds += run.metrics.seconds;
  }
  drafter?.dispose();
  return { variant, steps, seconds };
}

const ks = a.k!.split(",").map(Number);
const rows: Row[] = [];
if (!a["acceptance-only"]) rows.push(await runVariant("target-only"));
for (const k of ks) rows.push(await runVariant(`chain k=${k}`, k));
const base = rows[0].variant === "target-only" ? generationMetrics(rows[0].steps, rows[0].seconds).tokensPerSecond : undefined;
console.log(
  `prompts: ${prompts.length} from ${a.prompts}${a.trim ? " (trailing whitespace trimmed)" : ""}; max tokens ${maxTokens}; greedy; threads ${threads}`,
);
console.log(`target ${a.target}; draft ${a.draft}\n`);
console.log("| variant | tokens | tokens/s | speedup | mean accepted per block | acceptance by position | target calls / 100 tok | drafter calls / 100 tok |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const m = generationMetrics(r.steps, r.seconds);
  const per100 = (n: number) => ((100 * n) / m.tokens).toFixed(1);
  const speedup = base ? (m.tokensPerSecond / base).toFixed(2) : "-";
  const byPos = m.acceptanceByPosition.map((x) => x.toFixed(2)).join(" ") || "-";
  console.log(
    `| ${r.variant} | ${m.tokens} | ${m.tokensPerSecond.toFixed(1)} | ${speedup} | ${m.meanAcceptedPerBlock.toFixed(2)} | ${byPos} | ${per100(m.targetCalls)} | ${per100(m.drafterCalls)} |`,
  );
}
target.dispose();
draft.dispose();
