/**
 * The backend roles every other module talks to: a `LanguageModel` (weights and vocabulary) opens `ModelSession`s
 * (a KV cache with several sequences) that evaluate batches of tokens and hand back logits rows (rows.ts). What a
 * session can do beyond that, and what its numbers depend on, it states in one record (SessionCapabilities).
 */
import type { FeatureHeads } from "./head.js";
import type { GreedyRun, LogitRows, RowSummaryKind, RunSampler, RunSummaryKind, SampledRun } from "./rows.js";
import type { TokenId, Vocabulary } from "./vocabulary.js";

/** One token of a batch. */
export interface BatchToken {
  token: TokenId;
  position: number;
  /**
   * The sequences that will see this token in their cache (several for a node
   * shared by tree branches). The token itself attends to the history of the
   * first one, so all of them must share that history.
   */
  sequences: readonly number[];
  /** Whether the logits predicting the next token after this one are wanted. */
  logits: boolean;
}

export interface SessionOptions {
  /** Context size in tokens; defaults to the model's training context, capped at DEFAULT_CONTEXT_SIZE. */
  contextSize?: number;
  /** How many sequences the cache holds; 1 by default (trees need more). */
  maxSequences?: number;
  /** Most tokens one `evaluate` may take; 512 by default. */
  batchSize?: number;
  /** What to summarise of each row ("argmax" by default). */
  rowSummary?: RowSummaryKind;
  /**
   * Whether the session's passes keep batch invariance where the backend has it on; true by default. A drafter's
   * numbers never decide the output, so it may take the backend's fastest kernels (llama.cpp's stock ones on CUDA).
   */
  batchInvariant?: boolean;
}

/** How one evaluate may be computed. */
export interface EvaluateOptions {
  /**
   * The pass prefills a prompt: every generation of the prompt prefills it in the same passes (all of it but its
   * last token, which the first step carries), so its numbers need not match a pass of another shape, and a
   * backend keeping batch invariance may take its fastest kernels for it.
   */
  prefill?: boolean;
}

/** Default cap on a session's context size, in tokens. */
export const DEFAULT_CONTEXT_SIZE = 4096;
/** Default most tokens per evaluate call. */
export const DEFAULT_BATCH_SIZE = 512;

/**
 * What else a token's logits depend on, beyond its own sequence's tokens, as capability flags (slots/ reads them).
 * Always, where it applies, the order of the cache cells its pass reads (llama.cpp; the n-gram backend not even
 * that): slots sharing a cache pin their cells (cellPinning.ts). On the CPU without batch invariance a pass's shape
 * still moves a trained model's logits (ggml-cpu's flash attention takes a tiled path from 64 query rows and splits
 * the cells of a one-row pass over 512 of them, each summing in another order).
 */
export interface PassNumerics {
  /** The pass's size picks the kernels (llama.cpp's stock CUDA kernels): pinning cells would buy nothing. */
  readonly passSizeMatters: boolean;
  /**
   * A prompt's prefill (EvaluateOptions.prefill) runs other kernels than the other passes (CUDA with batch
   * invariance: stock prefills), so a prompt's tokens give the same numbers only when prefilled in passes of their
   * own, as every generation of it prefills them.
   */
  readonly prefillsApart: boolean;
}

/** The cell order alone matters (llama.cpp on the CPU; the default). */
export const CELL_ORDER: PassNumerics = { passSizeMatters: false, prefillsApart: false };

/**
 * What a session can do besides evaluating and editing its cache, stated by every session. Each optional ability is
 * the object that performs it, or undefined where the session lacks it; a caller checks the capability and calls
 * through what it checked:
 *
 *   const runs = session.capabilities.greedyRuns;
 *   if (runs) tokens = (await runs.continueGreedy(batch, k)).tokens;
 *
 * Why this shape rather than boolean flags beside optional methods, or methods that throw when a flag is off: a flag
 * and its method can disagree (the flag on, the method missing, or the reverse), and a throwing method turns a
 * forgotten check into a runtime error on the backend that lacks it; TypeScript does not narrow a session by a
 * flag nested in it either, so callers would need `!`. Here a call cannot be written without holding the ability,
 * a session cannot claim one without implementing it, and the keys are required, so every session says what it
 * lacks (a wrapper forwards the record, it cannot silently drop a member).
 */
export interface SessionCapabilities {
  /** What a token's logits depend on besides its own sequence. */
  readonly passNumerics: PassNumerics;
  /** A greedy run of one sequence in one call (llama.cpp; a SharedModel slot whose runs are merged). */
  readonly greedyRuns: GreedyRuns | undefined;
  /** Greedy runs of several sequences decoded together in one call (llama.cpp). */
  readonly rowRuns: RowRuns | undefined;
  /** A sampled run in one call (llama.cpp). */
  readonly sampledRuns: SampledRuns | undefined;
  /** Sequences that share cells without computing them, for pinned cells (llama.cpp: cell placement matters). */
  readonly cellLending: CellLending | undefined;
  /** Feeding feature heads (EAGLE-3) the states of its passes (llama.cpp in this process). */
  readonly featureHeads: FeatureHeads | undefined;
}

