/**
 * How batches, row summaries and run settings are laid out for the native binding (native/decode.cc, native/rows.cc):
 * typed arrays reused from pass to pass, and the readers of what comes back.
 */
import { type RowSummary, type RowSummaryKind, type RunSampler, TOP_SUMMARY_TOKENS } from "../../model/rows.js";
import type { BatchToken } from "../../model/session.js";

/** Tokens per native row summary, by kind (0: none). */
export const SUMMARY_TOP: Record<RowSummaryKind, number> = { none: 0, argmax: 1, top: TOP_SUMMARY_TOKENS };

/** Doubles per row summary (native/rows.cc): logSumExp, entropy, `top` ids, `top` logits. */
export function summaryStride(top: number): number {
  return top === 0 ? 0 : 2 + 2 * top;
}

/** The row summary at `at` of the native summaries. */
export function readSummary(s: Float64Array, at: number, top: number): RowSummary {
  const ids: number[] = new Array(top);
  const logits: number[] = new Array(top);
  for (let k = 0; k < top; k++) {
    ids[k] = s[at + 2 + k];
    logits[k] = s[at + 2 + top + k];
  }
  return { logSumExp: s[at], entropy: s[at + 1], top: ids, topLogits: logits };
}

/** Reused typed arrays for marshalling batches; they only grow. */
export class BatchBuffers {
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

/**
 * A sampled run's settings as native/staging.cc reads them: [temperature, topK, topP, 0, one uniform per step], or
 * [temperature, topK, topP, 1, seed, position of the first token] for coupled draws.
 */
export function runSettings(sampler: RunSampler, steps: number): Float64Array {
  const { temperature, topK, topP } = sampler.transform;
  const draws = sampler.draws;
  if (!("uniforms" in draws)) return new Float64Array([temperature, topK, topP, 1, draws.seed, draws.position]);
  if (draws.uniforms.length < steps) throw new RangeError(`a sampled run needs a uniform for each of its ${steps} steps, got ${draws.uniforms.length}`);
  return new Float64Array([temperature, topK, topP, 0, ...draws.uniforms.subarray(0, steps)]);
}
