/**
 * What a step costs, measured in this run: a drafter's time per drafted token (DraftCost, an exponential
 * moving average) and the target's time for a pass of n tokens (CostModel).
 *
 * A decode is priced apart from larger passes. It is the price of not drafting, the one adaptive scheduling
 * hinges on, and it runs differently: llama.cpp uses matrix-vector kernels for it on a CPU and replays a
 * captured CUDA graph for it on a GPU. On this 2-core CPU a decode costs about 2.0 ms, a 2-token pass 4.0 and
 * a 5-token pass 7.0; one line through all of them prices a decode too high and a 2-token pass too low, so
 * drafting single tokens looked as if it paid. The larger passes share a line, which smooths their noise: a
 * moving average per pass size, tried instead, took a single slow first pass (22 ms against 7, cold) as the
 * price of its size for the whole generation, and the sizes between two measured ones were guesses.
 */

/** Weight of the newest observation in the moving averages; 0.1 by default. */
export const COST_MEMORY = 0.1;

/** Weight of a faster observation in a drafter's cost: timing noise only adds, so a faster one is believed sooner. */
const FASTER_WEIGHT = 0.5;

/**
 * A drafter's time per drafted token. A faster observation moves it by half the difference, a slower one by
 * `memory` of it, capped (MAX_OUTLIER): the first blocks of a fresh drafter (its context, CUDA graphs being
 * recorded) cost several times what later ones do (6 ms a token on the H200 against 1.3), and an estimate left
 * there kept drafting off for good.
 */
export class DraftCost {
  private perToken: number | undefined;

  constructor(private readonly memory = COST_MEMORY) {}

  record(tokens: number, ms: number): void {
    if (tokens <= 0 || !(ms >= 0)) return;
    const per = ms / tokens;
    if (this.perToken === undefined) this.perToken = per;
    else if (per < this.perToken) this.perToken += FASTER_WEIGHT * (per - this.perToken);
    else this.perToken += this.memory * (Math.min(per, MAX_OUTLIER * this.perToken) - this.perToken);
  }

  get ready(): boolean {
    return this.perToken !== undefined;
  }

  time(tokens: number): number {
    return (this.perToken ?? 0) * tokens;
  }

  toRecord(): DraftCostRecord {
    return { perToken: this.perToken ?? null };
  }

  static fromRecord(r: DraftCostRecord): DraftCost {
    const cost = new DraftCost();
    cost.perToken = finiteOrUndefined(r.perToken);
    return cost;
  }
}

/** What a DraftCost has measured, as plain data (null: nothing yet). */
export interface DraftCostRecord {
  perToken: number | null;
}

/**
 * What a CostModel has measured, as plain data: the decode (null: not yet), the line's decayed sums and the
 * largest pass measured (absent in records kept before it was).
 */
export interface CostModelRecord {
  decode: number | null;
  sums: [number, number, number, number, number];
  largest?: number;
}

function finiteOrUndefined(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : undefined;
}

/**
 * An observation is taken as at most this many times the estimate: a decode stalled by something else on the
 * machine (another process, a page fault) would otherwise price every decode for many steps.
 */
const MAX_OUTLIER = 3;

/**
 * The target's pass time by pass size: a decode (a pass of one token) on its own, as a moving average, and
 * passes of two or more tokens on a least-squares line a + b*n over recent passes, with forgetting.
 */
export class CostModel {
  private decode: number | undefined;
  /** Decayed sums for the line through passes of two or more tokens. */
  private sw = 0;
  private sn = 0;
  private st = 0;
  private snn = 0;
  private snt = 0;
  /** The largest pass measured. */
  private largest = 0;

  constructor(private readonly memory = COST_MEMORY) {}

  recordVerify(tokens: number, ms: number): void {
    if (!(tokens >= 1) || !(ms >= 0)) return;
    this.largest = Math.max(this.largest, tokens);
    if (tokens === 1) {
      // Timing noise only adds (a stalled thread, a page fault): a faster decode is believed at once, a slower
      // one slowly. A price set too high by stalls makes drafting look as if it paid.
      if (this.decode === undefined || ms < this.decode) this.decode = ms;
      else this.decode += this.memory * (Math.min(ms, MAX_OUTLIER * this.decode) - this.decode);
      return;
    }
    // A pass stalled by something else on the machine counts as at most MAX_OUTLIER times its predicted cost: an
    // estimate left high keeps drafting off, and then no pass of that size comes to correct it.
    if (this.ready) ms = Math.min(ms, MAX_OUTLIER * this.verifyTime(tokens));
    const keep = 1 - this.memory;
    this.sw = this.sw * keep + 1;
    this.sn = this.sn * keep + tokens;
    this.st = this.st * keep + ms;
    this.snn = this.snn * keep + tokens * tokens;
    this.snt = this.snt * keep + tokens * ms;
  }

  /** Whether passes of two or more sizes have been seen. */
  get ready(): boolean {
    return this.sw > 0 && (this.decode !== undefined || this.lineFitted);
  }

  /** The largest pass this model has measured: the line's prices beyond it are extrapolated. */
  get largestMeasured(): number {
    return this.largest;
  }

  /** Whether a pass of this size has been priced by measurement rather than guessed: a decode, or any larger pass. */
  measured(n: number): boolean {
    return n <= 1 ? this.decode !== undefined : this.sw > 0;
  }

  /**
   * Predicted time of a target pass over n tokens (1 ms before any pass): a decode at its measured cost; a
   * larger pass on the line (through the decode and the mean pass when one size was seen), never below a decode.
   */
  verifyTime(n: number): number {
    if (n <= 1 && this.decode !== undefined) return this.decode;
    if (this.sw === 0) return this.decode ?? 1;
    const meanN = this.sn / this.sw;
    const meanT = this.st / this.sw;
    let slope = 0;
    if (this.lineFitted) slope = (this.snt * this.sw - this.sn * this.st) / (this.snn * this.sw - this.sn * this.sn);
    else if (this.decode !== undefined) slope = (meanT - this.decode) / (meanN - 1);
    return Math.max(this.decode ?? 1e-6, meanT + Math.max(0, slope) * (n - meanN));
  }

  toRecord(): CostModelRecord {
    return { decode: this.decode ?? null, sums: [this.sw, this.sn, this.st, this.snn, this.snt], largest: this.largest };
  }

  static fromRecord(r: CostModelRecord): CostModel {
    const cost = new CostModel();
    cost.decode = finiteOrUndefined(r.decode);
    const sums = Array.isArray(r.sums) && r.sums.length === 5 ? r.sums.map(finiteOrUndefined) : [];
    if (sums.length === 5 && sums.every((x) => x !== undefined)) [cost.sw, cost.sn, cost.st, cost.snn, cost.snt] = sums as number[];
    cost.largest = Math.floor(finiteOrUndefined(r.largest) ?? 0);
    return cost;
  }

  private get lineFitted(): boolean {
    return this.snn * this.sw - this.sn * this.sn > 1e-9 * this.sw * this.sw;
  }
}
