/**
 * A drafter backed by a small language model with its own session. Its cache
 * follows the accepted tokens: rejected drafts are rolled back, and nothing it
 * has already evaluated is evaluated again. A drafter whose vocabulary differs in size from the target's drafts
 * over the shared range (sampling/sharedVocabulary.ts): with more tokens than the target, it reads whole rows
 * and takes their first tokens (the backend's row summaries and runs cover its whole vocabulary); with fewer,
 * it pads q with zeros and drafts nothing once the context holds a token it lacks.
 */
import type { LogitRows, RowSummary } from "../model/rows.js";
import type { BatchToken, LanguageModel, ModelSession } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "../sampling/constraints.js";
import { argmax, samplingDistribution, softmax } from "../sampling/distribution.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import { drafterHasExtraTokens, drafterKnows, onTargetVocabulary, sharedLogits, type VocabularyOverlap } from "../sampling/sharedVocabulary.js";
import { DenseDistribution, PointDistribution, rowSamplingDistribution, SummarizedDistribution } from "../sampling/tokenDistribution.js";
import { drawAt, drawFrom, runDraws } from "../sampling/tokenDraws.js";
import { Random } from "../util/random.js";
import { type DraftedToken, type Drafter, type DrafterCapabilities, type DraftRuns, PLAIN_DRAFTER, type RunOptions } from "./drafter.js";

export interface ModelDrafterOptions {
  /** Context size of the drafter's session; the backend's default when omitted. */
  contextSize?: number;
  /** The generation's constraints, applied to q as they are to p. */
  constraints?: Constraints;
  /** The model is shared with other requests' drafters (a server's SharedModel), whose runs merge with this one's. */
  shared?: boolean;
  /**
   * The target's vocabulary size, which q is stated over; the drafter's own by default. Where they differ
   * (checkCompatibleVocabularies allows 128 tokens), the drafter drafts over the ids both have.
   */
  targetVocabularySize?: number;
}

/** Mixed into the sampling seed so the drafter's draws are independent of the acceptance draws. */
const DRAFTER_SEED_SALT = 0x5eed;

export class ModelDrafter implements Drafter, DraftRuns {
  readonly name: string;
  /** Runs in one native call where the backend has them (runOf), else token by token behind the same call. */
  readonly capabilities: DrafterCapabilities = { ...PLAIN_DRAFTER, runs: this };
  calls = 0;
  private session: ModelSession | undefined;
  /** Accepted context plus this block's drafts; the cache holds a prefix of it. */
  private tokens: TokenId[] = [];
  /** Length of the accepted context (tokens past it are this block's drafts). */
  private contextLength = 0;
  private readonly rng: Random | undefined;
  private started = false;
  /**
   * Storage of sampled runs' distributions, two used in turn: a block's q stays valid while the next block is
   * drafted, until the one after it (a step settles its block before the next is planned). A fresh array of
   * steps x vocabulary per run made garbage collection a large part of a sampled drafter call.
   */
  private readonly runBuffers: Float64Array[] = [];
  private runTurn = 0;
  /** The drafter's rows against the target's vocabulary. */
  private readonly overlap: VocabularyOverlap;
  /** The context holds a token the drafter's vocabulary lacks (a smaller drafter): it drafts nothing more. */
  private lost = false;

  constructor(
    private readonly model: LanguageModel,
    private readonly sampling: SamplingSettings,
    private readonly options: ModelDrafterOptions = {},
  ) {
    this.name = model.name;
    this.rng = sampling.mode === "sample" ? new Random(sampling.seed ^ DRAFTER_SEED_SALT) : undefined;
    this.overlap = { drafter: model.vocabulary.size, target: options.targetVocabularySize ?? model.vocabulary.size };
  }

  /**
   * Starts on a context. The session is opened, and the context evaluated, with the first draft (never, when
   * every block is left to another source or a policy drafts nothing); a session of an earlier start is reused.
   */
  async start(context: readonly TokenId[]): Promise<void> {
    this.session?.clear();
    this.tokens = [...context];
    this.contextLength = context.length;
    this.calls = 0;
    this.started = true;
    this.lost = !this.knowsAll(context);
  }

  /** Whether the drafter's vocabulary has every one of these tokens. */
  private knowsAll(tokens: readonly TokenId[]): boolean {
    return tokens.every((t) => drafterKnows(t, this.overlap));
  }

  /** The session, opened at the first draft. */
  private async open(): Promise<ModelSession> {
    if (!this.started) throw new Error("the drafter was not started");
    // A drafter's numbers never decide the output: its passes need not keep batch invariance.
    this.session ??= await this.model.createSession({ contextSize: this.options.contextSize, rowSummary: "top", batchInvariant: false });
    return this.session;
  }

  async next(): Promise<DraftedToken | undefined> {
    if (this.lost) return undefined;
    const session = await this.open();
    const cached = session.sequenceLength(0);
    if (this.tokens.length >= session.contextSize) return undefined;
    const pending = this.tokens.slice(cached);
    let rows: LogitRows | undefined;
    for (let i = 0; i < pending.length; i += session.batchSize) {
      const chunk = pending.slice(i, i + session.batchSize);
      const last = i + session.batchSize >= pending.length;
      rows = await session.evaluate(chunk.map((token, j) => ({ token, position: cached + i + j, sequences: [0], logits: last && j === chunk.length - 1 })));
      this.calls++;
    }
    if (!rows?.count) throw new Error("the drafter has no new token to condition on");
    const drafted = this.choose(rows);
    this.tokens.push(drafted.token);
    return drafted;
  }

