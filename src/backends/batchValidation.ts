/** Checks a batch against a session before any backend work, so mistakes get a clear error. */
import type { BatchToken } from "../model/session.js";

export interface BatchLimits {
  vocabSize: number;
  contextSize: number;
  maxSequences: number;
  batchSize: number;
  /** Current cached length of a sequence. */
  sequenceLength(sequence: number): number;
  /** Whether an empty sequence may start at any position (llama.cpp allows it); else at 0. */
  emptyStartsAnywhere?: boolean;
}

/** Throws a RangeError naming the first problem: sizes, ids, or positions that do not continue a sequence. */
export function validateBatch(batch: readonly BatchToken[], limits: BatchLimits): void {
  if (batch.length === 0) throw new RangeError("the batch is empty");
  if (batch.length > limits.batchSize) throw new RangeError(`the batch has ${batch.length} tokens; the session allows ${limits.batchSize}`);
  const next = new Map<number, number>();
  for (const [i, t] of batch.entries()) {
    if (!Number.isInteger(t.token) || t.token < 0 || t.token >= limits.vocabSize)
      throw new RangeError(`batch token ${i}: id ${t.token} is outside the vocabulary of ${limits.vocabSize}`);
    if (t.position >= limits.contextSize)
      throw new RangeError(`batch token ${i}: position ${t.position} does not fit the context of ${limits.contextSize} tokens`);
    if (t.sequences.length === 0) throw new RangeError(`batch token ${i}: it belongs to no sequence`);
    for (const s of t.sequences) {
      if (!Number.isInteger(s) || s < 0 || s >= limits.maxSequences)
        throw new RangeError(`batch token ${i}: sequence ${s} is outside 0..${limits.maxSequences - 1}`);
      // The cache is asked once per sequence: a block's later tokens continue from the earlier ones.
      const expected = next.get(s) ?? start(limits, s, t.position);
      if (t.position !== expected) throw new RangeError(`batch token ${i}: sequence ${s} continues at position ${expected}, not ${t.position}`);
      next.set(s, expected + 1);
    }
  }
}

/** Where a sequence's first token in the batch must be: after its cached tokens (anywhere, when allowed, if none). */
function start(limits: BatchLimits, sequence: number, position: number): number {
  const cached = limits.sequenceLength(sequence);
  return cached === 0 && limits.emptyStartsAnywhere ? position : cached;
}