/** A session with none of the optional abilities, whose numbers depend on the cell order alone. */
export const PLAIN_SESSION: SessionCapabilities = {
  passNumerics: CELL_ORDER,
  greedyRuns: undefined,
  rowRuns: undefined,
  sampledRuns: undefined,
  cellLending: undefined,
  featureHeads: undefined,
};

/** SessionCapabilities.greedyRuns: where runs save a round trip to JavaScript per token. */
export interface GreedyRuns {
  /**
   * Evaluates the batch (only its last token asks for logits), then `steps` - 1 times appends the argmax and
   * evaluates it. Returns the argmax after each step and the row summary it came from; the cache ends holding the
   * batch and all drafted tokens but the last.
   */
  continueGreedy(batch: readonly BatchToken[], steps: number, summary?: RunSummaryKind): Promise<GreedyRun>;
}

/** SessionCapabilities.rowRuns. */
export interface RowRuns {
  /**
   * Each token of the batch that asks for logits is the last of its own sequences (no two share one), and a greedy
   * run of `steps` goes on after each, one token per run decoded together at every step. runs[r] is the run after
   * the r-th of those tokens.
   */
  continueGreedyRows(batch: readonly BatchToken[], steps: number, summary?: RunSummaryKind): Promise<GreedyRun[]>;
}

/** SessionCapabilities.sampledRuns. */
export interface SampledRuns {
  /**
   * Evaluates the batch, then `steps` times draws the next token from the last row's sampling distribution with the
   * sampler's next draw, and evaluates it (all but the last drawn token).
   */
  continueSampled(batch: readonly BatchToken[], steps: number, sampler: RunSampler): Promise<SampledRun>;
}

/** SessionCapabilities.cellLending: for internal bookkeeping sequences (cellPinning.ts). */
export interface CellLending {
  /** Adds `destination` to the cells `source` holds at positions [from, to), without computing anything (the cells stay where they are). */
  copyRange(source: number, destination: number, from: number, to: number): void;
  /** Lets an empty sequence start at any position (by default a batch must start an empty sequence at 0, which catches mistakes). */
  allowStartAnywhere(): void;
}

/** A KV cache over a model, holding one or more sequences. */
export interface ModelSession {
  readonly contextSize: number;
  readonly maxSequences: number;
  readonly batchSize: number;
  readonly vocabulary: Vocabulary;
  /** What the session can do besides evaluating and editing its cache, and what its numbers depend on: stated by every session. */
  readonly capabilities: SessionCapabilities;
  /** Evaluates a batch in one forward pass. Positions of each sequence must continue its cache. */
  evaluate(batch: readonly BatchToken[], options?: EvaluateOptions): Promise<LogitRows>;
  /** Cached length of a sequence (its last position + 1; 0 when empty). */
  sequenceLength(sequence: number): number;
  /** Removes positions [from, to) of a sequence (to the end when `to` is omitted): rolls back rejected drafts. */
  removeRange(sequence: number, from: number, to?: number): void;
  /** Makes `destination` see the same cached tokens as `source` (forks a shared prefix). */
  copySequence(source: number, destination: number): void;
  /** Drops every sequence but this one. */
  keepOnlySequence(sequence: number): void;
  /** Empties the cache. */
  clear(): void;
  dispose(): void;
}

/**
 * Where a model's evaluate calls spent their time, summed over its sessions (backends that run natively
 * report it): waiting for a worker thread, inside the forward pass, summarizing the logits rows (row work), and waiting for
 * the JavaScript thread to take the result back.
 */
export interface ModelCallStats {
  calls: number;
  tokens: number;
  rows: number;
  queueMs: number;
  decodeMs: number;
  rowsMs: number;
  returnMs: number;
}

export function emptyCallStats(): ModelCallStats {
  return { calls: 0, tokens: 0, rows: 0, queueMs: 0, decodeMs: 0, rowsMs: 0, returnMs: 0 };
}

/** Field by field sum of two call stats (the difference with `sign` -1: the calls between two readings). */
export function addCallStats(a: ModelCallStats, b: ModelCallStats, sign = 1): ModelCallStats {
  const out = emptyCallStats();
  for (const key of Object.keys(out) as (keyof ModelCallStats)[]) out[key] = a[key] + sign * b[key];
  return out;
}

export interface LanguageModel {
  /** A short name for reports. */
  readonly name: string;
  readonly vocabulary: Vocabulary;
  /** The context length the model was trained with. */
  readonly trainContextSize: number;
  createSession(options?: SessionOptions): Promise<ModelSession>;
  /** Time split of every evaluate so far (optional: native backends). */
  callStats?(): ModelCallStats;
  dispose(): void;
}
