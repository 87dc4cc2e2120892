/** `verispec generate`: streams a completion, speculative by default, and prints its metrics. */
import type { Command } from "commander";
import { generateSpeculative } from "../decoding/speculativeLoop.js";
import { generateTargetOnly } from "../decoding/targetOnly.js";
import { MODEL_FREE_DRAFTERS } from "../drafters/drafterRegistry.js";
import { DEFAULT_MAX_TOKENS, type StepEvent } from "../generation/generationTypes.js";
import { contextFor, promptTokens } from "../generation/prompt.js";
import { SETTING_RANGES } from "../generation/settingRanges.js";
import { type GenerationMetrics, generationMetrics } from "../metrics/generationMetrics.js";
import { DEFAULT_CONTEXT_SIZE } from "../model/session.js";
import type { AdaptiveMemory } from "../policies/adaptiveMemory.js";
import { AdaptivePolicy } from "../policies/adaptivePolicy.js";
import { createPolicy } from "../policies/policyRegistry.js";
import { Constraints } from "../sampling/constraints.js";
import { ruleFor, samplingFrom } from "../sampling/samplingSettings.js";
import { type AdaptiveCacheKey, adaptiveCacheDir, loadAdaptiveMemory, saveAdaptiveMemory } from "./adaptiveCache.js";
import { createDrafter, loadModelPair } from "./modelPair.js";
import { collect, finiteNumber, inRange, positiveInteger } from "./optionParsers.js";
import { addPolicyOptions, freeSourcesFrom, type PolicyFlags, policyOptionsWithHead } from "./policyFlags.js";
import { addPlacementOptions, drafterLoadOptions, type PlacementFlags, targetLoadOptions } from "./targetPlacement.js";

/** The prompt used when none is given: the start of a Python module, which the embedded pair continues at length. */
export const DEFAULT_PROMPT = "import numpy as np\n\n\ndef normalize(x):";

interface GenerateFlags extends PlacementFlags, PolicyFlags {
  target?: string;
  draft?: string;
  targetOnly?: boolean;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  shadow?: boolean;
  repetitionPenalty?: number;
  ban?: string[];
  stop?: string[];
  threads?: number;
  context?: number;
  json?: boolean;
  adaptiveCache: boolean;
}

function formatMetrics(m: GenerationMetrics, finish: string | undefined): string {
  const byPos = m.acceptanceByPosition.map((a) => a.toFixed(2)).join(" ");
  return [
    `tokens ${m.tokens} in ${m.seconds.toFixed(2)} s = ${m.tokensPerSecond.toFixed(1)} tokens/s (finish: ${finish ?? "?"})`,
    `blocks ${m.blocks}, mean accepted tokens per block ${m.meanAcceptedPerBlock.toFixed(2)} (bonus included), acceptance ${(m.acceptanceRate * 100).toFixed(1)}%`,
    `acceptance by draft position: ${byPos || "-"}`,
    `calls: target ${m.targetCalls}, drafter ${m.drafterCalls}; time: draft ${m.draftSeconds.toFixed(2)} s, verify ${m.verifySeconds.toFixed(2)} s, other ${m.otherSeconds.toFixed(2)} s`,
    ...(m.branchesVerified ? [`tree: ${m.branchesVerified} alternatives verified, a branch won ${m.branchesAccepted} times`] : []),
    ...Object.entries(m.cutsByStage).map(
      ([stage, n]) =>
        `cut by ${stage}: ${n} blocks` +
        (m.shadowDrafted > 0 ? `, price (target would have accepted) ${m.shadowAcceptedByStage[stage].toFixed(1)} tokens` : ""),
    ),
  ].join("\n");
}

/** Keeps what adaptive drafting measured for the next run; a cache that cannot be written costs a warning only. */
function keepMeasurements(key: AdaptiveCacheKey, memory: AdaptiveMemory): void {
  try {
    saveAdaptiveMemory(key, memory);
  } catch (error) {
    process.stderr.write(`verispec: could not keep adaptive measurements in ${adaptiveCacheDir()}: ${(error as Error).message}\n`);
  }
}

async function runGenerate(f: GenerateFlags, command: Command): Promise<void> {
  const g = await openGeneration(f, command.getOptionValueSource("seed") === "cli");
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const steps: StepEvent[] = [];
    const start = performance.now();
    let text = "";
    const options = { ...g.options, signal: abort.signal };
    const stream = g.drafter ? generateSpeculative(g.pair.target, g.drafter, f.prompt, options) : generateTargetOnly(g.pair.target, f.prompt, options);
    for await (const step of stream) {
      steps.push(step);
      text += step.text;
      if (!f.json) process.stdout.write(step.text);
    }
    const metrics = generationMetrics(steps, (performance.now() - start) / 1000);
    // Only adaptive measures into the memory: other policies leave no file behind.
    if (g.memory && g.policy instanceof AdaptivePolicy) keepMeasurements(g.cacheKey, g.memory);
    const finish = steps.at(-1)?.finish;
    const mode = g.drafter ? `${g.policy.name} k=${f.k}, ${g.drafter.name}` : "target-only";
    const { targetName: target, draftName: draft } = g.pair;
    if (f.json) process.stdout.write(`${JSON.stringify({ text, finish, mode, target, draft, sampling: g.options.sampling, metrics }, null, 2)}\n`);
    else process.stderr.write(`\n\n[${mode}; target ${target}; draft ${draft}]\n${formatMetrics(metrics, finish)}\n`);
  } finally {
    process.off("SIGINT", onSigint);
    g.drafter?.dispose();
    g.pair.dispose();
  }
}

