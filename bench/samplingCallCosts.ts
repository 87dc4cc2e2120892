/**
 * What a drafter call and a target pass cost when sampling, against greedy, on the embedded pair (the metrics'
 * time split, warm): chain k = 4 with the draft model alone, 128 tokens on each prompt, the settings in turn
 * within each round. A generation's first step (the drafter's session opened, the prompt prefilled) is left
 * out: it is a one-off cost, and greedy and sampled generations divide it by different numbers of calls.
 * Prints one line per round and setting (drafter ms per call, pass ms, each as a share of greedy's).
 * Usage: node dist/bench/samplingCallCosts.js [--rounds 5] [--prompts 4] [--threads 2]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createDrafter, loadModelPair } from "../src/cli/modelPair.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { createPolicy } from "../src/policies/policyRegistry.js";
import { samplingFrom } from "../src/sampling/samplingSettings.js";

const { values: a } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, prompts: { type: "string", default: "4" }, threads: { type: "string", default: "2" } },
});
const SETTINGS = [
  { name: "greedy", temperature: 0, topP: 1 },
  { name: "T = 0.8", temperature: 0.8, topP: 1 },
  { name: "T = 0.8, top-p 0.95", temperature: 0.8, topP: 0.95 },
];
const prompts = readFileSync(new URL("../../../shared/bench/humaneval.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .slice(0, Number(a.prompts))
  .map((line) => (JSON.parse(line) as { prompt: string }).prompt.slice(-400));
const pair = await loadModelPair({ threads: Number(a.threads) }, true);

interface Sums {
  draftMs: number;
  calls: number;
  passMs: number;
  passes: number;
}

/** Adds one generation's steps, all but its first, to the sums. */
async function measure(prompt: string, temperature: number, topP: number, seed: number, sums: Sums): Promise<void> {
  const sampling = samplingFrom({ temperature, topK: 0, topP, seed });
  const drafter = createDrafter(pair, { sampling });
  let first = true;
  for await (const step of generateSpeculative(pair.target, drafter, prompt, { maxTokens: 128, sampling, policy: createPolicy("chain", { k: 4 }) })) {
    if (!first) {
      sums.draftMs += step.draftMs;
      sums.calls += step.drafterCalls;
      sums.passMs += step.verifyMs;
      sums.passes++;
    }
    first = false;
  }
  drafter.dispose();
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const ratios = SETTINGS.map(() => ({ drafter: [] as number[], pass: [] as number[] }));
console.log("| round | setting | drafter ms/call | x greedy | pass ms | x greedy |\n| --- | --- | --- | --- | --- | --- |");
for (let round = 1; round <= Number(a.rounds); round++) {
  // The settings take turns on each prompt, so a slow stretch of the machine falls on all of them.
  const sums = SETTINGS.map(() => ({ draftMs: 0, calls: 0, passMs: 0, passes: 0 }));
  for (const prompt of prompts) for (const [i, s] of SETTINGS.entries()) await measure(prompt, s.temperature, s.topP, round, sums[i]);
  const [drafterMs, passMs] = [sums.map((x) => x.draftMs / x.calls), sums.map((x) => x.passMs / x.passes)];
  for (const [i, s] of SETTINGS.entries()) {
    ratios[i].drafter.push(drafterMs[i] / drafterMs[0]);
    ratios[i].pass.push(passMs[i] / passMs[0]);
    const share = (x: number[]) => (x[i] / x[0]).toFixed(2);
    console.log(`| ${round} | ${s.name} | ${drafterMs[i].toFixed(3)} | ${share(drafterMs)} | ${passMs[i].toFixed(3)} | ${share(passMs)} |`);
  }
}
for (const [i, s] of SETTINGS.entries())
  console.log(`| median | ${s.name} | | ${median(ratios[i].drafter).toFixed(2)} | | ${median(ratios[i].pass).toFixed(2)} |`);
