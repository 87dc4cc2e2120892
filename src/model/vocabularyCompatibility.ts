/** A drafter must share the target's vocabulary token for token; anything else is refused up front. */
import type { Vocabulary } from "./languageModel.js";

export class VocabularyMismatchError extends Error {}

/** Throws a VocabularyMismatchError saying what differs: size, special tokens, or token texts (first few listed). */
export function checkCompatibleVocabularies(target: Vocabulary, draft: Vocabulary): void {
  if (target.size !== draft.size) throw new VocabularyMismatchError(`the drafter's vocabulary has ${draft.size} tokens, the target's ${target.size}`);
  if (target.eos !== draft.eos) throw new VocabularyMismatchError(`the drafter's EOS token is ${draft.eos}, the target's ${target.eos}`);
  const differing: number[] = [];
  for (let t = 0; t < target.size; t++) if (target.tokenText(t) !== draft.tokenText(t)) differing.push(t);
  if (differing.length === 0) return;
  const shown = differing
    .slice(0, 3)
    .map((t) => `${t}: ${JSON.stringify(target.tokenText(t))} vs ${JSON.stringify(draft.tokenText(t))}`)
    .join(", ");
  throw new VocabularyMismatchError(`the drafter's vocabulary differs from the target's in ${differing.length} token texts (${shown})`);
}
