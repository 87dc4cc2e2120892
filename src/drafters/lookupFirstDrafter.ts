/**
 * Prompt lookup first, the draft model otherwise. At the start of each block, a continuation found after an
 * earlier occurrence of the context's last `minMatch` (or more) tokens is drafted at no model cost; only
 * when there is none does the draft model draft the block. A block is drafted by one of the two, never
 * mixed, and each of them follows every emitted token: the model's cache catches up on what lookup drafted
 * lazily, in one batch, the next time it drafts.
 *
 * Lossless like any drafter: lookup's proposals are one-hot (drawn "argmax"), the model's keep their own q.
 */
import type { TokenId } from "../backends/languageModel.js";
import type { DraftedToken, Drafter, DraftSource, RunOptions } from "./drafter.js";
import { PromptLookupDrafter } from "./promptLookupDrafter.js";

/** The shortest match lookup must find to draft a block instead of the model; 3 tokens by default. */
export const DEFAULT_LOOKUP_FIRST_MIN_MATCH = 3;

export class LookupFirstDrafter implements Drafter {
  readonly name: string;
  private readonly lookup: PromptLookupDrafter;
  /** Who drafts the current block; undefined until its first token is asked for. */
  private source: DraftSource | undefined;
  /** This block's drafts (from either source). */
  private drafted: TokenId[] = [];
  /** Blocks (with drafts) drafted by lookup and by the model, for reports. */
  readonly blocks = { lookup: 0, model: 0 };

  constructor(
    private readonly model: Drafter,
    vocabSize: number,
    minMatch = DEFAULT_LOOKUP_FIRST_MIN_MATCH,
  ) {
    if (!Number.isInteger(minMatch) || minMatch < 1) throw new RangeError(`the lookup match must be a whole number of tokens >= 1, got ${minMatch}`);
    this.lookup = new PromptLookupDrafter(vocabSize, Math.max(minMatch, 3), minMatch);
    this.name = `lookup+${model.name}`;
  }

  get calls(): number {
    return this.model.calls;
  }

  /** The draft model's (prompt lookup's proposals cost nothing either way). */
  get runsAreShared(): boolean {
    return this.model.runsAreShared ?? false;
  }

  async start(context: readonly TokenId[]): Promise<void> {
    await Promise.all([this.lookup.start(context), this.model.start(context)]);
    this.source = undefined;
    this.drafted = [];
  }

  async next(): Promise<DraftedToken | undefined> {
    return this.keep(await this.drafter().next());
  }

  async nextRun(n: number, options?: RunOptions): Promise<DraftedToken[]> {
    const drafter = this.drafter();
    if (drafter.nextRun) return this.keepAll(await drafter.nextRun(n, options));
    const out: DraftedToken[] = [];
    while (out.length < n) {
      const next = this.keep(await drafter.next());
      if (!next) break;
      out.push(next);
    }
    return out;
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    // The one that drafted keeps its kept drafts; the other is told them as context.
    const emitted = [...this.drafted.slice(0, keptDrafts), ...appended];
    if (this.source && this.drafted.length > 0) this.blocks[this.source]++;
    if (this.source === "lookup") {
      this.lookup.commit(keptDrafts, appended);
      this.model.commit(0, emitted);
    } else {
      this.model.commit(keptDrafts, appended);
      this.lookup.commit(0, emitted);
    }
    this.source = undefined;
    this.drafted = [];
  }

  dispose(): void {
    this.model.dispose();
  }

  /** Who drafts the block: chosen before its first token, by whether lookup finds a long enough match. */
  nextSource(): DraftSource {
    this.source ??= this.lookup.hasMatch() ? "lookup" : "model";
    return this.source;
  }

  /** Lookup's continuation when lookup drafts this block; none when the model does. */
  freeProposal(n: number): readonly TokenId[] {
    return this.nextSource() === "lookup" ? this.lookup.freeProposal(n) : [];
  }

  private drafter(): Drafter {
    return this.nextSource() === "lookup" ? this.lookup : this.model;
  }

  private keep(d: DraftedToken | undefined): DraftedToken | undefined {
    if (d) this.drafted.push(d.token);
    return d;
  }

  private keepAll(run: DraftedToken[]): DraftedToken[] {
    for (const d of run) this.drafted.push(d.token);
    return run;
  }
}
