/** `verispec generate`: streams a completion, speculative by default, and prints its metrics. */
import { type Command, Option } from "commander";
import { generateSpeculative } from "../decoding/speculativeLoop.js";
import { generateTargetOnly } from "../decoding/targetOnly.js";
import { MODEL_FREE_DRAFTERS } from "../drafters/drafterRegistry.js";
import { Constraints } from "../generation/constraints.js";
import { DEFAULT_MAX_TOKENS, type StepEvent } from "../generation/generationTypes.js";
import { type GenerationMetrics, generationMetrics } from "../metrics/generationMetrics.js";
import { samplingFrom } from "../sampling/samplingSettings.js";
import { ADAPTIVE_DEFAULTS } from "../verifier/adaptivePolicy.js";
import { CASCADE_DEFAULTS } from "../verifier/cascadePolicy.js";
import { DEFAULT_DRAFT_LENGTH } from "../verifier/draftPolicy.js";
import { loadHead } from "../verifier/head/headModel.js";
import { createPolicy, POLICY_NAMES, type PolicyOptions } from "../verifier/policyRegistry.js";
import { DEFAULT_BRANCH_BELOW, DEFAULT_TREE_BUDGET, DEFAULT_TREE_WIDTH } from "../verifier/treePolicy.js";
import { createDrafter, loadModelPair } from "./modelPair.js";
import { collect, finiteNumber, integer, nonNegativeInteger, positiveInteger } from "./optionParsers.js";
import { addPlacementOptions, drafterLoadOptions, type PlacementFlags, targetLoadOptions } from "./targetPlacement.js";

/** The prompt used when none is given: the start of a Python module, which the embedded pair continues at length. */
export const DEFAULT_PROMPT = "import numpy as np\n\n\ndef normalize(x):";

interface GenerateFlags extends PlacementFlags {
  target?: string;
  draft?: string;
  targetOnly?: boolean;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  k: number;
  policy: string;
  treeBudget?: number;
  treeWidth?: number;
  branchBelow?: number;
  minQ?: number;
  maxEntropy?: number;
  minAgreement?: number;
  maxK?: number;
  shadow?: boolean;
  head?: string;
  repetitionPenalty?: number;
  ban?: string[];
  stop?: string[];
  threads?: number;
  context?: number;
  json?: boolean;
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

/** Policy options from the command line; unset options keep each policy's documented defaults. */
export function policyOptionsFrom(
  f: Pick<GenerateFlags, "k" | "treeBudget" | "treeWidth" | "branchBelow" | "minQ" | "maxEntropy" | "minAgreement" | "maxK">,
): PolicyOptions {
  return {
    k: f.k,
    tree: { budget: f.treeBudget, width: f.treeWidth, branchBelow: f.branchBelow },
    cascade: { minQ: f.minQ, maxEntropy: f.maxEntropy, minAgreement: f.minAgreement },
    adaptive: { maxK: f.maxK },
  };
}

async function runGenerate(f: GenerateFlags): Promise<void> {
  const sampling = samplingFrom({ temperature: f.temperature, topK: f.topK, topP: f.topP, seed: f.seed });
  const policy = createPolicy(f.policy, { ...policyOptionsFrom(f), scorer: f.head ? loadHead(f.head) : undefined });
  // A target of your own without a drafter is generated from alone (the baseline).
  const targetOnly = f.targetOnly || (f.target !== undefined && f.draft === undefined);
  const targetPlacement = targetLoadOptions(f, f.threads);
  const drafterPlacement = drafterLoadOptions(f, f.threads);
  const pair = await loadModelPair({ target: f.target, draft: f.draft, threads: f.threads, targetPlacement, drafterPlacement }, !targetOnly);
  if (targetOnly && !f.targetOnly) process.stderr.write("verispec: no --draft given for this --target: generating with the target alone\n");
  const constraints = new Constraints({
    repetitionPenalty: f.repetitionPenalty,
    bannedNgrams: (f.ban ?? []).map((text) => pair.target.vocabulary.tokenize(text)),
  });
  const drafter = targetOnly ? undefined : createDrafter(pair, sampling, f.context, constraints);
  const options = { maxTokens: f.maxTokens, sampling, stop: f.stop, contextSize: f.context, policy, constraints, shadow: f.shadow };
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const steps: StepEvent[] = [];
    const start = performance.now();
    let text = "";
    const stream = drafter
      ? generateSpeculative(pair.target, drafter, f.prompt, { ...options, signal: abort.signal })
      : generateTargetOnly(pair.target, f.prompt, { ...options, signal: abort.signal });
    for await (const step of stream) {
      steps.push(step);
      text += step.text;
      if (!f.json) process.stdout.write(step.text);
    }
    const metrics = generationMetrics(steps, (performance.now() - start) / 1000);
    const finish = steps.at(-1)?.finish;
    const mode = drafter ? `${policy.name} k=${f.k}` : "target-only";
    if (f.json) process.stdout.write(`${JSON.stringify({ text, finish, mode, target: pair.targetName, draft: pair.draftName, sampling, metrics }, null, 2)}\n`);
    else process.stderr.write(`\n\n[${mode}; target ${pair.targetName}; draft ${pair.draftName}]\n${formatMetrics(metrics, finish)}\n`);
  } finally {
    process.off("SIGINT", onSigint);
    drafter?.dispose();
    pair.dispose();
  }
}

