/**
 * Generation constraints, part of the generation settings and applied to the
 * target's logits (and the drafter's, so q and p see the same rules): a
 * repetition penalty (llama.cpp's rule: a positive logit of a recent token is
 * divided by the penalty, a negative one multiplied) and banned n-grams (a token
 * that would complete one gets probability 0). A drafted token that a hard
 * constraint forbids is certain to be rejected, so a verifier can cut it for free.
 */
import type { TokenId } from "../model/vocabulary.js";

/** Default number of recent tokens the repetition penalty looks at. */
export const DEFAULT_REPETITION_WINDOW = 64;

export interface ConstraintOptions {
  /** > 1 penalises recent tokens; 1 (the default) is off. */
  repetitionPenalty?: number;
  /** Recent tokens considered by the penalty; DEFAULT_REPETITION_WINDOW (64) by default. */
  repetitionWindow?: number;
  /** Token sequences that must never appear in the output (each at least 1 token long). */
  bannedNgrams?: readonly (readonly TokenId[])[];
}

export class Constraints {
  readonly penalty: number;
  readonly window: number;
  private readonly banned: readonly (readonly TokenId[])[];

  constructor(o: ConstraintOptions = {}) {
    this.penalty = o.repetitionPenalty ?? 1;
    this.window = o.repetitionWindow ?? DEFAULT_REPETITION_WINDOW;
    this.banned = o.bannedNgrams ?? [];
    if (!(this.penalty > 0) || !Number.isFinite(this.penalty)) throw new RangeError(`repetition penalty must be a positive number, got ${o.repetitionPenalty}`);
    if (!Number.isInteger(this.window) || this.window < 0) throw new RangeError(`repetition window must be a whole number >= 0, got ${o.repetitionWindow}`);
    if (this.banned.some((n) => n.length === 0)) throw new RangeError("banned n-grams must not be empty");
  }

  /** Whether any constraint is set (when none is, logits are used as they are). */
  get active(): boolean {
    return this.penalty !== 1 || this.banned.length > 0;
  }

  /** Whether appending `token` to `context` would complete a banned n-gram. */
  forbids(context: readonly TokenId[], token: TokenId): boolean {
    return this.banned.some(
      (n) =>
        n[n.length - 1] === token &&
        n.length - 1 <= context.length &&
        n.every((t, i) => i === n.length - 1 || context[context.length - (n.length - 1) + i] === t),
    );
  }

  /**
   * Whether the constraints leave `token`, the most likely next token of the raw logits, the most likely after
   * them: true when it is neither recent (the penalty's window) nor forbidden and the penalty only lowers logits
   * (>= 1: a positive logit divided, a negative one multiplied), since then every other logit stays or drops.
   * Lets a greedy step keep the backend's argmax instead of copying the whole row.
   */
  keepsArgmax(context: readonly TokenId[], token: TokenId): boolean {
    if (this.penalty < 1 || this.forbids(context, token)) return false;
    if (this.penalty === 1) return true;
    for (let i = Math.max(0, context.length - this.window); i < context.length; i++) if (context[i] === token) return false;
    return true;
  }

  /** The logits after the constraints, for the token following `context` (a copy; the input is unchanged). */
  apply(logits: Float32Array, context: readonly TokenId[]): Float32Array {
    if (!this.active) return logits;
    const out = logits.slice();
    if (this.penalty !== 1) {
      for (const t of new Set(context.slice(Math.max(0, context.length - this.window)))) out[t] = out[t] > 0 ? out[t] / this.penalty : out[t] * this.penalty;
    }
    for (const n of this.banned) if (n.length - 1 <= context.length && this.forbids(context, n[n.length - 1])) out[n[n.length - 1]] = Number.NEGATIVE_INFINITY;
    return out;
  }
}

/** No constraints. */
export const NO_CONSTRAINTS = new Constraints();
