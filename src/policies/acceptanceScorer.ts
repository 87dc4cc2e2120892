/**
 * The hook for a learned acceptance predictor (the Cascade's stage 3 and the
 * adaptive policy's stop rule): features of a drafted token that exist before
 * any target work, and a scorer that maps them to P(the target accepts it).
 */
import type { TokenSignals } from "./signals.js";

/** Features of one drafted token, all available before the target pass. */
export interface DraftFeatures extends TokenSignals {
  /** q of the previous drafted token in this block (1 for the first). */
  previousQ: number;
  /** Product of q over the block so far, this token included. */
  cumulativeQ: number;
  /** Acceptance rate measured so far in this generation (0.5 before any block). */
  runningAcceptance: number;
}

/** Names of the features, in the order scorers read them. */
export const FEATURE_NAMES = ["q", "entropy", "margin", "isTop", "position", "previousQ", "cumulativeQ", "runningAcceptance"] as const;

export function featureVector(f: DraftFeatures): number[] {
  return [f.q, f.entropy, f.margin, f.isTop ? 1 : 0, f.position, f.previousQ, f.cumulativeQ, f.runningAcceptance];
}

export interface AcceptanceScorer {
  readonly name: string;
  /** Predicted probability that the target accepts the token. */
  predict(features: DraftFeatures): number;
}
