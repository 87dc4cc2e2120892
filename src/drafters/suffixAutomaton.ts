/**
 * A suffix automaton over a growing token sequence (Blumer et al.; built online, one token at a time, in
 * amortised constant time). Each state stands for a set of substrings that end at the same positions; its
 * suffix link leads to the state of its longest suffix that ends at more positions. Every state also keeps how
 * many positions its substrings end at (`count`) and the latest two of them, so a drafter can ask, for the
 * sequence's longest suffix that occurred before, where it occurred last and which tokens followed it how often.
 *
 * Keeping the counts exact costs a walk up the suffix links on each append (their number is bounded by the
 * distinct repeat lengths that end there: a few hundred for a long loop), which is why the automaton caps the
 * tokens it takes (`capacity`): past it, appends are refused and the owner starts a new one.
 */
import type { TokenId } from "../model/vocabulary.js";

/** No state, no position. */
const NONE = -1;
const ROOT = 0;

/** Growable typed arrays of the states and the transition lists. */
class Columns {
  length = new Int32Array(0);
  link = new Int32Array(0);
  count = new Int32Array(0);
  lastEnd = new Int32Array(0);
  previousEnd = new Int32Array(0);
  firstEdge = new Int32Array(0);
  edgeToken = new Int32Array(0);
  edgeTarget = new Int32Array(0);
  edgeNext = new Int32Array(0);

  growStates(n: number): void {
    if (n <= this.length.length) return;
    const size = Math.max(n, 2 * this.length.length, 64);
    for (const key of ["length", "link", "count", "lastEnd", "previousEnd", "firstEdge"] as const) {
      const grown = new Int32Array(size);
      grown.set(this[key]);
      this[key] = grown;
    }
  }

  growEdges(n: number): void {
    if (n <= this.edgeToken.length) return;
    const size = Math.max(n, 2 * this.edgeToken.length, 128);
    for (const key of ["edgeToken", "edgeTarget", "edgeNext"] as const) {
      const grown = new Int32Array(size);
      grown.set(this[key]);
      this[key] = grown;
    }
  }
}

/** A token that followed a state's substrings, how often, and the latest position it stood at. */
export interface Continuation {
  token: TokenId;
  /** The state reached: the substrings extended by the token. */
  state: number;
  count: number;
  lastEnd: number;
}

export class SuffixAutomaton {
  /** The tokens appended so far. */
  readonly tokens: TokenId[] = [];
  private readonly c = new Columns();
  private states = 0;
  private edges = 0;
  /** The state of the whole sequence. */
  private last = ROOT;
  /** The root's transitions (one per distinct token: too many to walk a list). */
  private readonly rootNext = new Map<TokenId, number>();

