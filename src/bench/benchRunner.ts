/**
 * Runs the benchmark matrix: every variant on every prompt, repeated. Variants
 * are interleaved per prompt so drift on a noisy machine spreads evenly. Each
 * finished generation is handed to `onRow` at once, so an interrupted run keeps
 * what it finished. Seeds are recorded: seed = baseSeed + 1000 * repeat + prompt.
 */
import { createHash } from "node:crypto";
import { generateSpeculative } from "../decoding/speculativeLoop.js";
import { generateTargetOnly } from "../decoding/targetOnly.js";
import { createDrafter, type DrafterSource } from "../drafters/drafterRegistry.js";
import { copyRate } from "../metrics/copyRate.js";
import { collectGeneration, type GenerationMetrics } from "../metrics/generationMetrics.js";
import type { FeatureHeadModel } from "../model/head.js";
import { addCallStats, emptyCallStats, type LanguageModel } from "../model/session.js";
import type { AcceptanceScorer } from "../policies/acceptanceScorer.js";
import { AdaptiveMemory } from "../policies/adaptiveMemory.js";
import { createPolicy, type PolicyOptions } from "../policies/policyRegistry.js";
import { Constraints } from "../sampling/constraints.js";
import { samplingFrom } from "../sampling/samplingSettings.js";
import { type BenchRow, type BenchVariant, LLAMACPP_SPEC, LLAMACPP_TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP, TARGET_ONLY } from "./benchTypes.js";
import { parseBenchPolicy } from "./benchVariants.js";
import type { LlamaCppPeer } from "./peers/llamaCppTools.js";
import type { NodeLlamaCppPeers, PeerKind } from "./peers/nodeLlamaCppPeers.js";

