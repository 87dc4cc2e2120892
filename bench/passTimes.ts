/** What the pass benchmarks (passShapes.ts, servedPass.ts) report of a series of times: mean and median, in ms. */
import { percentile } from "../src/bench/serveSummary.js";

export function meanAndMedian(times: readonly number[]): { meanMs: number; p50Ms: number } {
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  return { meanMs: +mean.toFixed(3), p50Ms: +percentile(times, 50).toFixed(3) };
}
