/**
 * A llama.cpp context: a unified KV cache with several sequences, evaluated on a worker thread. Each row asked
 * for is summarised natively (rowSummary); a whole row is copied into JavaScript only when `row(i)` asks.
 */

import type { FeatureHeadModel, FeatureHeadSession } from "../../model/head.js";
import type { GreedyRun, LogitRows, RowSummaryKind, RunSampler, RunSummaryKind, SampledRun } from "../../model/rows.js";
import {
  addCallStats,
  type BatchToken,
  CELL_ORDER,
  type CellLending,
  type EvaluateOptions,
  type GreedyRuns,
  type ModelCallStats,
  type ModelSession,
  type PassNumerics,
  type RowRuns,
  type SampledRuns,
  type SessionCapabilities,
} from "../../model/session.js";
import type { Vocabulary } from "../../model/vocabulary.js";
import { validateBatch } from "../batchValidation.js";
import { LayerInputs } from "./layerInputs.js";
import type { NativeBinding, NativeContext, PassArguments } from "./native.js";
import { BatchBuffers, readSummary, runSettings, SUMMARY_TOP, summaryStride } from "./nativeLayout.js";
import { nativeRows } from "./nativeRows.js";

/** What a decode runs: one pass, or a run of `steps` whose tokens go into `drafted` (greedy, or sampled with its settings). */
type DecodeRun =
  | { kind: "pass" }
  | { kind: "greedy"; steps: number; drafted: Int32Array }
  | { kind: "sampled"; steps: number; drafted: Int32Array; settings: Float64Array; distributions: Float64Array };

/** One decode: row summaries of `top` tokens, what it runs, and whether it is a prompt's prefill. */
interface DecodeRequest {
  top: number;
  run: DecodeRun;
  prefill?: boolean;
}

const PASS: DecodeRun = { kind: "pass" };

/** How a session's passes run (see LlamaCppLoadOptions). */
export interface LlamaCppSessionOptions {
  rowSummary?: RowSummaryKind;
  /** Whether passes keep batch invariance (where the process has it on) other than prompt prefills; true by default. */
  batchInvariant?: boolean;
  /** What its logits depend on besides their sequence (SessionCapabilities.passNumerics); CELL_ORDER by default. */
  passNumerics?: PassNumerics;
  /** The thread passes run on; "worker" by default. */
  decodeOn?: "worker" | "caller";
  /** The model's embedding size (the width of a layer's input), for layerInputs; 0 by default. */
  embeddingSize?: number;
  /** Opens a feature head on a sequence of this session, with a cache of that many positions (SessionCapabilities.featureHeads); none by default. */
  openHead?: (session: LlamaCppSession, head: FeatureHeadModel, sequence: number, contextSize?: number) => FeatureHeadSession;
}

export class LlamaCppSession implements ModelSession, GreedyRuns, RowRuns, SampledRuns, CellLending {
  readonly contextSize: number;
  readonly maxSequences: number;
  readonly batchSize: number;
  private readonly buffers = new BatchBuffers();
  private disposed = false;
  private startsAnywhere = false;
  /** Evaluates so far: rows of an older one are stale. */
  private evaluation = 0;
  private readonly summaryTop: number;
  private readonly statsAtStart: ModelCallStats;
  /** The kernels the native context was last told to take (native.setStockKernels); unknown at first. */
  private stockKernels: boolean | undefined;
  private readonly batchInvariant: boolean;
  /** Every ability: llama.cpp runs greedy and sampled runs, runs of several rows, and lends cells. */
  readonly capabilities: SessionCapabilities;
  private readonly decodeOnCaller: boolean;
  /** Its passes' layer inputs, for an EAGLE-3 head reading this target (captured once a head asks). */
  readonly layerInputs: LayerInputs;

