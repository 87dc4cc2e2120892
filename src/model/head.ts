/**
 * Feature heads: models that draft from the target's own states (EAGLE-3, docs/eagle3.md). A head session reads one
 * sequence of a target session: the target's passes keep the states the head reads for every token they compute,
 * and the head's cache holds pairs (the token at P + 1, the feature of P), whose rows predict the token at P + 2.
 */
import type { RowSummary, SamplingTransform } from "./rows.js";
import type { TokenId } from "./vocabulary.js";

/** One pair of a head pass, at `position` of the head's cache. */
export interface HeadPair {
  token: TokenId;
  position: number;
  /** The feature of `position`: the head's encoding of the target's states there, or its own pre-norm state. */
  feature: Float32Array;
  /** Whether this pair's row is wanted. */
  output: boolean;
}

/**
 * How a decode hands back its rows: the whole logits row; the backend's summary of it (most likely tokens,
 * log-sum-exp, entropy: all a greedy drafter's q needs, with no row copied into JavaScript); or the distribution a
 * sampler draws from under a transform (softmax at its temperature, top-k, top-p), computed by the backend.
 */
export type HeadRowForm = { kind: "logits" } | { kind: "summary" } | { kind: "distribution"; transform: SamplingTransform };

export const LOGITS_FORM: HeadRowForm = { kind: "logits" };
export const SUMMARY_FORM: HeadRowForm = { kind: "summary" };

/** A head's row for a pair asked for: its pre-norm state (the feature of the next draft step), and its row in the form asked for. */
export type HeadRow = { prenorm: Float32Array } & (
  | { form: "logits"; logits: Float32Array }
  | { form: "summary"; summary: RowSummary }
  | { form: "distribution"; probs: Float64Array }
);

export interface FeatureHeadSession {
  /** Floats per feature. */
  readonly width: number;
  /** Most pairs one decode takes. */
  readonly batchSize: number;
  /** The features of the target's tokens at these positions of its sequence, as its last passes computed them. */
  featuresAt(positions: readonly number[]): Float32Array;
  /** Tokens per row (the target's vocabulary). */
  readonly vocabSize: number;
  /** Decodes pairs into the head's cache; returns the rows asked for, in order, in the form asked for (logits by default). */
  decode(pairs: readonly HeadPair[], form?: HeadRowForm): HeadRow[];
  /** Removes the head's pairs at `position` and after. */
  removeFrom(position: number): void;
  dispose(): void;
}

/** A model that is a feature head (opened on a target session through its `featureHeads` capability). */
export interface FeatureHeadModel {
  readonly name: string;
  /** The target layers it reads. */
  headLayers(): number[];
  /** Its head sessions not yet disposed (each holds a cache of its own). */
  readonly openSessions: number;
  dispose(): void;
}

/** SessionCapabilities.featureHeads: a target session that feeds feature heads. */
export interface FeatureHeads {
  /**
   * A head session reading `sequence` of this session, its cache holding `contextSize` positions (what it drafts
   * for: a slot of a shared session, not the whole session; the session's by default); it ends before the session does.
   */
  attach(head: FeatureHeadModel, sequence: number, contextSize?: number): FeatureHeadSession;
}
