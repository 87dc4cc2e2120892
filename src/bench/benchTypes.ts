/** Records shared by the benchmark modules: variants of the matrix, raw rows, and the summary. */
import type { FreeSourceName } from "../drafters/drafterRegistry.js";

/** Variants that are not verispec policies. */
export const TARGET_ONLY = "target-only";
/** node-llama-cpp's own speculative decoding, as peers on the same models and thread count. */
export const PEER_DRAFT = "nlc-draft";
export const PEER_LOOKUP = "nlc-lookup";
/** llama.cpp's own llama-completion and llama-speculative-simple, built from the same source. */
export const LLAMACPP_TARGET_ONLY = "llamacpp-target-only";
export const LLAMACPP_SPEC = "llamacpp-spec";
/** llama.cpp's speculative type that drafts with an EAGLE-3 head (given as its draft model). */
export const LLAMACPP_EAGLE = "draft-eagle3";

/** A llamacpp-spec variant's configuration: llama-speculative-simple's --spec-type list and --spec-* options. */
export interface SpecConfig {
  types: string[];
  /** llama-speculative-simple's long options without their "--", with their values. */
  options: [string, string][];
  /** Written with brackets and no ":k": the types' own default lengths (the variant's k is 0). */
  defaults: boolean;
}

export interface BenchVariant {
  /** Unique label, e.g. "chain k=4 T=0". */
  id: string;
  /** A verispec policy name (with its modifiers, e.g. "adaptive+head+lookup"), TARGET_ONLY, or a peer. */
  policy: string;
  /** The verispec policy without modifiers ("adaptive"); the policy itself for TARGET_ONLY and peers. */
  basePolicy: string;
  /** Runs with the loaded acceptance head ("+head"). */
  head: boolean;
  /** Drafts with the EAGLE-3 head (bench --eagle) instead of the draft model ("+eagle"). */
  eagle: boolean;
  /** Free sources that draft before the draft model where they match ("+suffix", "+lookup"). */
  free: FreeSourceName[];
  /** Leaves the draft model out ("+nomodel"): the free sources draft alone. */
  noModel: boolean;
  /** Samples by the rejection rule ("+rejection") instead of the coupled one (SampledRule). */
  rejection: boolean;
  /** llama.cpp's speculative configuration (llamacpp-spec variants). */
  spec?: SpecConfig;
  /** Draft length (0 where it does not apply). */
  k: number;
  temperature: number;
}

/** One generation: prompt x variant x repeat. These are the CSV columns. */
export interface BenchRow {
  variant: string;
  policy: string;
  k: number;
  temperature: number;
  repeat: number;
  prompt: number;
  seed: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** Speculative steps (target passes after the prompt). */
  steps: number;
  blocks: number;
  meanAcceptedPerBlock: number;
  drafted: number;
  accepted: number;
  drafterCalls: number;
  targetCalls: number;
  draftSeconds: number;
  verifySeconds: number;
  /** Inside the target's and the drafter's forward passes (native backends; NaN where unknown). */
  targetDecodeSeconds: number;
  drafterDecodeSeconds: number;
  /** Native per-row work on the logits (argmax, top tokens, entropy) of both models. */
  rowWorkSeconds: number;
  /** Handing calls to the worker thread and their results back to JavaScript, both models. */
  handoffSeconds: number;
  /** Space-separated counts, per draft position: accepted/reached. */
  acceptanceByPosition: string;
  /** A hash of the generated token ids (empty for peers that do not give them): greedy rows must match target-only's. */
  output: string;
  /** Share of the generated tokens that continue a 4-gram which occurred earlier in the prompt or output (NaN for peers). */
  copyRate: number;
}

export const CSV_COLUMNS: (keyof BenchRow)[] = [
  "variant",
  "policy",
  "k",
  "temperature",
  "repeat",
  "prompt",
  "seed",
  "tokens",
  "seconds",
  "tokensPerSecond",
  "steps",
  "blocks",
  "meanAcceptedPerBlock",
  "drafted",
  "accepted",
  "drafterCalls",
  "targetCalls",
  "draftSeconds",
  "verifySeconds",
  "targetDecodeSeconds",
  "drafterDecodeSeconds",
  "rowWorkSeconds",
  "handoffSeconds",
  "acceptanceByPosition",
  "output",
  "copyRate",
];

