/** A draft policy shapes each step's draft (how long, which tokens are worth verifying) and learns from the outcome. */

import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "../sampling/constraints.js";

/** Other requests' part of a shared target pass. */
export interface SharedPassLoad {
  /** Their tokens in the pass, less what only wrote a new request's prompt (a one-off). */
  tokens: number;
  /** How many requests they were. */
  requests: number;
}

/** What verification made of one block, fed back to the policy. */
export interface BlockOutcome {
  drafted: number;
  accepted: number;
  /** q(x) of each drafted chain token. */
  qx: number[];
  /** Tokens in the target pass (the last context token, the chain, the siblings). */
  verifiedTokens: number;
  /** Tokens of the whole target pass, other requests' blocks included (= verifiedTokens when the pass was not shared). */
  passTokens: number;
  /**
   * Tokens of the pass that only wrote context, verifying nothing: the prompts of requests admitted into this step
   * (DEFAULT_PROMPT_IN_STEP). A pass with them is a prefill as much as a verification, and prices neither.
   */
  passPrefill: number;
  draftMs: number;
  verifyMs: number;
  /** The tokens the step emitted (kept drafts, then the bonus token). */
  emitted: readonly TokenId[];
  /** A run (DraftBlock.run): the pass was this many one-token decodes in one call, each emitting its token. */
  decodes?: number;
}

/** What a policy knows when it drafts: the context so far, and the generation's constraints. */
export interface DraftContext {
  tokens: readonly TokenId[];
  constraints: Constraints;
  /** Shadow mode: draft past cuts too, to price them. */
  shadow: boolean;
  /** What other requests put into the last shared target pass (none when the request has the target alone). */
  sharedPass?: SharedPassLoad;
  /**
   * Whether generation would end with the last of these drafted tokens (EOS, or
   * a completed stop string): drafting past it is wasted, so drafting stops there.
   */
  endsGeneration?: (drafted: readonly TokenId[]) => boolean;
}

export interface DraftPolicy {
  readonly name: string;
  /** Most sequences a pass of this policy uses (1 for chains; 1 + siblings for trees). */
  readonly maxSequences: number;
  /** Drafts this step's block, at most `limit` chain tokens (less near the token budget or the context end). */
  draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock>;
  observe(outcome: BlockOutcome): void;
}

/** Default draft length k. */
export const DEFAULT_DRAFT_LENGTH = 4;

export function checkDraftLength(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > 64) throw new RangeError(`draft length k must be a whole number from 1 to 64, got ${k}`);
  return k;
}