export interface BenchPlan {
  target: LanguageModel;
  /** The draft model; without one, verispec's variants draft by prompt lookup. */
  draft?: LanguageModel;
  /** The EAGLE-3 head of the variants named "<policy>+eagle", loaded beside the target. */
  eagle?: FeatureHeadModel;
  peers?: NodeLlamaCppPeers;
  /** llama.cpp's own programs or servers, for the llamacpp-* variants. */
  tools?: LlamaCppPeer;
  prompts: readonly string[];
  variants: readonly BenchVariant[];
  repeats: number;
  maxTokens: number;
  seed: number;
  /** Repetition penalty of every variant (1: off). */
  repetitionPenalty: number;
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

/**
 * The native time split of both models' calls over one generation (NaN where a backend does not report it; the
 * EAGLE-3 head's passes are not timed apart, so a +eagle variant's drafter decoding is NaN, its draft time wall time).
 */
async function withCallStats<T>(plan: BenchPlan, v: BenchVariant, run: () => Promise<T>): Promise<{ result: T; split: CallSplit }> {
  const drafting = v.eagle ? undefined : plan.draft;
  const read = () => [plan.target.callStats?.(), drafting?.callStats?.()] as const;
  const [t0, d0] = read();
  const result = await run();
  const [t1, d1] = read();
  const target = t0 && t1 ? addCallStats(t1, t0, -1) : undefined;
  const draft = d0 && d1 ? addCallStats(d1, d0, -1) : emptyCallStats();
  const s = (ms: number | undefined) => (ms === undefined ? Number.NaN : ms / 1000);
  return {
    result,
    split: {
      targetDecodeSeconds: s(target?.decodeMs),
      drafterDecodeSeconds: v.eagle ? Number.NaN : s(draft.decodeMs),
      rowWorkSeconds: s(target && target.rowsMs + draft.rowsMs),
      handoffSeconds: s(target && target.queueMs + target.returnMs + draft.queueMs + draft.returnMs),
    },
  };
}

type CallSplit = Pick<BenchRow, "targetDecodeSeconds" | "drafterDecodeSeconds" | "rowWorkSeconds" | "handoffSeconds">;

/** Each adaptive variant's memory, shared by its generations in one run (as requests on one server share it). */
const memories = new WeakMap<BenchPlan, Map<string, AdaptiveMemory>>();

function adaptiveMemory(plan: BenchPlan, variant: string): AdaptiveMemory {
  if (!memories.has(plan)) memories.set(plan, new Map());
  const byVariant = memories.get(plan)!;
  if (!byVariant.has(variant)) byVariant.set(variant, new AdaptiveMemory());
  return byVariant.get(variant)!;
}

async function runVerispec(plan: BenchPlan, v: BenchVariant, prompt: string, seed: number): Promise<Measured> {
  const { result, split } = await withCallStats(plan, v, () => generateVerispec(plan, v, prompt, seed));
  return { ...result, ...split };
}

/**
 * What drafts a variant: the EAGLE-3 head (+eagle) or the draft model, either with its free sources first, or the
 * free sources alone (prompt lookup without either).
 */
function drafterSource(plan: BenchPlan, v: BenchVariant): DrafterSource {
  if (v.eagle) {
    if (!plan.eagle) throw new Error(`variant ${v.id} needs an EAGLE-3 head (--eagle)`);
    return { head: plan.eagle };
  }
  if (plan.draft && !v.noModel) return { model: plan.draft };
  return v.free.length > 0 ? { free: v.free } : { name: "prompt-lookup" };
}

async function generateVerispec(plan: BenchPlan, v: BenchVariant, prompt: string, seed: number): Promise<Omit<Measured, keyof CallSplit>> {
  const sampling = samplingFrom({ temperature: v.temperature, seed, rule: v.rejection ? "rejection" : "coupled" });
  const constraints = new Constraints({ repetitionPenalty: plan.repetitionPenalty });
  const options = { maxTokens: plan.maxTokens, sampling, constraints };
  let run: Awaited<ReturnType<typeof collectGeneration>>;
  if (v.policy === TARGET_ONLY) run = await collectGeneration(generateTargetOnly(plan.target, prompt, options));
  else {
    const drafter = createDrafter(drafterSource(plan, v), plan.target, { sampling, constraints, free: v.free });
    try {
      if (v.head && !plan.head) throw new Error(`variant ${v.id} needs --head`);
      const policy = createPolicy(v.basePolicy, {
        ...plan.policyOptions,
        adaptiveMemory: adaptiveMemory(plan, v.id),
        k: v.k,
        scorer: v.head ? plan.head : undefined,
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
    output: createHash("sha1").update(Int32Array.from(run.tokens)).digest("hex").slice(0, 16),
    copyRate: copyRate(plan.target.vocabulary.tokenize(prompt, true), run.tokens),
  };
}

type Measured = Omit<BenchRow, "variant" | "policy" | "k" | "temperature" | "repeat" | "prompt" | "seed">;

/** A peer's generation: what it reports (tokens, time, drafted and accepted); the rest is unknown. */
function peerRow(tokens: number, seconds: number, drafted: number, accepted: number): Measured {
  const unknown = Number.NaN;
  return {
    tokens,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    steps: unknown,
    blocks: unknown,
    meanAcceptedPerBlock: unknown,
    drafted,
    accepted,
    drafterCalls: unknown,
    targetCalls: unknown,
    draftSeconds: unknown,
    verifySeconds: unknown,
    targetDecodeSeconds: unknown,
    drafterDecodeSeconds: unknown,
    rowWorkSeconds: unknown,
    handoffSeconds: unknown,
    acceptanceByPosition: "",
    output: "",
    copyRate: unknown,
  };
}

async function runNodeLlamaCpp(plan: BenchPlan, v: BenchVariant, prompt: string, seed: number): Promise<Measured> {
  if (!plan.peers) throw new Error(`variant ${v.id} needs node-llama-cpp peers (GGUF models)`);
  const kind: PeerKind = v.policy === PEER_DRAFT ? "draft" : "lookup";
  const r = await plan.peers.generate(kind, v.k, prompt, plan.maxTokens, v.temperature, seed);
  return peerRow(r.tokens, r.seconds, r.validated + r.refuted, r.validated);
}

async function runLlamaCppTool(plan: BenchPlan, v: BenchVariant, prompt: string, seed: number): Promise<Measured> {
  if (!plan.tools) throw new Error(`variant ${v.id} needs llama.cpp's tools (--llama-tools)`);
  const g = { prompt, maxTokens: plan.maxTokens, temperature: v.temperature, seed, repetitionPenalty: plan.repetitionPenalty };
  const r = v.spec ? await plan.tools.speculative(g, v.spec, v.k) : await plan.tools.targetOnly(g);
  return peerRow(r.tokens, r.seconds, r.drafted, r.accepted);
}

/** How each variant runs: peers by their names, every verispec policy (and target-only) by runVerispec. */
const RUNNERS: Record<string, (plan: BenchPlan, v: BenchVariant, prompt: string, seed: number) => Promise<Measured>> = {
  [PEER_DRAFT]: runNodeLlamaCpp,
  [PEER_LOOKUP]: runNodeLlamaCpp,
  [LLAMACPP_TARGET_ONLY]: runLlamaCppTool,
  [LLAMACPP_SPEC]: runLlamaCppTool,
};

/**
 * One short, unrecorded generation of the target alone and one with the drafter (and one with the EAGLE-3 head) before measuring: the first
 * passes over a freshly loaded model page its weights in (and on a GPU build its kernels' graphs), which would
 * otherwise be charged to whichever variant runs first.
 */
async function warmUp(plan: BenchPlan): Promise<void> {
  const prompt = plan.prompts[0];
  if (prompt === undefined) return;
  const short = { ...plan, maxTokens: Math.min(plan.maxTokens, 8) };
  await runVerispec(short, { id: "warm-up", ...parseBenchPolicy(TARGET_ONLY), k: 0, temperature: 0 }, prompt, plan.seed);
  await runVerispec(short, { id: "warm-up", ...parseBenchPolicy("chain"), k: 4, temperature: 0 }, prompt, plan.seed);
  if (plan.eagle) await runVerispec(short, { id: "warm-up", ...parseBenchPolicy("chain+eagle"), k: 4, temperature: 0 }, prompt, plan.seed);
}

/** A short unrecorded generation of the target alone (see runBench). */
async function rewarm(plan: BenchPlan, prompt: string): Promise<void> {
  await runVerispec(
    { ...plan, maxTokens: Math.min(plan.maxTokens, 16) },
    { id: "warm-up", ...parseBenchPolicy(TARGET_ONLY), k: 0, temperature: 0 },
    prompt,
    plan.seed,
  );
}

/**
 * Runs the plan; returns the rows (also handed to onRow one by one). Stops early, cleanly, when the signal aborts.
 * A verispec variant that follows one of llama.cpp's programs first runs a short unrecorded generation: a peer's
 * process takes the cores and caches, and verispec's first decodes after it ran 30-50% slower on 2 cores,
 * which would charge the variant for the peer (a peer's own timing starts after its process has loaded its model).
 */
export async function runBench(plan: BenchPlan): Promise<BenchRow[]> {
  await warmUp(plan);
  const rows: BenchRow[] = [];
  let afterPeer = false;
  for (let repeat = 0; repeat < plan.repeats; repeat++) {
    for (const [p, prompt] of plan.prompts.entries()) {
      for (const v of plan.variants) {
        if (plan.signal?.aborted) return rows;
        const seed = plan.seed + 1000 * repeat + p;
        const runner = RUNNERS[v.basePolicy];
        if (!runner && afterPeer) await rewarm(plan, prompt);
        afterPeer = runner === runLlamaCppTool;
        const measured = await (runner ?? runVerispec)(plan, v, prompt, seed);
        const row: BenchRow = { variant: v.id, policy: v.policy, k: v.k, temperature: v.temperature, repeat, prompt: p, seed, ...measured };
        rows.push(row);
        plan.onRow(row);
      }
    }
  }
  return rows;
}
