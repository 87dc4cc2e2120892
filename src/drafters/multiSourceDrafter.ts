/**
 * Several sources behind one drafter: drafters at no model cost (the suffix drafter, prompt lookup) and, where
 * there is one, a draft model or a feature head (EagleDrafter; "model" as a source). Each block is drafted by one
 * source, never mixed. A policy that chooses (AdaptivePolicy) asks for the candidates, each free source with its
 * proposal, and picks one (useSource); otherwise the first free source with a match drafts, and the model where none
 * has one. Every source follows every emitted token: the model's cache catches up on what a free source drafted
 * lazily, in one batch, the next time it drafts (a head writes the kept tokens' pairs at each commit).
 *
 * Lossless like any drafter: free proposals are one-hot (drawn "argmax"), the model's keep their own q.
 */
import type { TokenId } from "../model/vocabulary.js";
import type {
  DraftCandidates,
  DraftedToken,
  Drafter,
  DrafterCapabilities,
  DraftRuns,
  DraftSource,
  FreeDrafter,
  RunOptions,
  SourceChoice,
  SourceNaming,
} from "./drafter.js";

export class MultiSourceDrafter implements Drafter, DraftRuns, SourceNaming, SourceChoice {
  readonly name: string;
  /**
   * Runs (the chosen source's run, or its tokens one by one where it has no runs), the source of its next block, and
   * the choice of it; reading the target where its model does (a feature head: EagleDrafter), whatever drafts a block.
   */
  readonly capabilities: DrafterCapabilities;
  /** Who drafts the current block; undefined until it is chosen or its first token is asked for. */
  private source: DraftSource | undefined;
  /** This block's drafts (from whichever source). */
  private drafted: TokenId[] = [];
  /** Blocks (with drafts) drafted by each source, for reports. */
  readonly blocks: Record<DraftSource, number> = { model: 0, lookup: 0, suffix: 0 };

  constructor(
    private readonly free: readonly FreeDrafter[],
    private readonly model?: Drafter,
  ) {
    if (free.length === 0 && !model) throw new RangeError("a multi-source drafter needs at least one source");
    this.capabilities = { runs: this, sourceNaming: this, sourceChoice: this, targetReading: model?.capabilities.targetReading };
    this.name = [...free.map((d) => d.name), ...(model ? [model.name] : [])].join("+");
  }

  get calls(): number {
    return this.model?.calls ?? 0;
  }

  /** The draft model's (free proposals cost nothing either way). */
  get runsAreShared(): boolean {
    return this.model?.capabilities.runs?.runsAreShared ?? false;
  }

  async start(context: readonly TokenId[]): Promise<void> {
    await Promise.all(this.all().map((d) => d.start(context)));
    this.source = undefined;
    this.drafted = [];
  }

  /** Who drafts the block: the source a policy chose, else the first free source with a match, else the model. */
  nextSource(): DraftSource {
    this.source ??= this.free.find((d) => d.hasMatch())?.nextSource() ?? (this.model ? "model" : this.free[0].nextSource());
    return this.source;
  }

  candidates(n: number): DraftCandidates {
    return { free: this.free.filter((d) => d.hasMatch()).map((d) => d.proposal(n)), model: this.model !== undefined };
  }

  useSource(source: DraftSource): void {
    if (this.drafted.length > 0) throw new Error("the block's source is chosen before it is drafted");
    if (source === "model" ? !this.model : !this.free.some((d) => d.nextSource() === source)) throw new RangeError(`no ${source} source here`);
    this.source = source;
  }

  async next(): Promise<DraftedToken | undefined> {
    const d = await this.drafter().next();
    if (d) this.drafted.push(d.token);
    return d;
  }

  async nextRun(n: number, options?: RunOptions): Promise<DraftedToken[]> {
    const drafter = this.drafter();
    const out: DraftedToken[] = [];
    const runs = drafter.capabilities.runs;
    if (runs) out.push(...(await runs.nextRun(n, options)));
    while (!runs && out.length < n) {
      const d = await drafter.next();
      if (!d) break;
      out.push(d);
    }
    for (const d of out) this.drafted.push(d.token);
    return out;
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    // The one that drafted keeps its kept drafts; the others are told them as context.
    const emitted = [...this.drafted.slice(0, keptDrafts), ...appended];
    const drafting = this.drafter();
    if (this.drafted.length > 0) this.blocks[this.nextSource()]++;
    for (const d of this.all()) {
      if (d === drafting) d.commit(keptDrafts, appended);
      else d.commit(0, emitted);
    }
    this.source = undefined;
    this.drafted = [];
  }

  dispose(): void {
    for (const d of this.all()) d.dispose();
  }

  private all(): Drafter[] {
    return [...this.free, ...(this.model ? [this.model] : [])];
  }

  private drafter(): Drafter {
    const source = this.nextSource();
    return source === "model" ? this.model! : this.free.find((d) => d.nextSource() === source)!;
  }
}
