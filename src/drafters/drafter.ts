/** The drafter role: proposes the next tokens of the current context, with its distribution q at each. */
import type { TokenId } from "../backends/languageModel.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";

/**
 * How a drafted token came from q. "sampled": it is a draw from q, so q is the distribution it was proposed
 * from. "argmax": it was chosen deterministically (a greedy drafter), so as a proposal it is one-hot at the
 * token, whatever q says; q then serves the verifier's signals only. Speculative sampling must use the
 * proposal, or a greedy drafter paired with a sampled target would bias the output.
 */
export type Drawn = "sampled" | "argmax";

/** One drafted token and the drafter's distribution q at its position (after the sampling transform). */
export interface DraftedToken {
  token: TokenId;
  /** q over the whole vocabulary (dense, or a row summary: enough for the signals of an argmax token). */
  q: TokenDistribution;
  drawn: Drawn;
}

/**
 * Who drafts a block, for drafters that choose per block (LookupFirstDrafter): a policy that learns what drafting
 * costs and how often it is accepted keeps those measurements per source. "model": a draft model's forward
 * passes; "lookup": tokens copied from the context, at no model cost.
 */
export type DraftSource = "model" | "lookup";

/** What the policy asking for a run needs besides the tokens. */
export interface RunOptions {
  /**
   * Whether the policy reads the verifier's signals from q (true by default). A policy that reads none (a fixed
   * chain) lets a greedy drafter skip summarising each row: q is then the one-hot proposal the acceptance rule
   * uses anyway (PointDistribution at the token).
   */
  signals?: boolean;
}

export interface Drafter {
  readonly name: string;
  /** Drafter forward passes made so far (0 for drafters without a model). */
  readonly calls: number;
  /** Starts a generation on this context (the prompt). */
  start(context: readonly TokenId[]): Promise<void>;
  /** Proposes the token after the context and the tokens drafted so far in this block; undefined when it has none. */
  next(): Promise<DraftedToken | undefined>;
  /**
   * Up to n tokens at once, as n calls of `next` would propose them (fewer where it has no more). Optional: a
   * drafter that can draft a run more cheaply than token by token (a greedy model drafter, in one native call).
   */
  nextRun?(n: number, options?: RunOptions): Promise<DraftedToken[]>;
  /**
   * Whether its runs are merged with other requests' (a draft model shared by a server's slots), where a step of a
   * run costs about the same for one request as for all: a policy that cuts drafting early then asks for the
   * whole run and cuts it afterwards, rather than paying a merged pass and a hop to JavaScript per token.
   */
  readonly runsAreShared?: boolean;
  /** Who will draft the next block (asked before it is drafted); drafters of one source need not say. */
  nextSource?(): DraftSource;
  /**
   * Up to n tokens that a source drafting at no model cost (prompt lookup) would propose for the next block,
   * looked at without drafting them; none where it has nothing. A policy that drafts nothing this step can
   * still learn how often the target would have agreed (AdaptivePolicy).
   */
  freeProposal?(n: number): readonly TokenId[];
  /**
   * Closes the block: the first `keptDrafts` tokens this drafter proposed were
   * accepted, and `appended` follows them (the bonus token, preceded by an
   * alternative token when a tree branch won). The context becomes
   * context + kept drafts + appended.
   */
  commit(keptDrafts: number, appended: readonly TokenId[]): void;
  dispose(): void;
}
