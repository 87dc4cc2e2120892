/** Whether generation would end with a drafted token: drafting past such a token is wasted work. */
import type { TokenId, Vocabulary } from "../model/vocabulary.js";

/** Context tokens decoded with the draft to find stop strings that span the boundary; 32 by default. */
export const STOP_LOOKBACK_TOKENS = 32;

function decode(vocabulary: Vocabulary, tokens: readonly TokenId[]): string {
  return new TextDecoder().decode(Buffer.concat(tokens.map((t) => vocabulary.piece(t))));
}

/**
 * True when the last drafted token ends generation after `context` + `drafted`:
 * it is an end-of-generation token, or it completes a stop string that the text
 * before it did not contain.
 */
export function endsGeneration(vocabulary: Vocabulary, stop: readonly string[], context: readonly TokenId[], drafted: readonly TokenId[]): boolean {
  const last = drafted[drafted.length - 1];
  if (last === undefined) return false;
  if (vocabulary.isEndOfGeneration(last)) return true;
  if (stop.length === 0) return false;
  const tail = context.slice(-STOP_LOOKBACK_TOKENS);
  const before = decode(vocabulary, [...tail, ...drafted.slice(0, -1)]);
  const after = decode(vocabulary, [...tail, ...drafted]);
  return stop.some((s) => after.includes(s) && !before.includes(s));
}