/** The models, policy, drafter and options of one generation, as the flags ask. */
async function openGeneration(f: GenerateFlags, seeded: boolean) {
  const sampling = samplingFrom({ temperature: f.temperature, topK: f.topK, topP: f.topP, seed: f.seed, rule: ruleFor(f.samplingRule, seeded) });
  // A target of your own without a drafter drafts with the sources that need no model (suffix, prompt lookup).
  const targetOnly = f.targetOnly === true;
  const draft = f.draft ?? (f.target !== undefined ? "ngram" : undefined);
  // One generation, nothing else to do meanwhile: passes run on this thread, without hand-offs to a worker.
  const targetPlacement = targetLoadOptions(f, f.threads, "caller");
  const drafterPlacement = drafterLoadOptions(f, f.threads, "caller");
  const pair = await loadModelPair({ target: f.target, draft, threads: f.threads, targetPlacement, drafterPlacement }, !targetOnly);
  const cacheKey = { target: pair.targetName, draft: pair.draftName, placement: { targetPlacement, drafterPlacement, threads: f.threads } };
  const memory = !targetOnly && f.adaptiveCache ? loadAdaptiveMemory(cacheKey) : undefined;
  const policy = createPolicy(f.policy, { ...policyOptionsWithHead(f), adaptiveMemory: memory });
  const constraints = new Constraints({
    repetitionPenalty: f.repetitionPenalty,
    bannedNgrams: (f.ban ?? []).map((text) => pair.target.vocabulary.tokenize(text)),
  });
  // Sized to the job unless --context says (both models' sessions): creating a large context is most of a short generation.
  const contextLimit = Math.min(pair.target.trainContextSize, DEFAULT_CONTEXT_SIZE);
  const contextSize = f.context ?? contextFor(promptTokens(pair.target.vocabulary, f.prompt).length, f.maxTokens, contextLimit);
  const drafter = targetOnly ? undefined : createDrafter(pair, { sampling, contextSize, constraints, ...freeSourcesFrom(f) });
  const options = { maxTokens: f.maxTokens, sampling, stop: f.stop, contextSize, policy, constraints, shadow: f.shadow };
  return { pair, cacheKey, memory, policy, drafter, options };
}

export function registerGenerate(program: Command): void {
  const command = program
    .command("generate")
    .description("generate a completion with speculative decoding (or the target alone) and print its metrics")
    .option("--target <model>", "target GGUF model: a path, hf:<user>/<repo>/<file>.gguf or a URL (default: the embedded target)")
    .option(
      "--draft <model>",
      `draft GGUF model, an EAGLE-3 head (eagle: the shipped one, or a GGUF of that architecture), or a drafter without a model: ${MODEL_FREE_DRAFTERS.join(", ")} (default: the embedded drafter; with a --target of your own: ngram, suffix drafting and prompt lookup)`,
    )
    .option("--target-only", "generate with the target alone (the baseline)")
    .option("--prompt <text>", "prompt text", DEFAULT_PROMPT)
    .option("--max-tokens <n>", "most tokens to generate", inRange(SETTING_RANGES.maxTokens), DEFAULT_MAX_TOKENS)
    .option("--temperature <t>", "0 for greedy, > 0 to sample (at most 2)", inRange(SETTING_RANGES.temperature), 0)
    .option("--top-k <k>", "sample from the k most likely tokens (0: all)", inRange(SETTING_RANGES.topK), 0)
    .option("--top-p <p>", "sample from the smallest set with this much mass", inRange(SETTING_RANGES.topP), 1)
    .option("--seed <s>", "random seed for sampling", inRange(SETTING_RANGES.seed), 0)
    .option("--shadow", "also verify what the verifier cut, to price each cut (diagnostic; costs time)")
    .option("--repetition-penalty <x>", "penalise recent tokens (1 = off), applied to the target and the drafter", finiteNumber)
    .option("--ban <text>", "never generate this text's token sequence (repeatable)", collect)
    .option("--stop <text>", "stop string (repeatable)", collect)
    .option("--threads <n>", "CPU threads (default: physical cores)", positiveInteger)
    .option(
      "--context <n>",
      "context size in tokens (default: the prompt and --max-tokens plus 128, rounded up to 256; at most 4096 or the model's training context)",
      positiveInteger,
    )
    .option("--json", "print one JSON object with the text and metrics instead of streaming")
    .option(
      "--no-adaptive-cache",
      "adaptive: start from nothing and keep nothing (by default it starts from what earlier runs measured on this pair and machine)",
    );
  addPlacementOptions(addPolicyOptions(command)).action(runGenerate);
}
