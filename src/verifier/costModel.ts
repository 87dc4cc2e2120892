/**
 * What a step costs, measured in this run: a drafter's time per drafted token
 * (DraftCost, an exponential moving average) and the target's time for a pass of n tokens
 * (CostModel, a least-squares line a + b*n over recent passes, with forgetting).
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

/** The target's pass time by pass size. */
export class CostModel {
  /** Decayed sums for the verify-time line. */
  private sw = 0;
  private sn = 0;
  private st = 0;
  private snn = 0;
  private snt = 0;

  constructor(private readonly memory = COST_MEMORY) {}

  recordVerify(tokens: number, ms: number): void {
    const keep = 1 - this.memory;
    this.sw = this.sw * keep + 1;
    this.sn = this.sn * keep + tokens;
    this.st = this.st * keep + ms;
    this.snn = this.snn * keep + tokens * tokens;
    this.snt = this.snt * keep + tokens * ms;
  }

  /** Whether passes of two or more sizes have been seen. */
  get ready(): boolean {
    return this.sw > 0 && this.snn * this.sw - this.sn * this.sn > 1e-9;
  }

  /** Predicted time of a target pass over n tokens (never below the cheapest pass seen on average). */
  verifyTime(n: number): number {
    const det = this.snn * this.sw - this.sn * this.sn;
    if (det <= 1e-9) return this.sw > 0 ? this.st / this.sw : 1;
    const slope = Math.max(0, (this.snt * this.sw - this.sn * this.st) / det);
    const intercept = (this.st - slope * this.sn) / this.sw;
    return Math.max(1e-6, intercept + slope * n);
  }
}
