/**
 * Acceptance by match: accept drafted tokens while each equals the target's own choice at its position (its argmax
 * when greedy; its coupled draw when sampling with the coupled rule); the bonus token is the target's choice at the
 * first mismatch, or after the block when every drafted token matched.
 */
import type { TokenId } from "../model/vocabulary.js";
import type { BlockVerdict } from "./acceptanceTypes.js";

/** `targetArgmax[i]` is the target's argmax for draft position i; it has one more entry than `draft` (after the block). */
export function acceptGreedy(draft: readonly TokenId[], targetArgmax: readonly TokenId[]): BlockVerdict {
  if (targetArgmax.length !== draft.length + 1)
    throw new RangeError("greedy acceptance needs the target's choice at every drafted position and after the block");
  return acceptMatching(draft, (i) => targetArgmax[i]);
}

/** A rule deciding a block by the target's own token at each position; `acceptMatching` is the lossless one. */
export type MatchAcceptanceRule = (draft: readonly TokenId[], choice: (i: number) => TokenId) => BlockVerdict;

/** `choice(i)` is the target's token for draft position i (i = draft.length: after the block), asked for lazily. */
export function acceptMatching(draft: readonly TokenId[], choice: (i: number) => TokenId): BlockVerdict {
  for (let accepted = 0; ; accepted++) {
    const want = choice(accepted);
    if (accepted === draft.length || draft[accepted] !== want) return { accepted, bonus: want };
  }
}
