/**
 * The rows of one llama.cpp evaluate as LogitRows: a whole row is copied into JavaScript only when `row(i)` asks,
 * summaries are read from what the pass summarised natively, and sampling runs natively on the context's rows.
 * Every access is refused once the session has evaluated again (the rows are the context's last pass).
 */
import type { LogitRows, RowSampling } from "../../model/rows.js";
import type { NativeBinding, NativeContext } from "./native.js";
import { type BatchBuffers, readSummary, summaryStride } from "./nativeLayout.js";

/** Where the rows come from: the context, the buffers its pass filled, and the summaries' size. */
export interface RowSource {
  native: NativeBinding;
  context: NativeContext;
  buffers: BatchBuffers;
  vocabSize: number;
  /** Tokens per row summary (0: none). */
  top: number;
}

/** `count` rows of the context's last pass, valid while `current()` says so. */
export function nativeRows(source: RowSource, count: number, current: () => boolean): LogitRows {
  const { native, context, buffers, vocabSize, top } = source;
  const { logits, summaries } = buffers;
  const copied = new Uint8Array(count);
  const check = (i: number) => {
    if (!current()) throw new Error("these logits rows are stale: the session has evaluated again since");
    if (!(i >= 0 && i < count)) throw new RangeError(`row ${i} is outside 0..${count - 1}`);
  };
  return {
    count,
    vocabSize,
    row: (i) => {
      check(i);
      if (!copied[i]) native.copyRow(context, i, logits, i * vocabSize);
      copied[i] = 1;
      return logits.subarray(i * vocabSize, (i + 1) * vocabSize);
    },
    capabilities: {
      sampling: rowSampling(source, check),
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

/** Sampling on the context's rows, natively (each access checked first). */
function rowSampling({ native, context, buffers, vocabSize }: RowSource, check: (i: number) => void): RowSampling {
  return {
    sampleToken: (i, s, draw) => {
      check(i);
      if ("uniform" in draw) return native.sampleRow(context, i, s.temperature, s.topK, s.topP, draw.uniform);
      return native.coupledRow(context, i, s.temperature, s.topK, s.topP, draw.seed, draw.position);
    },
    samplingDistribution: (i, s) => {
      check(i);
      const out = buffers.samplingRow(i, vocabSize);
      native.samplingRow(context, i, s.temperature, s.topK, s.topP, out);
      return out;
    },
  };
}
