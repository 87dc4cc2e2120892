/**
 * Suffix drafting (no model): a suffix automaton over the prompt and the output so far (and, where given, a
 * corpus of earlier generations) finds the longest suffix of the context that occurred before, and drafts what
 * most often followed it, for up to 64 tokens, round a loop where the text repeats (suffixWalk.ts). Its
 * proposals are one-hot (drawn "argmax"): the acceptance rules treat them exactly, whatever the sampling. Each
 * token's q is a confidence for the verifier's signals: the share of the matched suffix's continuations that
 * were this token, scaled by how long the match is (a longer match is better evidence).
 */
import type { TokenId } from "../model/vocabulary.js";
import { SparseDistribution } from "../sampling/tokenDistribution.js";
import {
  DEFAULT_FREE_MIN_MATCH,
  type DraftedToken,
  type DraftRuns,
  type DraftSource,
  type FreeDrafter,
  type FreeProposal,
  freeCapabilities,
} from "./drafter.js";
import { SuffixAutomaton } from "./suffixAutomaton.js";
import type { SuffixCorpus } from "./suffixCorpus.js";
import { type SuffixStep, SuffixWalk } from "./suffixWalk.js";

/** Most tokens a block drafts. */
export const MAX_SUFFIX_DRAFT = 64;
/**
 * A block drafts at most this many times the length of the match it starts from: a suffix seen once after a short
 * match is weak evidence for what follows far beyond it. Replayed on the embedded target's greedy HumanEval text
 * (bench/draftReplay.ts), the cap lifted the estimated speedup from 1.59x (none) to 1.66x (4x: 1.59x, 1x: 1.61x),
 * and changed nothing at T = 0.8 or with a repetition penalty.
 */
const MATCH_SPAN = 2;
/** Most tokens of one generation's automaton (its context, 64k tokens, is far beyond any model's here). */
const OWN_CAPACITY = 1 << 17;

export interface SuffixDrafterOptions {
  /** Shortest match that drafts; DEFAULT_FREE_MIN_MATCH by default. */
  minMatch?: number;
  /** Earlier generations to draft from too; the generation's own context and output are added when it is disposed. */
  corpus?: SuffixCorpus;
}

/**
 * The confidence of a step: its share of the continuations, times m / (m + 1) for a match of m tokens. Measured on
 * the embedded target's greedy HumanEval text (bench/draftReplay.ts), the first drafted token was accepted 64% of
 * the time after a 2-token match, 86% after 3, 90% after 4-7, 94% after 8-15 and 97-99% after longer ones; the
 * adaptive policy calibrates it against what the target accepts (AgreementTracker).
 */
export function suffixConfidence(step: Pick<SuffixStep, "share" | "match">): number {
  return (step.share * step.match) / (step.match + 1);
}

/** Where this block drafts from: the generation's own text or the corpus, whichever matches more of the context. */
interface Match {
  automaton: SuffixAutomaton;
  state: number;
  length: number;
}

export class SuffixDrafter implements FreeDrafter, DraftRuns {
  readonly name = "suffix";
  /** A walk's tokens in one call (nothing is shared with other requests: no model), and its one source. */
  readonly capabilities = freeCapabilities(this, this);
  readonly runsAreShared = false;
  readonly calls = 0;
  private own = new SuffixAutomaton(0);
  /** This block's drafted tokens (not in the automaton until accepted). */
  private drafted: TokenId[] = [];
  private walk: SuffixWalk | undefined;
  private walked = false;
  /** The match this block's walk started from. */
  private blockMatch = 0;
  /** The context's longest suffix found in the corpus, kept up to date token by token. */
  private corpusMatch = { state: 0, length: 0, version: -1 };
  readonly minMatch: number;

  constructor(
    private readonly vocabSize: number,
    private readonly options: SuffixDrafterOptions = {},
  ) {
    this.minMatch = options.minMatch ?? DEFAULT_FREE_MIN_MATCH;
    if (!Number.isInteger(this.minMatch) || this.minMatch < 1)
      throw new RangeError(`the suffix match must be a whole number of tokens >= 1, got ${this.minMatch}`);
  }

  async start(context: readonly TokenId[]): Promise<void> {
    this.own = new SuffixAutomaton(OWN_CAPACITY);
    this.corpusMatch = { state: 0, length: 0, version: -1 };
    this.append(context);
    this.resetBlock();
  }

