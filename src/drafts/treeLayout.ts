/**
 * How a draft block becomes one target batch. Every node asks for logits.
 * Chain: [last context token, t0 .. tk-1] in sequence 0.
 * Tree: sibling j (an alternative at depth d) gets sequence j + 1; the root and
 * the chain tokens before depth d belong to its sequence too, so each branch
 * sees exactly its own path (the backend's multi-sequence tokens), and
 * sequence 0 is the chain. Batch order: root, then per depth the chain token
 * and the siblings there.
 */
import type { BatchToken, TokenId } from "../backends/languageModel.js";
import type { DraftBlock } from "./draftBlock.js";

export interface BlockLayout {
  batch: BatchToken[];
  /** parentRow[d]: the row whose logits predict chain depth d (d = 0: the root's; d = k: after the last chain token). */
  parentRow: number[];
  /** siblingRow[j]: the row of logits after sibling j (predicting the token after it). */
  siblingRow: number[];
  /** Sequences the pass uses (1 for a chain). */
  sequences: number;
}

/** Lays out the block (and its shadow tokens, for a chain) after `context`, whose last token opens the pass. */
export function layoutBlock(context: readonly TokenId[], block: DraftBlock): BlockLayout {
  const root = context.length - 1;
  const siblings = block.siblings ?? [];
  const chain = siblings.length ? block.tokens : [...block.tokens, ...(block.shadow?.tokens ?? [])];
  const all = siblings.map((_, j) => j + 1);
  const batch: BatchToken[] = [{ token: context[root], position: root, sequences: [0, ...all], logits: true }];
  const parentRow = [0];
  const siblingRow: number[] = new Array(siblings.length);
  for (let d = 0; d < chain.length; d++) {
    const below = siblings.flatMap((s, j) => (s.depth > d ? [j + 1] : []));
    batch.push({ token: chain[d], position: root + 1 + d, sequences: [0, ...below], logits: true });
    parentRow.push(batch.length - 1);
    siblings.forEach((s, j) => {
      if (s.depth !== d) return;
      batch.push({ token: s.token, position: root + 1 + d, sequences: [j + 1], logits: true });
      siblingRow[j] = batch.length - 1;
    });
  }
  return { batch, parentRow, siblingRow, sequences: 1 + siblings.length };
}
