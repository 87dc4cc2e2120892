/**
 * The vocabulary of generation, defined once:
 * - target: the model whose output is the truth; draft/drafter: the cheap proposer.
 * - block: the k tokens a drafter proposes in one step; a step verifies one block in one target pass.
 * - accepted: drafted tokens the target agreed with; rejected: the first one it did not, and all after it.
 * - bonus token: the one token the target itself adds after the accepted prefix (at the first
 *   rejection, or after a fully accepted block), so every step emits at least one token.
 */
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "../sampling/constraints.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";

/** Default most tokens to generate. */
export const DEFAULT_MAX_TOKENS = 128;

export interface GenerationOptions {
  /** Most tokens to generate; DEFAULT_MAX_TOKENS (128) by default. */
  maxTokens?: number;
  /** Greedy by default. */
  sampling?: SamplingSettings;
  /** Generation ends where any of these strings appears in the text; the string itself is not emitted. */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** Repetition penalty and banned n-grams, applied to the target's distribution (and the drafter's); none by default. */
  constraints?: Constraints;
  /** Context size of the sessions opened; the backend's default when omitted. */
  contextSize?: number;
}

export type FinishReason = "eos" | "max-tokens" | "stop" | "context-full" | "aborted";

/** What one step of generation did; the loop yields one per step. */
export interface StepEvent {
  /** Tokens emitted by this step: accepted drafted tokens, then the bonus token. */
  tokens: TokenId[];
  /** Text that became final with this step (stop strings are held back until ruled out). */
  text: string;
  /** Tokens the drafter proposed and the target verified in this step (0 for target-only). */
  drafted: number;
  /** How many of those the target accepted (a winning tree branch included). */
  accepted: number;
  /** Tokens in the target pass: the last context token, the chain and any tree branches. */
  verifiedTokens?: number;
  /** Alternative tokens (tree branches) verified in this step. */
  branches?: number;
  /** Whether the accepted path ended in a tree branch (an alternative token) rather than the chain. */
  branchAccepted?: boolean;
  /** The verifier stage that stopped drafting early in this step, if one did. */
  cutBy?: string;
  /** Shadow mode: tokens drafted past the cut and verified only to price it. */
  shadowDrafted?: number;
  /** Shadow mode: how many of those the target would have accepted (expected count when sampling). */
  shadowAccepted?: number;
  /** Drafter calls made in this step. */
  drafterCalls: number;
  /** Target calls made in this step (1 per step, plus prefill on the first). */
  targetCalls: number;
  draftMs: number;
  verifyMs: number;
  /** Set on the last step. */
  finish?: FinishReason;
}
