/**
 * Prometheus histograms of request latencies, in seconds: cumulative `_bucket{le="..."}` counts ending with
 * `le="+Inf"`, then `_sum` and `_count`. The bucket bounds are vLLM's for the metrics of the same names
 * (vllm/v1/metrics/loggers.py), so dashboards built for vLLM read these too.
 */

/** vLLM's bounds for `time_to_first_token_seconds`. */
export const TTFT_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
];

/** vLLM's bounds for `inter_token_latency_seconds` (formerly `time_per_output_token_seconds`). */
export const INTER_TOKEN_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];

/** vLLM's bounds for whole-request times: `e2e_request_latency_seconds`, `request_queue_time_seconds`. */
export const REQUEST_BUCKETS: readonly number[] = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export class Histogram {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last entry: those above every bound. */
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    if (bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))) throw new Error("histogram bounds must be finite and increasing");
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  /** Counts a value into the first bucket whose upper bound is at or above it (Prometheus's `le`). */
  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** The cumulative counts per upper bound, `+Inf` last (equal to `count`). */
  cumulative(): { le: string; count: number }[] {
    let running = 0;
    return this.counts.map((n, i) => {
      running += n;
      return { le: i < this.bounds.length ? String(this.bounds[i]) : "+Inf", count: running };
    });
  }

  /** The histogram's sample lines in Prometheus text, under `name`. */
  samples(name: string): string[] {
    return [...this.cumulative().map((b) => `${name}_bucket{le="${b.le}"} ${b.count}`), `${name}_sum ${this.sum}`, `${name}_count ${this.count}`];
  }
}
