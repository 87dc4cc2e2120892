/**
 * A drafter that reads the target's own states: an EAGLE-3 head (docs/eagle3.md) on the generation's target session.
 * The head's cache holds, for each position P of the context whose target states are known, the pair (token at
 * P + 1, feature of P); the pair at the context's second-to-last position predicts the token after the context, and
 * each drafted token goes back in with the head's own pre-norm state. A block's drafted pairs are removed when it
 * closes, and the pairs of its kept tokens written from the target states its verification computed.
 *
 * Exactness does not depend on the head: q is its softmax under the generation's sampling transform (argmax for
 * greedy; a draw, or the coupled draw of the position, for sampling), as for a draft model. Where a tree's sibling
 * won, the target computed that token on another sequence and computes it again on the chain's in the next pass:
 * until then the head lacks that pair and drafts nothing (one block without drafts).
 */
import { type FeatureHeadModel, type FeatureHeadSession, type HeadPair, type HeadRow, type HeadRowForm, LOGITS_FORM, SUMMARY_FORM } from "../model/head.js";
import type { ModelSession } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Constraints } from "../sampling/constraints.js";
import { argmax, samplingDistribution, softmax } from "../sampling/distribution.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import { DenseDistribution, SummarizedDistribution } from "../sampling/tokenDistribution.js";
import { drawAt, drawFrom } from "../sampling/tokenDraws.js";
import { Random } from "../util/random.js";
import { type DraftedToken, type Drafter, type DrafterCapabilities, PLAIN_DRAFTER, type TargetReading } from "./drafter.js";

/** Mixed into the sampling seed so the head's draws are independent of the acceptance draws (as a draft model's). */
const HEAD_SEED_SALT = 0xea61e;

/** The row predicting the next token, where it came from, and the drafted token not yet fed back. */
interface Frontier {
  row: HeadRow;
  /** The head position of the pair whose row it is. */
  position: number;
  /** A token drafted from `row` and not yet decoded into the head. */
  pending?: TokenId;
}

export class EagleDrafter implements Drafter, TargetReading {
  readonly name: string;
  readonly capabilities: DrafterCapabilities = { ...PLAIN_DRAFTER, targetReading: this };
  calls = 0;
  private target: ModelSession | undefined;
  private targetSequence = 0;
  private head: FeatureHeadSession | undefined;
  /** Accepted context plus this block's drafts. */
  private tokens: TokenId[] = [];
  private contextLength = 0;
  /** Head positions 0..written - 1 hold the pairs of accepted tokens. */
  private written = 0;
  private frontier: Frontier | undefined;
  private readonly rng: Random | undefined;

  constructor(
    private readonly model: FeatureHeadModel,
    private readonly sampling: SamplingSettings,
    private readonly constraints?: Constraints,
  ) {
    this.name = model.name;
    this.rng = sampling.mode === "sample" ? new Random(sampling.seed ^ HEAD_SEED_SALT) : undefined;
  }

  attach(target: ModelSession, sequence: number): void {
    const heads = target.capabilities.featureHeads;
    if (!heads) throw new Error(`${this.name} is an EAGLE-3 head: it drafts only for a llama.cpp target in this process, whose states it reads`);
    this.head?.dispose();
    this.head = heads.attach(this.model, sequence);
    this.target = target;
    this.targetSequence = sequence;
  }

  observeTarget(): void {
    // The head reads the target's states by position (featuresAt), not the rows handed over here.
  }

  async start(context: readonly TokenId[]): Promise<void> {
    if (!this.head) throw new Error(`${this.name} was not attached to a target session before its generation started`);
    this.head.removeFrom(0);
    this.tokens = [...context];
    this.contextLength = context.length;
    this.written = 0;
    this.frontier = undefined;
    this.calls = 0;
    this.writeKnownPairs();
  }

  async next(): Promise<DraftedToken | undefined> {
    const f = this.frontier;
    const head = this.head;
    if (!f || !head) return undefined;
    if (f.pending !== undefined) {
      if (f.position + 1 >= this.target!.contextSize) return undefined;
      [f.row] = head.decode([{ token: f.pending, position: f.position + 1, feature: f.row.prenorm, output: true }], this.rowForm());
      f.position++;
      this.calls++;
    }
    const drafted = this.choose(f.row);
    f.pending = drafted.token;
    this.tokens.push(drafted.token);
    return drafted;
  }

  commit(keptDrafts: number, appended: readonly TokenId[]): void {
    this.tokens.length = this.contextLength + keptDrafts;
    this.tokens.push(...appended);
    this.contextLength = this.tokens.length;
    this.frontier = undefined;
    this.head?.removeFrom(this.written);
    this.writeKnownPairs();
  }

  dispose(): void {
    this.head?.dispose();
    this.head = undefined;
    this.target = undefined;
  }

  /**
   * Writes the pairs of every accepted position whose target states are known (the target's cache holds them) and
   * whose next token is known; the last pair's row predicts the token after the context where all are written.
   */
  private writeKnownPairs(): void {
    const head = this.head!;
    const known = Math.min(this.target!.sequenceLength(this.targetSequence), this.contextLength - 1);
    const complete = known === this.contextLength - 1;
    const batch = head.batchSize;
    while (this.written < known) {
      const positions = Array.from({ length: Math.min(batch, known - this.written) }, (_, i) => this.written + i);
      const features = head.featuresAt(positions);
      const last = positions[positions.length - 1];
      const pairs: HeadPair[] = positions.map((p, i) => ({
        token: this.tokens[p + 1],
        position: p,
        feature: features.subarray(i * head.width, (i + 1) * head.width),
        output: complete && p === last && last === known - 1,
      }));
      const rows = head.decode(pairs, this.rowForm());
      this.calls++;
      this.written = last + 1;
      if (rows.length > 0) this.frontier = { row: rows[0], position: last };
    }
  }

  /**
   * Greedy with no constraints reads the backend's row summary (argmax, top tokens, entropy), sampling with none the
   * sampler's distribution the backend computes; constraints change the logits first, so they read the whole row.
   */
  private rowForm(): HeadRowForm {
    if (this.constraints?.active) return LOGITS_FORM;
    return this.sampling.mode === "greedy" ? SUMMARY_FORM : { kind: "distribution", transform: this.sampling };
  }

  /** The drafted token and q from a row of the head. */
  private choose(row: HeadRow): DraftedToken {
    if (row.form === "summary") return { token: row.summary.top[0], q: new SummarizedDistribution(row.summary, this.head!.vocabSize), drawn: "argmax" };
    if (row.form === "distribution") return this.drawn(row.probs);
    const logits = this.constraints?.active ? this.constraints.apply(row.logits, this.tokens) : row.logits;
    if (this.sampling.mode === "greedy") return { token: argmax(logits), q: new DenseDistribution(softmax(logits)), drawn: "argmax" };
    return this.drawn(samplingDistribution(logits, this.sampling));
  }

  /** A token drawn from q = probs; coupled: with the noise of the position the token takes, the target's own there (SampledRule). */
  private drawn(probs: Float64Array): DraftedToken {
    if (this.sampling.mode !== "sample") throw new Error("a head's sampled draft needs sampling settings");
    return { token: drawFrom(probs, drawAt(this.sampling, this.tokens.length, this.rng!)), q: new DenseDistribution(probs), drawn: "sampled" };
  }
}
