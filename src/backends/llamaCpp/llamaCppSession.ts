/**
 * A llama.cpp context: a unified KV cache with several sequences, evaluated on a worker thread. Each row asked
 * for is summarised natively (rowSummary); a whole row is copied into JavaScript only when `row(i)` asks.
 */

import {
  type GreedyRun,
  type LogitRows,
  type RowSummary,
  type RowSummaryKind,
  type RunSampler,
  type RunSummaryKind,
  type SampledRun,
  TOP_SUMMARY_TOKENS,
} from "../../model/rows.js";
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
import type { NativeBinding, NativeContext } from "./native.js";

/** Tokens per native row summary, by kind (0: none). */
const SUMMARY_TOP: Record<RowSummaryKind, number> = { none: 0, argmax: 1, top: TOP_SUMMARY_TOKENS };

/** Doubles per row summary (native/rows.cc): logSumExp, entropy, `top` ids, `top` logits. */
function summaryStride(top: number): number {
  return top === 0 ? 0 : 2 + 2 * top;
}

function readSummary(s: Float64Array, at: number, top: number): RowSummary {
  const ids: number[] = new Array(top);
  const logits: number[] = new Array(top);
  for (let k = 0; k < top; k++) {
    ids[k] = s[at + 2 + k];
    logits[k] = s[at + 2 + top + k];
  }
  return { logSumExp: s[at], entropy: s[at + 1], top: ids, topLogits: logits };
}

/** Reused typed arrays for marshalling batches; they only grow. */
class BatchBuffers {
  tokens = new Int32Array(0);
  positions = new Int32Array(0);
  seqOffsets = new Int32Array(1);
  seqIds = new Int32Array(0);
  outputs = new Uint8Array(0);
  logits = new Float32Array(0);
  summaries = new Float64Array(0);
  /** Rows' sampling distributions, one vocabulary each, by row (a fresh array each made garbage collection a cost). */
  private sampling: Float64Array[] = [];

  samplingRow(i: number, vocabSize: number): Float64Array {
    this.sampling[i] ??= new Float64Array(vocabSize);
    return this.sampling[i];
  }

  fill(batch: readonly BatchToken[], vocabSize: number, summaryStride: number): number {
    const n = batch.length;
    const ids = batch.reduce((sum, t) => sum + t.sequences.length, 0);
    const rows = batch.reduce((sum, t) => sum + (t.logits ? 1 : 0), 0);
    if (this.tokens.length < n) {
      this.tokens = new Int32Array(n);
      this.positions = new Int32Array(n);
      this.outputs = new Uint8Array(n);
      this.seqOffsets = new Int32Array(n + 1);
    }
    if (this.seqIds.length < ids) this.seqIds = new Int32Array(ids);
    if (this.logits.length < rows * vocabSize) this.logits = new Float32Array(rows * vocabSize);
    if (this.summaries.length < rows * summaryStride) this.summaries = new Float64Array(rows * summaryStride);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const t = batch[i];
      this.tokens[i] = t.token;
      this.positions[i] = t.position;
      this.outputs[i] = t.logits ? 1 : 0;
      this.seqOffsets[i] = k;
      for (const s of t.sequences) this.seqIds[k++] = s;
    }
    this.seqOffsets[n] = k;
    return rows;
  }
}

