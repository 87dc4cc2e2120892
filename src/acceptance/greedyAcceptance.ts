/**
 * Greedy acceptance: accept drafted tokens while each equals the target's
 * argmax at its position; the bonus token is the target's argmax at the first
 * mismatch, or after the block when every drafted token matched.
 */
import type { TokenId } from "../backends/languageModel.js";
import type { BlockVerdict } from "./acceptanceTypes.js";

/** `targetArgmax[i]` is the target's argmax for draft position i; it has one more entry than `draft` (after the block). */
export function acceptGreedy(draft: readonly TokenId[], targetArgmax: readonly TokenId[]): BlockVerdict {
  if (targetArgmax.length !== draft.length + 1)
    throw new RangeError("greedy acceptance needs the target's choice at every drafted position and after the block");
  let accepted = 0;
  while (accepted < draft.length && draft[accepted] === targetArgmax[accepted]) accepted++;
  return { accepted, bonus: targetArgmax[accepted] };
}