  constructor(readonly capacity = 1 << 16) {
    this.newState(0, NONE);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Whether `n` more tokens fit. */
  fits(n: number): boolean {
    return this.tokens.length + n <= this.capacity;
  }

  /** Appends a token; throws past the capacity. */
  push(token: TokenId): void {
    if (!this.fits(1)) throw new RangeError(`the suffix automaton holds at most ${this.capacity} tokens`);
    const end = this.tokens.length;
    this.tokens.push(token);
    const cur = this.newState(this.c.length[this.last] + 1, NONE);
    let p = this.last;
    while (p !== NONE && this.next(p, token) === NONE) {
      this.addEdge(p, token, cur);
      p = this.c.link[p];
    }
    if (p === NONE) this.c.link[cur] = ROOT;
    else this.linkAfterSplit(p, token, cur);
    this.last = cur;
    this.recordEnd(cur, end);
  }

  /** Appends tokens one by one. */
  pushAll(tokens: readonly TokenId[]): void {
    for (const t of tokens) this.push(t);
  }

  /** The state a transition by `token` leads to from `state`, or NONE (-1). */
  next(state: number, token: TokenId): number {
    if (state === ROOT) return this.rootNext.get(token) ?? NONE;
    for (let e = this.c.firstEdge[state]; e !== NONE; e = this.c.edgeNext[e]) if (this.c.edgeToken[e] === token) return this.c.edgeTarget[e];
    return NONE;
  }

  /** The tokens that followed the state's substrings: each with its count and latest position. */
  continuations(state: number): Continuation[] {
    const out: Continuation[] = [];
    const add = (token: TokenId, target: number) => out.push({ token, state: target, count: this.c.count[target], lastEnd: this.c.lastEnd[target] });
    if (state === ROOT) for (const [token, target] of this.rootNext) add(token, target);
    else for (let e = this.c.firstEdge[state]; e !== NONE; e = this.c.edgeNext[e]) add(this.c.edgeToken[e], this.c.edgeTarget[e]);
    return out;
  }

  /**
   * The token that most often followed the state's substrings (the latest on a tie; negative tokens, which separate
   * documents, never), the state it leads to, its count and the count of every token that followed; undefined
   * where none did. One pass over the state's transitions, nothing allocated but the answer.
   */
  bestContinuation(state: number): { token: TokenId; next: number; count: number; total: number } | undefined {
    const c = this.c;
    let token = NONE;
    let next = NONE;
    let total = 0;
    const consider = (t: TokenId, target: number) => {
      if (t < 0) return;
      const n = c.count[target];
      total += n;
      if (next === NONE || n > c.count[next] || (n === c.count[next] && c.lastEnd[target] > c.lastEnd[next])) [token, next] = [t, target];
    };
    if (state === ROOT) for (const [t, target] of this.rootNext) consider(t, target);
    else for (let e = c.firstEdge[state]; e !== NONE; e = c.edgeNext[e]) consider(c.edgeToken[e], c.edgeTarget[e]);
    return next === NONE ? undefined : { token, next, count: c.count[next], total };
  }

  /** Whether any token followed the state's substrings. */
  hasContinuation(state: number): boolean {
    return state === ROOT ? this.rootNext.size > 0 : this.c.firstEdge[state] !== NONE;
  }

  /** Length of the longest substring of the state. */
  stateLength(state: number): number {
    return this.c.length[state];
  }

  /** The state of the state's longest suffix that ends at more positions (NONE for the root). */
  suffixLink(state: number): number {
    return this.c.link[state];
  }

  /** Positions the state's substrings end at. */
  count(state: number): number {
    return this.c.count[state];
  }

  /**
   * The latest position the state's substrings end at before `end` (exclusive), or NONE: the latest or the one
   * before it (enough to step over the sequence's own end).
   */
  endBefore(state: number, end: number): number {
    const last = this.c.lastEnd[state];
    return last < end ? last : this.c.previousEnd[state];
  }

  /**
   * The longest suffix of the sequence that also ends earlier: its state and length (the root and 0 when no
   * token has occurred twice).
   */
  longestRepeatedSuffix(): { state: number; length: number } {
    const state = this.last === ROOT ? ROOT : this.c.link[this.last];
    return { state, length: this.c.length[state] };
  }

  /**
   * Matching another sequence against this one, token by token: the state and length of the longest suffix of
   * (the matched text + token) that occurs here, from those of the matched text.
   */
  advance(state: number, length: number, token: TokenId): { state: number; length: number } {
    let s = state;
    let n = length;
    while (s !== ROOT && this.next(s, token) === NONE) {
      s = this.c.link[s];
      n = this.c.length[s];
    }
    const t = this.next(s, token);
    return t === NONE ? { state: ROOT, length: 0 } : { state: t, length: n + 1 };
  }

  private linkAfterSplit(p: number, token: TokenId, cur: number): void {
    const c = this.c;
    const q = this.next(p, token);
    if (c.length[p] + 1 === c.length[q]) {
      c.link[cur] = q;
      return;
    }
    const clone = this.newState(c.length[p] + 1, c.link[q]);
    c.count[clone] = c.count[q];
    c.lastEnd[clone] = c.lastEnd[q];
    c.previousEnd[clone] = c.previousEnd[q];
    for (let e = c.firstEdge[q]; e !== NONE; e = c.edgeNext[e]) this.addEdge(clone, c.edgeToken[e], c.edgeTarget[e]);
    for (let s = p; s !== NONE && this.next(s, token) === q; s = c.link[s]) this.retarget(s, token, clone);
    c.link[q] = clone;
    c.link[cur] = clone;
  }

  /** Every state on the suffix-link path of the new last state gains the position `end`. */
  private recordEnd(state: number, end: number): void {
    const c = this.c;
    for (let s = state; s !== ROOT; s = c.link[s]) {
      c.count[s]++;
      c.previousEnd[s] = c.lastEnd[s];
      c.lastEnd[s] = end;
    }
  }

  private newState(length: number, link: number): number {
    const s = this.states++;
    this.c.growStates(this.states);
    this.c.length[s] = length;
    this.c.link[s] = link;
    this.c.count[s] = 0;
    this.c.lastEnd[s] = NONE;
    this.c.previousEnd[s] = NONE;
    this.c.firstEdge[s] = NONE;
    return s;
  }

  private addEdge(from: number, token: TokenId, to: number): void {
    if (from === ROOT) {
      this.rootNext.set(token, to);
      return;
    }
    const e = this.edges++;
    this.c.growEdges(this.edges);
    this.c.edgeToken[e] = token;
    this.c.edgeTarget[e] = to;
    this.c.edgeNext[e] = this.c.firstEdge[from];
    this.c.firstEdge[from] = e;
  }

  private retarget(from: number, token: TokenId, to: number): void {
    if (from === ROOT) {
      this.rootNext.set(token, to);
      return;
    }
    for (let e = this.c.firstEdge[from]; e !== NONE; e = this.c.edgeNext[e])
      if (this.c.edgeToken[e] === token) {
        this.c.edgeTarget[e] = to;
        return;
      }
  }
}