  constructor(
    private readonly native: NativeBinding,
    private readonly context: NativeContext,
    readonly vocabulary: Vocabulary,
    /** Takes the context back when the session is disposed (to free it, or to keep it for a later session). */
    private readonly release: (context: NativeContext) => void,
    o: LlamaCppSessionOptions = {},
  ) {
    this.summaryTop = SUMMARY_TOP[o.rowSummary ?? "argmax"];
    this.batchInvariant = o.batchInvariant ?? true;
    const passNumerics = o.passNumerics ?? CELL_ORDER;
    const open = o.openHead;
    const featureHeads = open && { attach: (head: FeatureHeadModel, sequence: number, contextSize?: number) => open(this, head, sequence, contextSize) };
    this.capabilities = { passNumerics, greedyRuns: this, rowRuns: this, sampledRuns: this, cellLending: this, featureHeads };
    this.decodeOnCaller = o.decodeOn === "caller";
    this.layerInputs = new LayerInputs(native, context, o.embeddingSize ?? 0);
    this.statsAtStart = native.contextStats(context);
    const info = native.contextInfo(context);
    this.contextSize = info.contextSize;
    this.maxSequences = info.maxSequences;
    this.batchSize = info.batchSize;
  }

  async evaluate(batch: readonly BatchToken[], options?: EvaluateOptions): Promise<LogitRows> {
    const count = await this.decode(batch, { top: this.summaryTop, run: PASS, prefill: options?.prefill });
    return this.rowsOf(this.evaluation, count);
  }

  async continueGreedy(batch: readonly BatchToken[], steps: number, summary?: RunSummaryKind): Promise<GreedyRun> {
    const [run] = await this.continueGreedyRows(batch, steps, summary);
    return run;
  }

