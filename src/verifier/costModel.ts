/**
 * What a step costs, measured in this run: a drafter's time per drafted token (DraftCost, an exponential
 * moving average) and the target's time for a pass of n tokens (CostModel: the device's cost curve, a moving
 * average per pass size, interpolated between the sizes seen).
 *
 * A straight line through the pass costs misprices the one price adaptive scheduling hinges on. On a small
 * CPU a pass over 2 tokens costs about two decodes and one over 5 about three and a half, so a line fitted to
 * sizes 1..5 puts a decode too high and a 2-token pass too low, and drafting single tokens looks as if it
 * paid. On a GPU the curve is flat up to about 8 tokens and steeper after: no line fits either.
 */

/** Weight of the newest observation in the moving averages; 0.1 by default. */
export const COST_MEMORY = 0.1;

/** A drafter's time per drafted token. */
export class DraftCost {
  private perToken: number | undefined;

  constructor(private readonly memory = COST_MEMORY) {}

  record(tokens: number, ms: number): void {
    if (tokens <= 0) return;
    const per = ms / tokens;
    this.perToken = this.perToken === undefined ? per : this.perToken + this.memory * (per - this.perToken);
  }

  get ready(): boolean {
    return this.perToken !== undefined;
  }

  time(tokens: number): number {
    return (this.perToken ?? 0) * tokens;
  }
}

/** Pass sizes up to this many tokens are kept one by one; larger ones in buckets about 9% wide. */
const EXACT_SIZES = 32;
/** Buckets per doubling of the pass size, beyond EXACT_SIZES. */
const BUCKETS_PER_OCTAVE = 8;
/**
 * An observation is taken as at most this many times the size's estimate: a pass stalled by something else
 * on the machine (another process, a page fault) would otherwise price every pass of its size for many steps.
 */
const MAX_OUTLIER = 3;

/** One pass size's (or bucket's) moving averages. */
interface SizeCost {
  tokens: number;
  ms: number;
}

/** The target's pass time by pass size. */
export class CostModel {
  private readonly bySize = new Map<number, SizeCost>();
  /** The measured sizes in size order, each with its cost raised to the most any smaller size costs. */
  private curve: SizeCost[] | undefined;

  constructor(private readonly memory = COST_MEMORY) {}

  recordVerify(tokens: number, ms: number): void {
    if (!(tokens > 0) || !(ms >= 0)) return;
    const key = sizeKey(tokens);
    const known = this.bySize.get(key);
    if (!known) this.bySize.set(key, { tokens, ms });
    else {
      known.tokens += this.memory * (tokens - known.tokens);
      known.ms += this.memory * (Math.min(ms, MAX_OUTLIER * known.ms) - known.ms);
    }
    this.curve = undefined;
  }

  /** Whether passes of two or more sizes have been seen. */
  get ready(): boolean {
    return this.bySize.size >= 2;
  }

  /**
   * Predicted time of a target pass over n tokens: interpolated between the nearest sizes measured, and
   * extended beyond them along the slope of the two nearest. With one size measured, that size's cost; 1 ms
   * before any.
   */
  verifyTime(n: number): number {
    const curve = this.sortedCurve();
    if (curve.length < 2) return curve[0]?.ms ?? 1;
    const above = curve.findIndex((c) => c.tokens >= n);
    const i = above < 0 ? curve.length - 1 : Math.max(1, above);
    const [lo, hi] = [curve[i - 1], curve[i]];
    const line = lo.ms + ((hi.ms - lo.ms) / (hi.tokens - lo.tokens)) * (n - lo.tokens);
    // Below the smallest size the line may fall too fast; a pass's cost per token only falls with its size.
    return above === 0 ? Math.max(line, (lo.ms * n) / lo.tokens) : line;
  }

  /** Whether passes of this size (or its bucket) have been measured. */
  measured(n: number): boolean {
    return this.bySize.has(sizeKey(n));
  }

  private sortedCurve(): SizeCost[] {
    if (this.curve) return this.curve;
    const sorted = [...this.bySize.values()].sort((a, b) => a.tokens - b.tokens);
    // Noise can make a size look cheaper than a smaller one; a curve that falls would make drafting more look free.
    let most = 0;
    this.curve = sorted.map((c) => {
      most = Math.max(most, c.ms);
      return { tokens: c.tokens, ms: most };
    });
    return this.curve;
  }
}

/** The map key of a pass size: the size itself up to EXACT_SIZES, else its bucket (negative, so never a size). */
function sizeKey(tokens: number): number {
  return tokens <= EXACT_SIZES ? tokens : -Math.round(Math.log2(tokens) * BUCKETS_PER_OCTAVE);
}