  /** Whether runs merge with other requests' (DraftRuns.runsAreShared): a shared model whose slots run natively. */
  get runsAreShared(): boolean {
    const session = this.session;
    return (this.options.shared ?? false) && session !== undefined && !this.options.constraints?.active && this.runOf(session, true) !== undefined;
  }

  /** Without constraints, on a backend with runs (greedy or sampled): n tokens in one call; else token by token. */
  async nextRun(n: number, options: RunOptions = {}): Promise<DraftedToken[]> {
    if (this.lost) return [];
    const session = await this.open();
    const cached = session.sequenceLength(0);
    const steps = Math.min(n, session.contextSize - this.tokens.length);
    const pending = this.tokens.slice(cached);
    const run = this.options.constraints?.active || steps < 1 || pending.length > session.batchSize ? undefined : this.runOf(session, options.signals ?? true);
    if (!run) {
      const out: DraftedToken[] = [];
      while (out.length < n) {
        const next = await this.next();
        if (!next) break;
        out.push(next);
      }
      return out;
    }
    const drafted = await run(
      pending.map((token, j) => ({ token, position: cached + j, sequences: [0], logits: j === pending.length - 1 })),
      steps,
    );
    this.calls += steps;
    for (const d of drafted) this.tokens.push(d.token);
    return drafted;
  }

  /**
   * The session's run in this drafter's sampling mode, giving drafted tokens; undefined where the backend has none,
   * and for a drafter with tokens the target lacks (a run's argmax and draws range over the whole row).
   */
  private runOf(session: ModelSession, signals: boolean): ((batch: BatchToken[], steps: number) => Promise<DraftedToken[]>) | undefined {
    if (drafterHasExtraTokens(this.overlap)) return undefined;
    const vocabSize = session.vocabulary.size;
    const targetSize = this.overlap.target;
    if (this.sampling.mode === "greedy") {
      const greedy = session.capabilities.greedyRuns;
      const q = (token: TokenId, summary: RowSummary) => (signals ? new SummarizedDistribution(summary, targetSize) : new PointDistribution(token, targetSize));
      return (
        greedy &&
        (async (batch, steps) => {
          const run = await greedy.continueGreedy(batch, steps, signals ? "top" : "argmax");
          return run.tokens.map((token, i) => ({ token, q: q(token, run.summaries[i]), drawn: "argmax" }));
        })
      );
    }
    const sampled = session.capabilities.sampledRuns;
    const [transform, rng] = [this.sampling, this.rng!];
    return (
      sampled &&
      (async (batch, steps) => {
        // Drawn as token-by-token drafting draws: the first token takes index tokens.length of the sequence.
        const draws = runDraws(transform, this.tokens.length, steps, rng);
        const run = await sampled.continueSampled(batch, steps, { transform, draws, into: this.runStorage(steps * vocabSize) });
        return run.tokens.map((token, i) => ({ token, q: new DenseDistribution(onTargetVocabulary(run.distributions[i], this.overlap)), drawn: "sampled" }));
      })
    );
  }

  /** The next of the two run buffers, grown to at least `size`. */
  private runStorage(size: number): Float64Array {
    this.runTurn ^= 1;
    if ((this.runBuffers[this.runTurn]?.length ?? 0) < size) this.runBuffers[this.runTurn] = new Float64Array(size);
    return this.runBuffers[this.runTurn];
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    if (!this.started) throw new Error("the drafter was not started");
    const keep = this.contextLength + keptDrafts;
    this.tokens.length = keep;
    this.tokens.push(...appended);
    this.contextLength = this.tokens.length;
    if (!this.knowsAll(appended)) this.lost = true;
    const session = this.session;
    if (session && session.sequenceLength(0) > keep) session.removeRange(0, keep);
  }

  dispose(): void {
    this.session?.dispose();
    this.session = undefined;
    this.started = false;
  }

  /**
   * The drafted token and q from the last row, over the shared range. Greedy without constraints reads the
   * backend's row summary (argmax, top tokens, entropy: no full row in JavaScript) where it covers only shared
   * tokens; otherwise q is computed from the whole row's shared tokens.
   */
  private choose(rows: LogitRows): DraftedToken {
    const constraints = this.options.constraints;
    const summary = rows.capabilities.summaries?.summary(0);
    const wholeRow = constraints?.active || drafterHasExtraTokens(this.overlap);
    if (this.sampling.mode === "greedy" && !wholeRow && summary && Number.isFinite(summary.logSumExp))
      return { token: summary.top[0], q: new SummarizedDistribution(summary, this.overlap.target), drawn: "argmax" };
    const logits = sharedLogits(constraints?.active ? constraints.apply(rows.row(0), this.tokens) : rows.row(0), this.overlap);
    if (this.sampling.mode === "greedy") return { token: argmax(logits), q: this.dense(softmax(logits)), drawn: "argmax" };
    // Copied from the row's storage: the block keeps q after the drafter's next evaluate reuses it.
    const probs = wholeRow ? samplingDistribution(logits, this.sampling) : rowSamplingDistribution(rows, 0, this.sampling).slice();
    const q = this.dense(probs);
    // Coupled: the noise of the position the token takes, the target's own there (SampledRule).
    return { token: drawFrom(q.dense(), drawAt(this.sampling, this.tokens.length, this.rng!)), q, drawn: "sampled" };
  }

  /** q over the shared range as the acceptance rules read it: over the target's vocabulary. */
  private dense(probs: Float64Array): DenseDistribution {
    return new DenseDistribution(onTargetVocabulary(probs, this.overlap));
  }
}
