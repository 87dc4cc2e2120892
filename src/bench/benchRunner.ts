/**
 * Runs the benchmark matrix: every variant on every prompt, repeated. Variants
 * are interleaved per prompt so drift on a noisy machine spreads evenly. Each
 * finished generation is handed to `onRow` at once, so an interrupted run keeps
 * what it finished. Seeds are recorded: seed = baseSeed + 1000 * repeat + prompt.
 */
import type { LanguageModel } from "../backends/languageModel.js";
import type { NodeLlamaCppPeers, PeerKind } from "../backends/llamaCpp/nodeLlamaCppPeers.js";
import { generateSpeculative } from "../decoding/speculativeLoop.js";
import { generateTargetOnly } from "../decoding/targetOnly.js";
import { ModelDrafter } from "../drafters/modelDrafter.js";
import { PromptLookupDrafter } from "../drafters/promptLookupDrafter.js";
import { collectGeneration, type GenerationMetrics } from "../metrics/generationMetrics.js";
import { samplingFrom } from "../sampling/samplingSettings.js";
import type { AcceptanceScorer } from "../verifier/acceptanceScorer.js";
import { createPolicy, type PolicyOptions } from "../verifier/policyRegistry.js";
import { type BenchRow, type BenchVariant, PEER_DRAFT, PEER_LOOKUP, TARGET_ONLY } from "./benchTypes.js";
import { WITH_HEAD } from "./benchVariants.js";

export interface BenchPlan {
  target: LanguageModel;
  /** The draft model; without one, verispec's variants draft by prompt lookup. */
  draft?: LanguageModel;
  peers?: NodeLlamaCppPeers;
  prompts: readonly string[];
  variants: readonly BenchVariant[];
  repeats: number;
  maxTokens: number;
  seed: number;
  /** Options for each policy beyond k. */
  policyOptions: Omit<PolicyOptions, "k">;
  /** The acceptance head for variants named "<policy>+head". */
  head?: AcceptanceScorer;
  signal?: AbortSignal;
  onRow(row: BenchRow): void;
}

function positionsColumn(m: GenerationMetrics, steps: { drafted: number; accepted: number }[]): string {
  return m.acceptanceByPosition.map((_, i) => `${steps.filter((s) => s.accepted > i).length}/${steps.filter((s) => s.drafted > i).length}`).join(" ");
}

async function runVerispec(
  plan: BenchPlan,
  v: BenchVariant,
  prompt: string,
  seed: number,
): Promise<Omit<BenchRow, "variant" | "policy" | "k" | "temperature" | "repeat" | "prompt" | "seed">> {
  const sampling = samplingFrom({ temperature: v.temperature, seed });
  const options = { maxTokens: plan.maxTokens, sampling };
  let run: Awaited<ReturnType<typeof collectGeneration>>;
  if (v.policy === TARGET_ONLY) run = await collectGeneration(generateTargetOnly(plan.target, prompt, options));
  else {
    const drafter = plan.draft ? new ModelDrafter(plan.draft, sampling) : new PromptLookupDrafter(plan.target.vocabulary.size);
    try {
      const withHead = v.policy.endsWith(WITH_HEAD);
      if (withHead && !plan.head) throw new Error(`variant ${v.id} needs --head`);
      const policy = createPolicy(withHead ? v.policy.slice(0, -WITH_HEAD.length) : v.policy, {
        ...plan.policyOptions,
        k: v.k,
        scorer: withHead ? plan.head : undefined,
      });
      run = await collectGeneration(generateSpeculative(plan.target, drafter, prompt, { ...options, policy }));
    } finally {
      drafter.dispose();
    }
  }
  const m = run.metrics;
  return {
    tokens: m.tokens,
    seconds: m.seconds,
    tokensPerSecond: m.tokensPerSecond,
    steps: run.steps.length,
    blocks: m.blocks,
    meanAcceptedPerBlock: m.meanAcceptedPerBlock,
    drafted: m.drafted,
    accepted: m.accepted,
    drafterCalls: m.drafterCalls,
    targetCalls: m.targetCalls,
    draftSeconds: m.draftSeconds,
    verifySeconds: m.verifySeconds,
    acceptanceByPosition: positionsColumn(m, run.steps),
  };
}

async function runPeer(plan: BenchPlan, v: BenchVariant, prompt: string, seed: number) {
  if (!plan.peers) throw new Error(`variant ${v.id} needs node-llama-cpp peers (GGUF models)`);
  const kind: PeerKind = v.policy === PEER_DRAFT ? "draft" : "lookup";
  const r = await plan.peers.generate(kind, v.k, prompt, plan.maxTokens, v.temperature, seed);
  const drafted = r.validated + r.refuted;
  return {
    tokens: r.tokens,
    seconds: r.seconds,
    tokensPerSecond: r.seconds > 0 ? r.tokens / r.seconds : 0,
    steps: Number.NaN,
    blocks: Number.NaN,
    meanAcceptedPerBlock: Number.NaN,
    drafted,
    accepted: r.validated,
    drafterCalls: Number.NaN,
    targetCalls: Number.NaN,
    draftSeconds: Number.NaN,
    verifySeconds: Number.NaN,
    acceptanceByPosition: "",
  };
}

/** Runs the plan; returns the rows (also handed to onRow one by one). Stops early, cleanly, when the signal aborts. */
export async function runBench(plan: BenchPlan): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (let repeat = 0; repeat < plan.repeats; repeat++) {
    for (const [p, prompt] of plan.prompts.entries()) {
      for (const v of plan.variants) {
        if (plan.signal?.aborted) return rows;
        const seed = plan.seed + 1000 * repeat + p;
        const peer = v.policy === PEER_DRAFT || v.policy === PEER_LOOKUP;
        const measured = peer ? await runPeer(plan, v, prompt, seed) : await runVerispec(plan, v, prompt, seed);
        const row: BenchRow = { variant: v.id, policy: v.policy, k: v.k, temperature: v.temperature, repeat, prompt: p, seed, ...measured };
        rows.push(row);
        plan.onRow(row);
      }
    }
  }
  return rows;
}
