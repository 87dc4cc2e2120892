/**
 * Hugging Face's assisted-generation heuristic, as a named baseline: the draft
 * length grows by 2 after a fully accepted block and shrinks by 1 otherwise.
 */
import type { Drafter } from "../drafters/drafter.js";
import { type DraftBlock, draftChain } from "../drafts/draftBlock.js";
import { type BlockOutcome, checkDraftLength, DEFAULT_DRAFT_LENGTH, type DraftContext, type DraftPolicy } from "./draftPolicy.js";

/** Upper bound of the heuristic's draft length; 16 by default. */
export const DEFAULT_HEURISTIC_MAX_LENGTH = 16;

export class HeuristicPolicy implements DraftPolicy {
  readonly name = "heuristic";
  private length: number;

  constructor(
    initial: number = DEFAULT_DRAFT_LENGTH,
    private readonly maxLength = DEFAULT_HEURISTIC_MAX_LENGTH,
  ) {
    this.length = checkDraftLength(initial);
  }

  /** The draft length the next block will use. */
  get currentLength(): number {
    return this.length;
  }

  readonly maxSequences = 1;

  draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    // Reads no q: a greedy drafter's run need not summarise its rows.
    return draftChain(drafter, Math.min(this.length, limit), { ...context, signals: false });
  }

  observe(o: BlockOutcome): void {
    if (o.drafted === 0) return;
    this.length = o.accepted === o.drafted ? Math.min(this.maxLength, this.length + 2) : Math.max(1, this.length - 1);
  }
}
