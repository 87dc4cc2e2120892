/**
 * Greedy runs of many slots in one backend call. Drafters of concurrent requests ask for runs of k tokens in the
 * same round of the pass merger (passMerger.ts); token by token, each drafted token would be a merged pass of its own, with a hop
 * to JavaScript and back between passes and a pass shape that changes as drafters stop (so no recorded CUDA
 * graph is replayed). Merged, the backend decodes one token per slot at every step of ONE call
 * (SessionCapabilities.rowRuns), as long as the longest run asks; a slot that asked for fewer steps gets its
 * own and the cells of the extra tokens are given back.
 */
import type { GreedyRun, RunSummaryKind } from "../model/rows.js";
import type { BatchToken, ModelSession, RowRuns } from "../model/session.js";

/** One slot's run: its batch (in the shared session's sequence ids), the steps it asked for, and its trimming. */
export interface RunPart {
  batch: readonly BatchToken[];
  steps: number;
  /** Gives back the slot's chain cells from this position on (the extra tokens of a longer run). */
  release(from: number): void;
}

/** Checks that a slot's run batch ends in the one token that asks for logits. */
export function checkRunBatch(batch: readonly BatchToken[]): void {
  const asks = batch.filter((t) => t.logits).length;
  if (batch.length === 0 || asks !== 1 || !batch[batch.length - 1].logits) throw new Error("a run's batch asks for the logits of its last token only");
}

/** Runs the parts (in passes of at most `batchSize` tokens, a part never split); runs come back per part. */
export async function runTogether(
  shared: ModelSession,
  rowRuns: RowRuns,
  parts: readonly RunPart[],
  summary: RunSummaryKind | undefined,
): Promise<GreedyRun[]> {
  const out: GreedyRun[] = [];
  for (const group of packParts(parts, shared.batchSize)) {
    const steps = Math.max(...group.map((p) => p.steps));
    const runs = await rowRuns.continueGreedyRows(
      group.flatMap((p) => p.batch),
      steps,
      summary,
    );
    for (const [i, p] of group.entries()) {
      // A slot that asked for fewer steps: its cache holds the extra tokens but the last, which was not decoded.
      if (p.steps < steps) p.release(p.batch[p.batch.length - 1].position + p.steps);
      out.push({ tokens: runs[i].tokens.slice(0, p.steps), summaries: runs[i].summaries.slice(0, p.steps) });
    }
  }
  return out;
}

/** Groups parts, in order, into passes of at most `batchSize` tokens (a part is never split). */
export function packParts<T extends { batch: readonly BatchToken[] }>(parts: readonly T[], batchSize: number): T[][] {
  const groups: T[][] = [];
  let size = Infinity;
  for (const p of parts) {
    if (size + p.batch.length > batchSize) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)!.push(p);
    size += p.batch.length;
  }
  return groups;
}
