/**
 * How a draft block becomes one target batch. First come the context tokens
 * the target's cache does not hold yet (the last one, the root, opens the
 * block), then the chain, then the alternatives (siblings) at the very end.
 * Sibling j gets sequence j + 1; the pending context tokens and the chain
 * tokens before its depth belong to its sequence too, so each branch sees
 * exactly its own path (the backend's multi-sequence tokens), and sequence 0
 * is the chain.
 *
 * Why siblings go last: everything the pass writes that is later rejected then
 * sits after every kept cell, so no later token is written into a freed cell
 * that lies before a live cell of an earlier position. llama.cpp gives such a
 * token slightly different logits (1.4e-3 on the fixture models, measured),
 * which broke greedy identity at near-ties.
 */

import type { DraftBlock } from "../drafts/draftBlock.js";
import type { BatchToken } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";

export interface BlockLayout {
  batch: BatchToken[];
  /** parentRow[d]: the logits row predicting chain depth d (d = 0: the root's; d = k: after the last chain token). */
  parentRow: number[];
  /** siblingRow[j]: the logits row after sibling j (predicting the token after it). */
  siblingRow: number[];
  /** Sequences the pass uses (1 for a chain). */
  sequences: number;
}

/**
 * Lays out the block (and its shadow tokens, for a chain) after `context`, of
 * which the target's cache already holds the first `cached` tokens (at least
 * one token is pending: the root). Only the root and the drafted tokens ask for logits.
 */
export function layoutBlock(context: readonly TokenId[], cached: number, block: DraftBlock): BlockLayout {
  if (cached >= context.length) throw new RangeError("the last context token must be pending: it opens the block");
  const siblings = block.siblings ?? [];
  const chain = siblings.length ? block.tokens : [...block.tokens, ...(block.shadow?.tokens ?? [])];
  const all = [0, ...siblings.map((_, j) => j + 1)];
  const root = context.length - 1;
  const batch: BatchToken[] = context.slice(cached).map((token, i) => ({ token, position: cached + i, sequences: all, logits: cached + i === root }));
  const parentRow = [0];
  chain.forEach((token, d) => {
    const below = siblings.flatMap((s, j) => (s.depth > d ? [j + 1] : []));
    batch.push({ token, position: root + 1 + d, sequences: [0, ...below], logits: true });
    parentRow.push(d + 1);
  });
  const siblingRow = siblings.map((s, j) => {
    batch.push({ token: s.token, position: root + 1 + s.depth, sequences: [j + 1], logits: true });
    return chain.length + 1 + j;
  });
  return { batch, parentRow, siblingRow, sequences: all.length };
}