export function registerGenerate(program: Command): void {
  const command = program
    .command("generate")
    .description("generate a completion with speculative decoding (or the target alone) and print its metrics")
    .option("--target <model>", "target GGUF model: a path, hf:<user>/<repo>/<file>.gguf or a URL (default: the embedded target)")
    .option(
      "--draft <model>",
      `draft GGUF model, or a drafter without one: ${MODEL_FREE_DRAFTERS.join(", ")} (default: the embedded drafter; with a --target of your own: none, target alone)`,
    )
    .option("--target-only", "generate with the target alone (the baseline)")
    .option("--prompt <text>", "prompt text", DEFAULT_PROMPT)
    .option("--max-tokens <n>", "most tokens to generate", positiveInteger, DEFAULT_MAX_TOKENS)
    .option("--temperature <t>", "0 for greedy, > 0 to sample", finiteNumber, 0)
    .option("--top-k <k>", "sample from the k most likely tokens (0: all)", nonNegativeInteger, 0)
    .option("--top-p <p>", "sample from the smallest set with this much mass", finiteNumber, 1)
    .option("--seed <s>", "random seed for sampling", integer, 0)
    .option("--k <n>", "draft length (initial length for adaptive policies)", positiveInteger, DEFAULT_DRAFT_LENGTH)
    .addOption(new Option("--policy <name>", "draft policy").choices(POLICY_NAMES).default("chain"))
    .option("--tree-budget <n>", `tree: most alternative tokens per block (default ${DEFAULT_TREE_BUDGET})`, nonNegativeInteger)
    .option("--tree-width <n>", `tree: most alternatives at one depth (default ${DEFAULT_TREE_WIDTH})`, positiveInteger)
    .option("--branch-below <q>", `tree: branch where the chain token's q is below this (default ${DEFAULT_BRANCH_BELOW})`, finiteNumber)
    .option("--min-q <q>", `cascade stage 1: smallest q(x) (default ${CASCADE_DEFAULTS.minQ})`, finiteNumber)
    .option("--max-entropy <nats>", `cascade stage 1: largest entropy of q (default ${CASCADE_DEFAULTS.maxEntropy})`, finiteNumber)
    .option("--min-agreement <p>", `cascade stage 2: smallest calibrated acceptance estimate (default ${CASCADE_DEFAULTS.minAgreement})`, finiteNumber)
    .option("--max-k <n>", `adaptive: longest draft considered (default ${ADAPTIVE_DEFAULTS.maxK})`, positiveInteger)
    .option("--head <file>", "learned acceptance head (train-head) for the cascade's stage 3 and the adaptive policy")
    .option("--shadow", "also verify what the verifier cut, to price each cut (diagnostic; costs time)")
    .option("--repetition-penalty <x>", "penalise recent tokens (1 = off), applied to the target and the drafter", finiteNumber)
    .option("--ban <text>", "never generate this text's token sequence (repeatable)", collect)
    .option("--stop <text>", "stop string (repeatable)", collect)
    .option("--threads <n>", "CPU threads (default: physical cores)", positiveInteger)
    .option("--context <n>", "context size in tokens", positiveInteger)
    .option("--json", "print one JSON object with the text and metrics instead of streaming");
  addPlacementOptions(command).action(runGenerate);
}
