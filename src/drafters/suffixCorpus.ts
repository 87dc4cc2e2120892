/**
 * Texts kept across generations (a server's earlier prompts and outputs) in one suffix automaton of bounded size,
 * so a request whose answer repeats an earlier one drafts it from the start. Documents are separated by tokens
 * that never match (each its own negative id); when a new document would pass the capacity, the automaton is
 * rebuilt from the newest documents that fit.
 */
import type { TokenId } from "../model/vocabulary.js";
import { SuffixAutomaton } from "./suffixAutomaton.js";

/** Tokens a corpus keeps by default: about 20 MB of automaton. */
export const DEFAULT_CORPUS_TOKENS = 1 << 18;

export class SuffixCorpus {
  private documents: TokenId[][] = [];
  private held = 0;
  private separators = 0;
  private built: SuffixAutomaton;
  /** Bumped whenever the automaton is replaced: a match into an older one is void. */
  version = 0;

  constructor(readonly capacity = DEFAULT_CORPUS_TOKENS) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`a suffix corpus holds at least 2 tokens, got ${capacity}`);
    this.built = new SuffixAutomaton(capacity);
  }

  get automaton(): SuffixAutomaton {
    return this.built;
  }

  /** Documents held. */
  get size(): number {
    return this.documents.length;
  }

  /** Adds a document (its newest `capacity - 1` tokens if longer), dropping the oldest ones where it would not fit. */
  add(tokens: readonly TokenId[]): void {
    const doc = tokens.slice(Math.max(0, tokens.length - (this.capacity - 1)));
    if (doc.length === 0) return;
    if (!this.built.fits(doc.length + 1)) this.rebuild(doc.length + 1);
    this.append(doc);
    this.documents.push(doc);
    this.held += doc.length + 1;
  }

  private append(doc: readonly TokenId[]): void {
    this.built.pushAll(doc);
    this.built.push(-1 - this.separators++);
  }

  /** Keeps the newest documents that leave room for `room` tokens, in a new automaton. */
  private rebuild(room: number): void {
    let keep = this.documents.length;
    let held = this.held;
    while (keep > 0 && held + room > this.capacity) held -= this.documents[this.documents.length - keep--].length + 1;
    this.documents = this.documents.slice(this.documents.length - keep);
    this.held = held;
    this.built = new SuffixAutomaton(this.capacity);
    this.separators = 0;
    this.version++;
    for (const doc of this.documents) this.append(doc);
  }
}