  async continueGreedyRows(batch: readonly BatchToken[], steps: number, summary?: RunSummaryKind): Promise<GreedyRun[]> {
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`a greedy run needs a whole number of steps >= 1, got ${steps}`);
    const rows = batch.reduce((n, t) => n + (t.logits ? 1 : 0), 0);
    const top = Math.max(summary ? SUMMARY_TOP[summary] : this.summaryTop, 1);
    const drafted = new Int32Array(steps * rows);
    await this.decode(batch, { top, run: { kind: "greedy", steps, drafted } });
    const summaries = this.buffers.summaries;
    const stride = summaryStride(top);
    return Array.from({ length: rows }, (_, r) => {
      const at = Array.from({ length: steps }, (_, s) => s * rows + r);
      return { tokens: at.map((i) => drafted[i]), summaries: at.map((i) => readSummary(summaries, i * stride, top)) };
    });
  }

  async continueSampled(batch: readonly BatchToken[], steps: number, sampler: RunSampler): Promise<SampledRun> {
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`a sampled run needs a whole number of steps >= 1, got ${steps}`);
    const settings = runSettings(sampler, steps);
    const vocabSize = this.vocabulary.size;
    const size = steps * vocabSize;
    const distributions = sampler.into && sampler.into.length >= size ? sampler.into.subarray(0, size) : new Float64Array(size);
    const drafted = new Int32Array(steps);
    // No row summaries: each step's whole distribution comes back.
    await this.decode(batch, { top: 0, run: { kind: "sampled", steps, drafted, settings, distributions } });
    return { tokens: Array.from(drafted), distributions: Array.from({ length: steps }, (_, i) => distributions.subarray(i * vocabSize, (i + 1) * vocabSize)) };
  }

  /**
   * Validates and stages a batch and decodes it (a pass, or a run); returns the rows asked for. A prefill, and every
   * pass of a session that need not keep batch invariance, takes the stock kernels.
   */
  private async decode(batch: readonly BatchToken[], { top, run, prefill }: DecodeRequest): Promise<number> {
    this.checkLive();
    this.takeKernels(prefill === true || !this.batchInvariant);
    this.validate(batch);
    const count = this.buffers.fill(batch, this.vocabulary.size, summaryStride(top) * (run.kind === "pass" ? 1 : run.steps));
    ++this.evaluation;
    await this.callNative(this.passArguments(batch.length, top), run);
    return count;
  }

  /** Tells the native context which kernels to take, where that changed. */
  private takeKernels(stock: boolean): void {
    if (stock === this.stockKernels) return;
    this.native.setStockKernels(this.context, stock);
    this.stockKernels = stock;
  }

  private validate(batch: readonly BatchToken[]): void {
    const { batchSize, contextSize, maxSequences } = this;
    validateBatch(batch, {
      batchSize,
      contextSize,
      maxSequences,
      vocabSize: this.vocabulary.size,
      sequenceLength: (s) => this.sequenceLength(s),
      emptyStartsAnywhere: this.startsAnywhere,
    });
  }

  /** A pass's arguments over the staged batch of n tokens. */
  private passArguments(n: number, top: number): PassArguments {
    const b = this.buffers;
    const { tokens, positions, seqOffsets, outputs } = b;
    return [this.context, tokens.subarray(0, n), positions.subarray(0, n), seqOffsets.subarray(0, n + 1), b.seqIds, outputs.subarray(0, n), top, b.summaries];
  }

  /** The native decode of the run, on the caller's thread or the worker's. */
  private async callNative(args: PassArguments, run: DecodeRun): Promise<void> {
    const native = this.native;
    const sync = this.decodeOnCaller;
    if (run.kind === "sampled") {
      const sampled = [...args, run.steps, run.drafted, run.settings, run.distributions] as const;
      if (sync) native.decodeSampledRunSync(...sampled);
      else await native.decodeSampledRun(...sampled);
    } else if (run.kind === "greedy") {
      if (sync) native.decodeGreedyRunSync(...args, run.steps, run.drafted);
      else await native.decodeGreedyRun(...args, run.steps, run.drafted);
    } else if (sync) native.decodePassSync(...args);
    else await native.decodePass(...args);
  }

  /** The rows of one evaluate: copied from llama.cpp when first asked for, refused once the next evaluate ran. */
  private rowsOf(evaluation: number, count: number): LogitRows {
    const source = { native: this.native, context: this.context, buffers: this.buffers, vocabSize: this.vocabulary.size, top: this.summaryTop };
    return nativeRows(source, count, () => evaluation === this.evaluation);
  }

  sequenceLength(sequence: number): number {
    this.checkLive();
    return this.native.seqPositionMax(this.context, sequence) + 1;
  }

  removeRange(sequence: number, from: number, to?: number): void {
    this.checkLive();
    if (from < 0 || (to !== undefined && to < from)) throw new RangeError(`invalid range [${from}, ${to})`);
    if (!this.native.seqRemove(this.context, sequence, from, to ?? -1))
      throw new Error(`llama.cpp could not remove positions ${from}.. of sequence ${sequence}`);
  }

  copySequence(source: number, destination: number): void {
    this.checkLive();
    this.native.seqRemove(this.context, destination, 0, -1);
    this.native.seqCopy(this.context, source, destination, 0, -1);
  }

  allowStartAnywhere(): void {
    this.startsAnywhere = true;
  }

  copyRange(source: number, destination: number, from: number, to: number): void {
    this.checkLive();
    this.native.seqCopy(this.context, source, destination, from, to);
  }

  keepOnlySequence(sequence: number): void {
    this.checkLive();
    this.native.seqKeep(this.context, sequence);
  }

  clear(): void {
    this.checkLive();
    this.native.memoryClear(this.context);
  }

  /** Time split of this session's evaluates (a reused context's earlier calls left out). */
  callStats(): ModelCallStats {
    return addCallStats(this.native.contextStats(this.context), this.statsAtStart, -1);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.layerInputs.release();
    this.release(this.context);
  }

  private checkLive(): void {
    if (this.disposed) throw new Error("the session has been disposed");
  }
}
