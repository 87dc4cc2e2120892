/**
 * A greedy chain from an EAGLE-3 head after a prompt, as llama.cpp drafts one (docs/eagle3.md): the target has
 * evaluated every prompt token but the last, the head's cache gets the pairs (token at P + 1, feature of P), and
 * each drafted token goes back in with the head's own pre-norm state. q at each position is the head's softmax.
 */
import type { TokenId } from "../../model/vocabulary.js";
import type { LlamaCppHeadSession } from "./headSession.js";

/** A drafted position: the head's logits there and the token drafted (their argmax). */
export interface HeadDraft {
  token: TokenId;
  logits: Float32Array;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * Drafts k tokens after `prompt` on sequence 0, once the target's last pass evaluated prompt[0 .. n - 2] at batch
 * indices 0 .. n - 2 (positions equal to indices).
 */
export function draftAfterPrompt(head: LlamaCppHeadSession, prompt: readonly TokenId[], k: number): HeadDraft[] {
  const n = prompt.length;
  const w = head.width;
  const features = head.featuresAt([...Array(n - 1).keys()]);
  const pairs = [...Array(n - 1).keys()].map((p) => ({
    token: prompt[p + 1],
    position: p,
    sequence: 0,
    feature: features.subarray(p * w, (p + 1) * w),
    output: p === n - 2,
  }));
  let [row] = head.decode(pairs);
  const drafts: HeadDraft[] = [];
  for (let d = 0; d < k; d++) {
    if (row.form !== "logits") throw new Error(`the head gave a ${row.form} row where its logits were asked for`);
    const token = argmax(row.logits);
    drafts.push({ token, logits: row.logits });
    if (d + 1 < k) [row] = head.decode([{ token, position: n - 1 + d, sequence: 0, feature: row.prenorm, output: true }]);
  }
  return drafts;
}
