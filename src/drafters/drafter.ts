/** The drafter role: proposes the next tokens of the current context, with its distribution q at each. */
import type { ModelSession } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
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
 * passes; "lookup": tokens copied from the context, at no model cost; "suffix": the suffix drafter's walk over
 * the context (and a corpus of earlier generations), at no model cost either.
 */
export type DraftSource = "model" | "lookup" | "suffix";

/** The shortest match a source drafting at no model cost (prompt lookup, suffix) drafts from; 3 tokens by default. */
export const DEFAULT_FREE_MIN_MATCH = 3;

/** What a source drafting at no model cost would propose: its tokens and each one's confidence (its q(x)). */
export interface FreeProposal {
  source: DraftSource;
  tokens: readonly TokenId[];
  confidence: readonly number[];
}

/** The sources a block may be drafted from (SourceChoice.candidates). */
export interface DraftCandidates {
  /** Free sources that have something to propose. */
  free: FreeProposal[];
  /** Whether a draft model could draft the block. */
  model: boolean;
}

/**
 * The target's outputs at the rows of a settled step's kept path, in sequence order: what a drafter that reads the
 * target sees (TargetReading.observeTarget). Row i was computed at the token in sequence position positions[i] and
 * predicts the token after it. Valid only during the call (the rows belong to the pass).
 */
export interface TargetOutputs {
  readonly positions: readonly number[];
  /** The target's logits at row i (before any constraints). */
  logits(i: number): Float32Array;
}

/** What the policy asking for a run needs besides the tokens. */
export interface RunOptions {
  /**
   * Whether the policy reads the verifier's signals from q (true by default). A policy that reads none (a fixed
   * chain) lets a greedy drafter skip summarising each row: q is then the one-hot proposal the acceptance rule
   * uses anyway (PointDistribution at the token).
   */
  signals?: boolean;
}

/** DrafterCapabilities.runs: where a drafter drafts several tokens in one call. */
export interface DraftRuns {
  /**
   * Up to n tokens at once, as n calls of `next` would propose them (fewer where it has no more): where a drafter
   * can draft a run more cheaply than token by token (a greedy model drafter, in one native call).
   */
  nextRun(n: number, options?: RunOptions): Promise<DraftedToken[]>;
  /**
   * Whether its runs are merged with other requests' (a draft model shared by a server's slots), where a step of a
   * run costs about the same for one request as for all: a policy that cuts drafting early then asks for the
   * whole run and cuts it afterwards, rather than paying a merged pass and a hop to JavaScript per token.
   */
  readonly runsAreShared: boolean;
}

/** DrafterCapabilities.sourceNaming: a drafter that says who will draft its next block. */
export interface SourceNaming {
  /** Who will draft the next block (asked before it is drafted). */
  nextSource(): DraftSource;
}

/** DrafterCapabilities.sourceChoice: a drafter whose next block a policy may give to one of its sources (AdaptivePolicy). */
export interface SourceChoice {
  /**
   * The sources that could draft the next block: each source that drafts at no model cost with what it would propose
   * (up to n tokens, looked at without drafting them), and whether a draft model could draft it instead.
   */
  candidates(n: number): DraftCandidates;
  /** Has the next block drafted by this source, one of the candidates (else the drafter's own choice). */
  useSource(source: DraftSource): void;
}

/** DrafterCapabilities.targetReading: a drafter that drafts from the target's own computation (EAGLE-style heads). */
export interface TargetReading {
  /**
   * The target session and sequence of the generation this drafter starts next, before the prompt is prefilled: a
   * drafter reading the target's states (a feature head) opens its reading on it (SessionCapabilities.featureHeads).
   */
  attach(target: ModelSession, sequence: number): void;
  /**
   * Sees the target's outputs for the kept path of every step, before `commit`. Every emitted token's row is handed
   * over once: the target is not run several tokens per call without rows (runs) for such a drafter.
   */
  observeTarget(outputs: TargetOutputs): void;
}

/**
 * What a drafter can do besides drafting token by token, stated by every drafter. As a model session's capabilities
 * (SessionCapabilities), each ability is the object that performs it, or undefined where the drafter lacks it: a
 * caller that holds it can call it, no drafter can claim one without implementing it, and the keys are required,
 * so every drafter says what it lacks.
 */
export interface DrafterCapabilities {
  /** Several tokens in one call; undefined where it drafts token by token only. */
  readonly runs: DraftRuns | undefined;
  /** Who will draft its next block; undefined for a drafter of one source (a draft model, where it matters). */
  readonly sourceNaming: SourceNaming | undefined;
  /** The sources a policy may choose between for its next block; undefined where it offers no choice. */
  readonly sourceChoice: SourceChoice | undefined;
  /** Reading the target's outputs after every step; undefined for a drafter that does not. */
  readonly targetReading: TargetReading | undefined;
}

/** A drafter with none of the optional abilities. */
export const PLAIN_DRAFTER: DrafterCapabilities = { runs: undefined, sourceNaming: undefined, sourceChoice: undefined, targetReading: undefined };

export interface Drafter {
  readonly name: string;
  /** Drafter forward passes made so far (0 for drafters without a model). */
  readonly calls: number;
  /** What it can do besides `next` (DrafterCapabilities). */
  readonly capabilities: DrafterCapabilities;
  /** Starts a generation on this context (the prompt). */
  start(context: readonly TokenId[]): Promise<void>;
  /** Proposes the token after the context and the tokens drafted so far in this block; undefined when it has none. */
  next(): Promise<DraftedToken | undefined>;
  /**
   * Closes the block: the first `keptDrafts` tokens this drafter proposed were
   * accepted, and `appended` follows them (the bonus token, preceded by an
   * alternative token when a tree branch won). The context becomes
   * context + kept drafts + appended.
   */
  commit(keptDrafts: number, appended: readonly TokenId[]): void;
  dispose(): void;
}

/**
 * A drafter at no model cost (prompt lookup, suffix): it names its one source and says whether it has a match and
 * what it would propose (offered as its one candidate: freeCapabilities).
 */
export interface FreeDrafter extends Drafter, SourceNaming {
  /** Whether it has anything to draft for the next block. */
  hasMatch(): boolean;
  /** What it would draft for the next block, up to n tokens, looked at without drafting them. */
  proposal(n: number): FreeProposal;
}

/**
 * A lone free drafter's capabilities: its runs (if any), its one source, and that source offered as the only choice,
 * with its proposal as the one candidate where it has a match (and no model).
 */
export function freeCapabilities(d: FreeDrafter, runs: DraftRuns | undefined): DrafterCapabilities {
  const sourceChoice: SourceChoice = {
    candidates: (n) => ({ free: d.hasMatch() ? [d.proposal(n)] : [], model: false }),
    useSource: (source) => {
      if (source !== d.nextSource()) throw new RangeError(`no ${source} source here`);
    },
  };
  return { runs, sourceNaming: d, sourceChoice, targetReading: undefined };
}
