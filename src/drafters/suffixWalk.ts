/**
 * Drafting by walking a suffix automaton: from the state of the longest suffix of the text that occurred before,
 * each step takes the token that most often followed it (the latest on a tie) and moves on to the state of the
 * suffix extended by that token. Where the extended suffix has never been followed by anything (the walk ran
 * past the end of the text, as a repeating loop does), it falls back to the longest suffix that has, through
 * the suffix links, for as long as that suffix is at least `minMatch` tokens: so a loop is drafted round and
 * round, and a walk whose evidence runs out stops.
 */
import type { TokenId } from "../backends/languageModel.js";
import type { Continuation, SuffixAutomaton } from "./suffixAutomaton.js";

/** A drafted token, with what supports it. */
export interface SuffixStep {
  token: TokenId;
  /** Tokens of text the prediction rests on: the length of the matched suffix it continues. */
  match: number;
  /** Share of the matched suffix's continuations that were this token. */
  share: number;
  /** The other tokens that followed the matched suffix, with their shares, most frequent first. */
  alternatives: { token: TokenId; share: number }[];
}

/** A state's continuations by tokens (negative tokens separate documents and are never drafted). */
function usable(a: SuffixAutomaton, state: number): Continuation[] {
  return a.hasContinuation(state) ? a.continuations(state).filter((c) => c.token >= 0) : [];
}

/** The token to draft among a state's continuations: the most frequent, the latest on a tie. */
function best(continuations: readonly Continuation[]): Continuation | undefined {
  let chosen: Continuation | undefined;
  for (const c of continuations) if (!chosen || c.count > chosen.count || (c.count === chosen.count && c.lastEnd > chosen.lastEnd)) chosen = c;
  return chosen;
}

export class SuffixWalk {
  constructor(
    private readonly automaton: SuffixAutomaton,
    private state: number,
    private length: number,
    private readonly minMatch: number,
  ) {}

  /** The match the next token continues. */
  get match(): number {
    return this.length;
  }

  /** The next token, or undefined where no suffix of at least minMatch tokens was ever followed by one. */
  step(): SuffixStep | undefined {
    const a = this.automaton;
    let continuations = this.length >= this.minMatch ? usable(a, this.state) : [];
    while (continuations.length === 0 && this.length >= this.minMatch) {
      this.state = a.suffixLink(this.state);
      this.length = this.state < 0 ? 0 : a.stateLength(this.state);
      if (this.length >= this.minMatch) continuations = usable(a, this.state);
    }
    const chosen = best(continuations);
    if (!chosen) return undefined;
    const total = continuations.reduce((n, c) => n + c.count, 0);
    const alternatives = continuations
      .filter((c) => c !== chosen)
      .sort((x, y) => y.count - x.count || y.lastEnd - x.lastEnd)
      .map((c) => ({ token: c.token, share: c.count / total }));
    const step = { token: chosen.token, match: this.length, share: chosen.count / total, alternatives };
    this.state = chosen.state;
    this.length++;
    return step;
  }
}