  nextSource(): DraftSource {
    return "suffix";
  }

  /** Whether this block has a match of at least minMatch tokens to draft from. */
  hasMatch(): boolean {
    return this.block() !== undefined;
  }

  /** The continuation `next` would draft, up to n tokens, with each token's confidence, without drafting it. */
  proposal(n: number): FreeProposal {
    const m = this.match();
    const tokens: TokenId[] = [];
    const confidence: number[] = [];
    const walk = m && new SuffixWalk(m.automaton, m.state, m.length, this.minMatch);
    const most = Math.min(n, MAX_SUFFIX_DRAFT, MATCH_SPAN * (m?.length ?? 0));
    for (let s = walk?.step(); s && tokens.length < most; s = walk!.step()) {
      tokens.push(s.token);
      confidence.push(suffixConfidence(s));
    }
    return { source: "suffix", tokens, confidence };
  }

  async next(): Promise<DraftedToken | undefined> {
    const walk = this.block();
    if (!walk || this.drafted.length >= Math.min(MAX_SUFFIX_DRAFT, MATCH_SPAN * this.blockMatch)) return undefined;
    const step = walk.step();
    if (!step) return undefined;
    this.drafted.push(step.token);
    // The continuations' confidences sum to m / (m + 1): their shares sum to 1.
    const first = { token: step.token, prob: suffixConfidence(step) };
    const others = () => walk.alternatives(step).map((s) => ({ token: s.token, prob: suffixConfidence({ share: s.share, match: step.match }) }));
    return { token: step.token, q: new SparseDistribution(first, step.match / (step.match + 1), others, this.vocabSize), drawn: "argmax" };
  }

  async nextRun(n: number): Promise<DraftedToken[]> {
    const out: DraftedToken[] = [];
    while (out.length < n) {
      const d = await this.next();
      if (!d) break;
      out.push(d);
    }
    return out;
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    this.append([...this.drafted.slice(0, keptDrafts), ...appended]);
    this.resetBlock();
  }

  dispose(): void {
    this.options.corpus?.add(this.own.tokens);
  }

  private append(tokens: readonly TokenId[]): void {
    if (!this.own.fits(tokens.length)) this.restartOwn(tokens.length);
    this.own.pushAll(tokens);
    const corpus = this.options.corpus;
    if (!corpus || corpus.size === 0) return;
    // A rebuilt corpus is matched again over the context's newest tokens (enough for any draft's evidence).
    const fresh = this.corpusMatch.version !== corpus.version;
    const feed = fresh ? this.own.tokens.slice(-MAX_SUFFIX_DRAFT * 4) : tokens;
    let { state, length } = fresh ? { state: 0, length: 0 } : this.corpusMatch;
    for (const t of feed) ({ state, length } = corpus.automaton.advance(state, length, t));
    this.corpusMatch = { state, length, version: corpus.version };
  }

  /** A context past the own automaton's capacity keeps its newest half. */
  private restartOwn(incoming: number): void {
    const keep = this.own.tokens.slice(-Math.floor(OWN_CAPACITY / 2));
    this.own = new SuffixAutomaton(OWN_CAPACITY);
    this.own.pushAll(keep.slice(Math.max(0, keep.length - (OWN_CAPACITY - incoming))));
  }

  private match(): Match | undefined {
    const own = this.own.longestRepeatedSuffix();
    const corpus = this.options.corpus;
    const theirs = corpus && this.corpusMatch.version === corpus.version ? this.corpusMatch : undefined;
    const best =
      theirs && theirs.length > own.length
        ? { automaton: corpus!.automaton, state: theirs.state, length: theirs.length }
        : { automaton: this.own, state: own.state, length: own.length };
    return best.length >= this.minMatch ? best : undefined;
  }

  private block(): SuffixWalk | undefined {
    if (!this.walked) {
      const m = this.match();
      this.walk = m ? new SuffixWalk(m.automaton, m.state, m.length, this.minMatch) : undefined;
      this.blockMatch = m?.length ?? 0;
      this.walked = true;
    }
    return this.walk;
  }

  private resetBlock(): void {
    this.drafted = [];
    this.walk = undefined;
    this.walked = false;
  }
}
