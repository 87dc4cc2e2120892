/**
 * Which drafters may draft for a target: llama.cpp's rules (common/speculative.cpp), refused up front otherwise.
 * - The sizes may differ by at most MAX_VOCABULARY_SIZE_DIFFERENCE (128) tokens: a vocabulary padded to a round size
 *   (Qwen2.5's 7B has 152,064 tokens, its 0.5B 151,936). The tokens both have, ids 0 to the smaller size, are the
 *   shared range; a drafter drafts only there and its q is taken over it (sampling/sharedVocabulary.ts).
 * - The shared range has identical token texts, except the first TEXT_CHECK_START (5) ids whose texts llama.cpp
 *   skips too (some conversions name the same control tokens differently: `<unk>` or `<pad>`, `<s>` or
 *   `<|begin_of_text|>`). What those ids do is checked instead: BOS, EOS and the end-of-generation tokens must
 *   agree over the whole shared range. A differing text never costs exactness (every drafter is lossless); it
 *   would only make the drafter mean another token, and the roles are what changes how generation runs.
 * - BOS and EOS are the same ids (or both absent); llama.cpp compares them where the model adds them, this asks always.
 */
import type { TokenId, Vocabulary } from "./vocabulary.js";

export class VocabularyMismatchError extends Error {}

/** Most tokens a drafter's vocabulary may have more or fewer than the target's (llama.cpp's SPEC_VOCAB_MAX_SIZE_DIFFERENCE). */
export const MAX_VOCABULARY_SIZE_DIFFERENCE = 128;

/** The first id whose text is compared (llama.cpp's SPEC_VOCAB_CHECK_START_TOKEN_ID). */
export const TEXT_CHECK_START = 5;

/** The tokens a drafter and its target both have: ids below this. */
export function sharedVocabularySize(target: Vocabulary, draft: Vocabulary): number {
  return Math.min(target.size, draft.size);
}

/** Throws a VocabularyMismatchError, in one line, saying what differs: size, BOS/EOS, end-of-generation tokens or texts. */
export function checkCompatibleVocabularies(target: Vocabulary, draft: Vocabulary): void {
  const difference = Math.abs(target.size - draft.size);
  if (difference > MAX_VOCABULARY_SIZE_DIFFERENCE)
    throw new VocabularyMismatchError(
      `the drafter's vocabulary has ${draft.size} tokens, the target's ${target.size}: they may differ by at most ${MAX_VOCABULARY_SIZE_DIFFERENCE}, not ${difference}`,
    );
  if (target.bos !== draft.bos) throw new VocabularyMismatchError(`the drafter's BOS token is ${draft.bos}, the target's ${target.bos}`);
  if (target.eos !== draft.eos) throw new VocabularyMismatchError(`the drafter's EOS token is ${draft.eos}, the target's ${target.eos}`);
  const shared = sharedVocabularySize(target, draft);
  checkEndOfGeneration(target, draft, shared);
  checkTexts(target, draft, shared);
}

/** The shared range's end-of-generation tokens must be the same. */
function checkEndOfGeneration(target: Vocabulary, draft: Vocabulary, shared: number): void {
  const differing = mismatches(shared, 0, (t) => target.isEndOfGeneration(t) !== draft.isEndOfGeneration(t));
  if (differing.length === 0) return;
  const shown = differing
    .slice(0, 3)
    .map((t) => `${t} ${JSON.stringify(target.tokenText(t))} ends generation for the ${target.isEndOfGeneration(t) ? "target" : "drafter"} only`)
    .join(", ");
  throw new VocabularyMismatchError(`the drafter's end-of-generation tokens differ from the target's in ${differing.length} tokens (${shown})`);
}

/** The shared range's texts must be the same from TEXT_CHECK_START on. */
function checkTexts(target: Vocabulary, draft: Vocabulary, shared: number): void {
  const differing = mismatches(shared, TEXT_CHECK_START, (t) => target.tokenText(t) !== draft.tokenText(t));
  if (differing.length === 0) return;
  const shown = differing
    .slice(0, 3)
    .map((t) => `${t}: ${JSON.stringify(target.tokenText(t))} vs ${JSON.stringify(draft.tokenText(t))}`)
    .join(", ");
  throw new VocabularyMismatchError(`the drafter's vocabulary differs from the target's in ${differing.length} token texts (${shown})`);
}

function mismatches(shared: number, from: number, differs: (token: TokenId) => boolean): TokenId[] {
  const out: TokenId[] = [];
  for (let t = from; t < shared; t++) if (differs(t)) out.push(t);
  return out;
}
