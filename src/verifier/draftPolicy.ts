/** A draft policy shapes each step's draft (how long, which tokens are worth verifying) and learns from the outcome. */
import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";

/** What verification made of one block, fed back to the policy. */
export interface BlockOutcome {
  drafted: number;
  accepted: number;
  draftMs: number;
  verifyMs: number;
}

export interface DraftPolicy {
  readonly name: string;
  /** Drafts this step's block, at most `limit` tokens (less near the token budget or the context end). */
  draft(drafter: Drafter, limit: number): Promise<DraftBlock>;
  observe(outcome: BlockOutcome): void;
}

/** Default draft length k. */
export const DEFAULT_DRAFT_LENGTH = 4;

export function checkDraftLength(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > 64) throw new RangeError(`draft length k must be a whole number from 1 to 64, got ${k}`);
  return k;
}
