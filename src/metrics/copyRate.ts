/**
 * How much a generation copies itself: the share of its tokens that continue an n-gram which occurred earlier in
 * the prompt or the output (n = 4: the token and the 3 before it). A model that loops has a copy rate near 1, and
 * every n-gram or lookup drafter looks good on it; honest figures report it beside their speeds.
 */
import type { TokenId } from "../model/vocabulary.js";

/** The n-gram length the copy rate looks at. */
export const COPY_NGRAM = 4;

export function copyRate(prompt: readonly TokenId[], output: readonly TokenId[], n = COPY_NGRAM): number {
  if (output.length === 0) return 0;
  const text = [...prompt, ...output];
  const seen = new Set<string>();
  let copied = 0;
  for (let end = n - 1; end < text.length; end++) {
    const gram = text.slice(end - n + 1, end + 1).join(",");
    if (end >= prompt.length && seen.has(gram)) copied++;
    seen.add(gram);
  }
  return copied / output.length;
}
