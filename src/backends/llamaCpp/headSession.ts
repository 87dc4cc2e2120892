/**
 * An EAGLE-3 head's cache on llama.cpp (docs/eagle3.md): it turns the target's captured layer inputs into features
 * (its `fc`), and decodes (token, feature) pairs. At head position P the pair is (the token at P + 1, the feature of
 * P), and its logits predict the token at P + 2; a drafted token's pre-norm state is the feature of the next step.
 */
import { type FeatureHeadSession, type HeadRow, type HeadRowForm, LOGITS_FORM } from "../../model/head.js";
import { TOP_SUMMARY_TOKENS } from "../../model/rows.js";
import type { TokenId } from "../../model/vocabulary.js";
import type { LayerInputs } from "./layerInputs.js";
import type { NativeBinding, NativeContext } from "./native.js";
import { readSummary, summaryStride } from "./nativeLayout.js";

/** One pair of a head decode, at `position` of `sequence`. */
export interface HeadEntry {
  token: TokenId;
  position: number;
  /** The head's sequence (0 when omitted). */
  sequence?: number;
  /** The feature of `position` (headWidth floats): the encoded target state, or the head's own pre-norm state. */
  feature: Float32Array;
  /** Whether this pair's logits and pre-norm state are wanted. */
  output: boolean;
}

/**
 * A head session's cache: its positions (the target session's by default; a slot's in a shared session), the pairs
 * one decode takes, its own sequences (1 by default: a drafter's chain), and the target sequence it reads (0).
 */
export interface HeadSessionOptions {
  contextSize?: number;
  batchSize?: number;
  maxSequences?: number;
  sequence?: number;
}

/** A head context's sizes: its width (the target's embedding size: it borrows the target's matrices), batch and vocabulary. */
export interface HeadSizes {
  width: number;
  batchSize: number;
  vocabSize: number;
}

export class LlamaCppHeadSession implements FeatureHeadSession {
  private disposed = false;
  readonly width: number;
  readonly batchSize: number;
  readonly vocabSize: number;

  constructor(
    private readonly native: NativeBinding,
    private readonly context: NativeContext,
    private readonly target: LayerInputs,
    sizes: HeadSizes,
    private readonly release: () => void,
    /** The target sequence whose states featuresAt reads. */
    private readonly sequence = 0,
  ) {
    ({ width: this.width, batchSize: this.batchSize, vocabSize: this.vocabSize } = sizes);
  }

  /** The features of the target sequence's tokens at these positions (FeatureHeadSession). */
  featuresAt(positions: readonly number[]): Float32Array {
    this.checkLive();
    const out = new Float32Array(positions.length * this.width);
    if (positions.length > 0) this.native.headEncode(this.context, this.target.at(this.sequence, positions), positions.length, out);
    return out;
  }

  /** Removes the head's pairs at `position` and after (FeatureHeadSession). */
  removeFrom(position: number): void {
    this.removeRange(0, position);
  }

  /**
   * Decodes the pairs into the head's cache; returns the rows of the entries asked for, in order, in the form asked
   * for: their logits, the backend's summary of each, or the sampler's distribution (no logits row copied to JavaScript).
   */
  decode(entries: readonly HeadEntry[], form: HeadRowForm = LOGITS_FORM): HeadRow[] {
    this.checkLive();
    const features = new Float32Array(entries.length * this.width);
    entries.forEach((e, i) => {
      if (e.feature.length !== this.width) throw new RangeError(`a feature has ${e.feature.length} floats, the head ${this.width}`);
      features.set(e.feature, i * this.width);
    });
    const outputs = Uint8Array.from(entries, (e) => (e.output ? 1 : 0));
    const count = outputs.reduce((a, b) => a + b, 0);
    const prenorm = new Float32Array(count * this.width);
    const top = form.kind === "summary" ? TOP_SUMMARY_TOKENS : 0;
    const summaries = new Float64Array(count * summaryStride(top));
    const ints = (f: (e: HeadEntry) => number) => Int32Array.from(entries, f);
    const [tokens, positions, sequences] = [ints((e) => e.token), ints((e) => e.position), ints((e) => e.sequence ?? 0)];
    this.native.headDecode(this.context, tokens, positions, sequences, features, outputs, prenorm, summaries, top);
    return Array.from({ length: count }, (_, r) => this.rowAt(r, prenorm.subarray(r * this.width, (r + 1) * this.width), form, summaries));
  }

  /** Output row r of the last decode in `form`. */
  private rowAt(r: number, state: Float32Array, form: HeadRowForm, summaries: Float64Array): HeadRow {
    if (form.kind === "summary")
      return { prenorm: state, form: "summary", summary: readSummary(summaries, r * summaryStride(TOP_SUMMARY_TOKENS), TOP_SUMMARY_TOKENS) };
    if (form.kind === "distribution") {
      const probs = new Float64Array(this.vocabSize);
      const { temperature, topK, topP } = form.transform;
      this.native.samplingRow(this.context, r, temperature, topK, topP, probs);
      return { prenorm: state, form: "distribution", probs };
    }
    const logits = new Float32Array(this.vocabSize);
    this.native.copyRow(this.context, r, logits, 0);
    return { prenorm: state, form: "logits", logits };
  }

  /** Removes positions [from, to) of a sequence (to the end when `to` is omitted). */
  removeRange(sequence: number, from: number, to?: number): void {
    this.checkLive();
    this.native.seqRemove(this.context, sequence, from, to ?? -1);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native.freeContext(this.context);
    this.release();
  }

  private checkLive(): void {
    if (this.disposed) throw new Error("the head session has been disposed");
  }
}
