/**
 * Drafting by walking a suffix automaton: from the state of the longest suffix of the text that occurred before,
 * each step takes the token that most often followed it (the latest on a tie) and moves on to the state of the
 * suffix extended by that token. Where the extended suffix has never been followed by anything (the walk ran
 * past the end of the text, as a repeating loop does), it falls back to the longest suffix that has, through
 * the suffix links, for as long as that suffix is at least `minMatch` tokens: so a loop is drafted round and
 * round, and a walk whose evidence runs out stops.
 */
import type { TokenId } from "../model/vocabulary.js";
import type { SuffixAutomaton } from "./suffixAutomaton.js";

/** A drafted token, with what supports it. */
export interface SuffixStep {
  token: TokenId;
  /** Tokens of text the prediction rests on: the length of the matched suffix it continues. */
  match: number;
  /** Share of the matched suffix's continuations that were this token. */
  share: number;
  /** How many times the matched suffix was followed by a token (the evidence the share rests on). */
  seen: number;
  /** The automaton's state of the matched suffix (whose other continuations are the alternatives). */
  from: number;
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
    let best = this.length >= this.minMatch ? a.bestContinuation(this.state) : undefined;
    while (!best && this.length >= this.minMatch) {
      this.state = a.suffixLink(this.state);
      this.length = this.state < 0 ? 0 : a.stateLength(this.state);
      if (this.length >= this.minMatch) best = a.bestContinuation(this.state);
    }
    if (!best) return undefined;
    const step = { token: best.token, match: this.length, share: best.count / best.total, seen: best.total, from: this.state };
    this.state = best.next;
    this.length++;
    return step;
  }

  /** The other tokens that followed a step's matched suffix, with their shares, most frequent first (the latest on a tie). */
  alternatives(step: SuffixStep): { token: TokenId; share: number }[] {
    const continuations = this.automaton.continuations(step.from).filter((c) => c.token >= 0);
    const total = continuations.reduce((n, c) => n + c.count, 0);
    return continuations
      .filter((c) => c.token !== step.token)
      .sort((x, y) => y.count - x.count || y.lastEnd - x.lastEnd)
      .map((c) => ({ token: c.token, share: c.count / total }));
  }
}