/** One decode: row summaries of `top` tokens, a run of `steps` (greedy into `drafted`, or `sampled`), a prefill. */
interface DecodeRequest {
  top: number;
  steps: number;
  drafted?: Int32Array;
  sampled?: { settings: Float64Array; distributions: Float64Array };
  prefill?: boolean;
}

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
    this.capabilities = { passNumerics, greedyRuns: this, rowRuns: this, sampledRuns: this, cellLending: this };
    this.decodeOnCaller = o.decodeOn === "caller";
    this.layerInputs = new LayerInputs(native, context, o.embeddingSize ?? 0);
    this.statsAtStart = native.contextStats(context);
    const info = native.contextInfo(context);
    this.contextSize = info.contextSize;
    this.maxSequences = info.maxSequences;
    this.batchSize = info.batchSize;
  }

  async evaluate(batch: readonly BatchToken[], options?: EvaluateOptions): Promise<LogitRows> {
    const count = await this.decode(batch, { top: this.summaryTop, steps: 1, prefill: options?.prefill });
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
    await this.decode(batch, { top, steps, drafted });
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
    await this.decode(batch, { top: 0, steps, drafted, sampled: { settings, distributions } });
    return { tokens: Array.from(drafted), distributions: Array.from({ length: steps }, (_, i) => distributions.subarray(i * vocabSize, (i + 1) * vocabSize)) };
  }

  /**
   * Validates and stages a batch and decodes it (a run of `steps` when `drafted` is given: greedy, or sampled
   * with `sampled`); returns the rows asked for. A prefill, and every pass of a session that need not keep batch
   * invariance, takes the stock kernels.
   */
  private async decode(batch: readonly BatchToken[], { top, steps, drafted, sampled, prefill }: DecodeRequest): Promise<number> {
    this.checkLive();
    const stock = prefill === true || !this.batchInvariant;
    if (stock !== this.stockKernels) {
      this.native.setStockKernels(this.context, stock);
      this.stockKernels = stock;
    }
    const { batchSize, contextSize, maxSequences } = this;
    validateBatch(batch, {
      batchSize,
      contextSize,
      maxSequences,
      vocabSize: this.vocabulary.size,
      sequenceLength: (s) => this.sequenceLength(s),
      emptyStartsAnywhere: this.startsAnywhere,
    });
    const b = this.buffers;
    const count = b.fill(batch, this.vocabulary.size, summaryStride(top) * steps);
    const n = batch.length;
    ++this.evaluation;
    const args = [
      this.context,
      b.tokens.subarray(0, n),
      b.positions.subarray(0, n),
      b.seqOffsets.subarray(0, n + 1),
      b.seqIds,
      b.outputs.subarray(0, n),
      top,
      b.summaries,
    ] as const;
    const native = this.native;
    const sync = this.decodeOnCaller;
    if (sampled && drafted) {
      const run = [...args, steps, drafted, sampled.settings, sampled.distributions] as const;
      if (sync) native.decodeSampledRunSync(...run);
      else await native.decodeSampledRun(...run);
    } else if (drafted) {
      if (sync) native.decodeGreedyRunSync(...args, steps, drafted);
      else await native.decodeGreedyRun(...args, steps, drafted);
    } else if (sync) native.decodePassSync(...args);
    else await native.decodePass(...args);
    return count;
  }

  /** The rows of one evaluate: copied from llama.cpp when first asked for, refused once the next evaluate ran. */
  private rowsOf(evaluation: number, count: number): LogitRows {
    const vocabSize = this.vocabulary.size;
    const { logits, summaries } = this.buffers;
    const copied = new Uint8Array(count);
    const check = (i: number) => {
      if (evaluation !== this.evaluation) throw new Error("these logits rows are stale: the session has evaluated again since");
      if (!(i >= 0 && i < count)) throw new RangeError(`row ${i} is outside 0..${count - 1}`);
    };
    const top = this.summaryTop;
    return {
      count,
      vocabSize,
      row: (i) => {
        check(i);
        if (!copied[i]) this.native.copyRow(this.context, i, logits, i * vocabSize);
        copied[i] = 1;
        return logits.subarray(i * vocabSize, (i + 1) * vocabSize);
      },
      capabilities: {
        sampling: {
          sampleToken: (i, s, draw) => {
            check(i);
            if ("uniform" in draw) return this.native.sampleRow(this.context, i, s.temperature, s.topK, s.topP, draw.uniform);
            return this.native.coupledRow(this.context, i, s.temperature, s.topK, s.topP, draw.seed, draw.position);
          },
          samplingDistribution: (i, s) => {
            check(i);
            const out = this.buffers.samplingRow(i, vocabSize);
            this.native.samplingRow(this.context, i, s.temperature, s.topK, s.topP, out);
            return out;
          },
        },
        summaries:
          top === 0
            ? undefined
            : {
                summary: (i) => {
                  check(i);
                  return readSummary(summaries, i * summaryStride(top), top);
                },
              },
      },
    };
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

/**
 * A sampled run's settings as native/decode.cc reads them: [temperature, topK, topP, 0, one uniform per step], or
 * [temperature, topK, topP, 1, seed, position of the first token] for coupled draws.
 */
function runSettings(sampler: RunSampler, steps: number): Float64Array {
  const { temperature, topK, topP } = sampler.transform;
  const draws = sampler.draws;
  if (!("uniforms" in draws)) return new Float64Array([temperature, topK, topP, 1, draws.seed, draws.position]);
  if (draws.uniforms.length < steps) throw new RangeError(`a sampled run needs a uniform for each of its ${steps} steps, got ${draws.uniforms.length}`);
  return new Float64Array([temperature, topK, topP, 0, ...draws.uniforms.subarray(0, steps)]);
}
