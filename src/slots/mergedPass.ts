/**
 * Slots' batches evaluated in one pass of the shared session: each batch mapped to the shared session's sequences,
 * ordered (by pinned cells where the slots pin them, else as they come), evaluated, and each slot handed the rows
 * its own tokens asked for. Rows are views of the pass, copied where a later pass of the same merge reuses the storage.
 */
import type { LogitRows, RowSampling } from "../model/rows.js";
import type { BatchToken, EvaluateOptions, ModelSession } from "../model/session.js";
import type { PinnedCells } from "./cellPinning.js";
import { packParts } from "./sharedRuns.js";

/** A slot's batch in the shared session's sequence ids. */
export interface MappedPart {
  slot: number;
  batch: readonly BatchToken[];
}

/** Evaluates the parts in passes of at most the session's batch size (a part never split); rows come back per part. */
export async function evaluateMerged(
  shared: ModelSession,
  pinned: PinnedCells | undefined,
  parts: readonly MappedPart[],
  options: EvaluateOptions | undefined,
): Promise<{ rows: LogitRows[]; passes: number }> {
  const out: LogitRows[] = [];
  const groups = packParts(parts, shared.batchSize);
  for (const group of groups) {
    await pinned?.ensureRows(pinned.rowsNeeded(group));
    const { merged, indexOf } = pinned ? pinned.arrange(group) : inOrder(group);
    const rows = await shared.evaluate(merged, options);
    const rowOf = outputRows(merged);
    const copy = out.length + group.length < parts.length;
    for (const [g, p] of group.entries()) {
      const picked = p.batch.flatMap((t, i) => (t.logits ? [rowOf[indexOf[g][i]]] : []));
      out.push(rowsAt(rows, picked, copy));
    }
  }
  return { rows: out, passes: groups.length };
}

/** The parts merged as they come. */
function inOrder(parts: readonly { batch: readonly BatchToken[] }[]): { merged: BatchToken[]; indexOf: number[][] } {
  let next = 0;
  return { merged: parts.flatMap((p) => p.batch), indexOf: parts.map((p) => p.batch.map(() => next++)) };
}

/** For each token of a batch, the output row its logits take (rows come in batch order). */
function outputRows(batch: readonly BatchToken[]): number[] {
  let row = 0;
  return batch.map((t) => (t.logits ? row++ : -1));
}

/** The given rows of a pass, in order; copied when another pass will reuse the storage before they are read. */
function rowsAt(rows: LogitRows, picked: readonly number[], copy: boolean): LogitRows {
  const kept = copy ? picked.map((r) => rows.row(r).slice()) : undefined;
  const row = (i: number) => kept?.[i] ?? rows.row(picked[i]);
  const { summaries, sampling } = rows.capabilities;
  const saved = copy && summaries ? picked.map((r) => summaries.summary(r)) : undefined;
  const pickedSummaries = summaries && { summary: (i: number) => saved?.[i] ?? summaries.summary(picked[i]) };
  // Copied rows are sampled from in JavaScript; the backend's own sampling reads rows of its last pass only.
  const pickedSampling: RowSampling | undefined =
    copy || !sampling
      ? undefined
      : {
          samplingDistribution: (i, s) => sampling.samplingDistribution(picked[i], s),
          sampleToken: (i, s, draw) => sampling.sampleToken(picked[i], s, draw),
        };
  return { count: picked.length, vocabSize: rows.vocabSize, row, capabilities: { summaries: pickedSummaries, sampling: pickedSampling } };
}
