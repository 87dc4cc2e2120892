/**
 * One request's moments, observed into the server's latency histograms as they happen: its arrival (when
 * its handler starts), its slot (the scheduler admits it), each step that emits tokens, and its end.
 */
import type { ServerMetrics } from "./serverMetrics.js";

export class RequestTiming {
  private readonly arrived: number;
  private lastTokensAt: number | undefined;
  /** Milliseconds from arrival to the slot, once admitted. */
  queueMs: number | undefined;

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.arrived = now();
  }

  /** The scheduler gave the request a slot. */
  admitted(): void {
    this.queueMs = this.now() - this.arrived;
    this.metrics.requestQueueTime.observe(this.queueMs / 1000);
  }

  /** A step emitted `tokens` tokens: the first such step is the time to first token, each later one a gap. */
  emitted(tokens: number): void {
    if (tokens === 0) return;
    const t = this.now();
    if (this.lastTokensAt === undefined) this.metrics.timeToFirstToken.observe((t - this.arrived) / 1000);
    else this.metrics.interTokenLatency.observe((t - this.lastTokensAt) / 1000);
    this.lastTokensAt = t;
  }

  /** Milliseconds since the request arrived. */
  elapsedMs(): number {
    return this.now() - this.arrived;
  }

  /** The request ended by itself (stop or length). */
  finished(): void {
    this.metrics.e2eRequestLatency.observe((this.now() - this.arrived) / 1000);
  }
}
