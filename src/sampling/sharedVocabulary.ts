/**
 * A drafter whose vocabulary differs in size from its target's (backends/vocabularyCompatibility.ts) drafts over
 * the shared range, the ids below the smaller size, and its q is stated over the target's vocabulary:
 * - a drafter with more tokens reads only the first `shared` logits of a row, so q is its softmax (or sampling
 *   distribution) renormalised over the shared range and its argmax is the shared range's: tokens past it get
 *   q = 0 and are never drafted (the target could not even evaluate them);
 * - a drafter with fewer tokens has q = 0 on the target's tokens it lacks, so its vector is padded with zeros
 *   to the target's size, as the acceptance rules compare q with p token by token.
 * Any q is a valid proposal for speculative sampling: a token is drawn from this q, and min(1, p/q) with the
 * residual max(0, p - q) over the target's vocabulary keeps the output distributed as p. Greedy is unchanged:
 * a drafted token is accepted only when it equals the target's argmax.
 */
import type { TokenId } from "../model/vocabulary.js";

/** How a drafter's rows map onto its target's vocabulary. */
export interface VocabularyOverlap {
  /** Tokens of the drafter's rows. */
  drafter: number;
  /** Tokens of the target's rows: the size q is stated over. */
  target: number;
}

/** Ids below this are in both vocabularies. */
export function sharedSize(o: VocabularyOverlap): number {
  return Math.min(o.drafter, o.target);
}

/** Whether the drafter's rows have tokens the target lacks, which a row's argmax or distribution must leave out. */
export function drafterHasExtraTokens(o: VocabularyOverlap): boolean {
  return o.drafter > o.target;
}

/** A drafter's logits row over the shared range: a view of its first tokens (the row itself when it has no more). */
export function sharedLogits(row: Float32Array, o: VocabularyOverlap): Float32Array {
  const shared = sharedSize(o);
  return row.length > shared ? row.subarray(0, shared) : row;
}

/** q over the shared range, stated over the target's vocabulary: zeros past the drafter's tokens. */
export function onTargetVocabulary(q: Float64Array, o: VocabularyOverlap): Float64Array {
  if (q.length === o.target) return q;
  if (q.length > o.target) throw new RangeError(`q over ${q.length} tokens must be taken over the ${o.target} shared with the target first`);
  const out = new Float64Array(o.target);
  out.set(q);
  return out;
}

/** Whether the target's token is one the drafter can read (the drafter drafts nothing after one it cannot). */
export function drafterKnows(token: TokenId, o: VocabularyOverlap): boolean {
  return token < o.drafter;
}
