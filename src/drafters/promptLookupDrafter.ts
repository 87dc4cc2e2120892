/**
 * Prompt-lookup drafting (no model): finds the longest recent n-gram of the
 * context that occurred earlier in the prompt or output, and proposes what
 * followed it. Its q is one-hot on the proposed token: the proposal is
 * deterministic, which the acceptance rules handle exactly.
 */
import type { TokenId } from "../model/vocabulary.js";
import { PointDistribution } from "../sampling/tokenDistribution.js";
import { type DraftedToken, type DraftSource, type FreeDrafter, type FreeProposal, freeCapabilities } from "./drafter.js";

/** Longest n-gram to match; 3 by default. */
export const DEFAULT_LOOKUP_MAX_NGRAM = 3;
/** Shortest n-gram to match; 1 by default. */
export const DEFAULT_LOOKUP_MIN_NGRAM = 1;

export class PromptLookupDrafter implements FreeDrafter {
  readonly name = "prompt-lookup";
  /** Token by token (a lookup's tokens cost nothing to draft one at a time), from its one source. */
  readonly capabilities = freeCapabilities(this, undefined);
  readonly calls = 0;
  private tokens: TokenId[] = [];
  private contextLength = 0;
  /** Where in `tokens` the current continuation is read from, once a match is found. */
  private cursor: number | undefined;
  /** Whether this block's match has been looked for. */
  private searched = false;

  constructor(
    private readonly vocabSize: number,
    private readonly maxNgram = DEFAULT_LOOKUP_MAX_NGRAM,
    private readonly minNgram = DEFAULT_LOOKUP_MIN_NGRAM,
  ) {
    if (!(minNgram >= 1 && maxNgram >= minNgram)) throw new RangeError("prompt lookup needs 1 <= min n-gram <= max n-gram");
  }

  async start(context: readonly TokenId[]): Promise<void> {
    this.tokens = [...context];
    this.contextLength = context.length;
    this.searched = false;
  }

  /** Whether this block has a continuation to draft: the context's last n-gram (n >= the minimum) occurred earlier. */
  hasMatch(): boolean {
    if (!this.searched) {
      this.cursor = this.findMatch();
      this.searched = true;
    }
    return this.cursor !== undefined && this.cursor < this.tokens.length;
  }

  /** Lookup drafts every block it drafts (a match found or not). */
  nextSource(): DraftSource {
    return "lookup";
  }

  /** The continuation `next` would draft, up to n tokens, without drafting it (it may run into itself); one-hot, so each token's q(x) is 1. */
  proposal(n: number): FreeProposal {
    const tokens: TokenId[] = [];
    if (this.hasMatch()) {
      const t = this.tokens;
      for (let at = this.cursor!; tokens.length < n; at++) tokens.push(at < t.length ? t[at] : tokens[at - t.length]);
    }
    return { source: "lookup", tokens, confidence: tokens.map(() => 1) };
  }

  async next(): Promise<DraftedToken | undefined> {
    if (!this.hasMatch()) return undefined;
    const at = this.cursor!;
    this.cursor = at + 1;
    const token = this.tokens[at];
    this.tokens.push(token);
    return { token, q: new PointDistribution(token, this.vocabSize), drawn: "argmax" };
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    this.tokens.length = this.contextLength + keptDrafts;
    this.tokens.push(...appended);
    this.contextLength = this.tokens.length;
    this.searched = false;
  }

  dispose(): void {}

  /** Index just after the latest earlier occurrence of the longest matching suffix n-gram. */
  private findMatch(): number | undefined {
    const t = this.tokens;
    for (let n = Math.min(this.maxNgram, t.length - 1); n >= this.minNgram; n--) {
      const suffix = t.length - n;
      for (let start = suffix - 1; start >= 0; start--) {
        let match = true;
        for (let j = 0; j < n && match; j++) match = t[start + j] === t[suffix + j];
        if (match) return start + n;
      }
    }
    return undefined;
  }
}