export interface VariantSummary {
  variant: string;
  policy: string;
  k: number;
  temperature: number;
  generations: number;
  tokens: number;
  seconds: number;
  /** Total tokens / total seconds over all rows. */
  tokensPerSecond: number;
  /** Tokens/s of each repeat (all prompts of that repeat together). */
  tokensPerSecondByRepeat: number[];
  tokensPerSecondMin: number;
  tokensPerSecondMax: number;
  tokensPerSecondStd: number;
  /** Against target-only at the same temperature, in this run. */
  speedup: number | null;
  meanAcceptedPerBlock: number;
  acceptanceRate: number;
  acceptanceByPosition: number[];
  targetCallsPerSequence: number;
  drafterCallsPerSequence: number;
  targetCallsPer100Tokens: number;
  drafterCallsPer100Tokens: number;
  /** Leviathan et al.: expected tokens per block (1 - a^(k+1)) / (1 - a), chain-like variants only. */
  boundTokensPerBlock: number | null;
  /** That bound divided by the measured cost of a block (k drafter steps and one target pass). */
  boundTokensPerSecond: number | null;
  /** Greedy variants: generations whose tokens equal target-only's for the same prompt and repeat (lossless means all). */
  identicalToTargetOnly: { identical: number; compared: number } | null;
  /** Where a step's time went, in ms per step (verispec variants on native backends; null otherwise). */
  stepMs: StepTimeSplit | null;
  /** Share of generated tokens that continue a 4-gram seen earlier in the prompt or output (null for peers). */
  copyRate: number | null;
}

/** The fastest verispec variant and the fastest llama.cpp variant at one temperature, and their ratio. */
export interface BestAtTemperature {
  temperature: number;
  verispec: { variant: string; tokensPerSecond: number } | null;
  llamacpp: { variant: string; tokensPerSecond: number } | null;
  /** verispec's best over llama.cpp's best. */
  ratio: number | null;
  /** verispec's target alone over llama.cpp's (llamacpp-target-only). */
  targetOnlyRatio: number | null;
  /**
   * Where both ran: the fastest verispec variant drafting with the EAGLE-3 head ("+eagle") against the fastest
   * llamacpp-spec[draft-eagle3] variant (the same head in llama.cpp), and their ratio; absent otherwise.
   */
  eagle?: EagleBest;
  /** The target alone's copy rate at this temperature (how much its text repeats itself). */
  copyRate: number | null;
}

/** The best of each side's drafting with the same EAGLE-3 head at one temperature (BestAtTemperature.eagle). */
export interface EagleBest {
  verispec: { variant: string; tokensPerSecond: number };
  llamacpp: { variant: string; tokensPerSecond: number };
  /** verispec's over llama.cpp's. */
  ratio: number;
}

/**
 * A step's time: the whole step; drafting (wall) and inside it the drafter's forward passes; the target's pass
 * (wall) and inside it the target's forward pass; native row work and worker hand-offs of both models; and the
 * JavaScript rest (the step less forward passes, row work and hand-offs: policy, acceptance, bookkeeping).
 */
export interface StepTimeSplit {
  step: number;
  draft: number;
  drafterDecode: number;
  pass: number;
  targetDecode: number;
  rowWork: number;
  handoff: number;
  javascript: number;
}

export interface BenchSummary {
  createdAt: string;
  command: string;
  /** The source's commit (`sourceCommit`); absent in summaries written before it was recorded. */
  commit?: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  /** The models; `head`: the EAGLE-3 head of the +eagle and llamacpp-spec[draft-eagle3] variants, where any ran. */
  models: { target: ModelDetails; draft: ModelDetails | null; head?: ModelDetails };
  settings: {
    prompts: string;
    promptCount: number;
    repeats: number;
    maxTokens: number;
    threads: number;
    seed: number;
    /** Where the target ran, when not locally: its RPC servers and the round-trip delay added to each link. */
    placement?: { rpcServers: string[]; tensorSplit?: number[]; addedLatencyMs: number };
    /** verispec's variants computed batch-invariantly (--batch-invariant); llama.cpp's programs never. */
    batchInvariant?: boolean;
    /** The repetition penalty of every variant (1: off). */
    repetitionPenalty?: number;
    /** The llama.cpp libraries verispec ran on: node-llama-cpp's prebuilt ones, or a build from the bundled source. */
    llamaBuild?: string;
  };
  complete: boolean;
  variants: VariantSummary[];
  /** Per temperature: verispec's best against llama.cpp's best in this run. */
  best?: BestAtTemperature[];
}

export interface ModelDetails {
  file: string;
  bytes: number;
  parameters: number;
  vocabSize: number;
  description: string;
}
