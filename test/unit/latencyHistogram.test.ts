/** The latency histograms behind /metrics: bucket placement, cumulative exposition, and one request's moments observed into them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, INTER_TOKEN_BUCKETS, REQUEST_BUCKETS, TTFT_BUCKETS } from "../../src/server/latencyHistogram.js";
import { RequestTiming } from "../../src/server/requestTiming.js";
import { ServerMetrics } from "../../src/server/serverMetrics.js";

test("a histogram counts each value under the first bound at or above it, and exposes cumulative buckets, sum and count", () => {
  const h = new Histogram([0.1, 1, 10]);
  for (const v of [0.05, 0.1, 0.5, 1, 3, 50]) h.observe(v);
  // le is inclusive: 0.1 falls in the 0.1 bucket and 1 in the 1 bucket; 50 is above every bound.
  // Per bucket: 2 (0.05, 0.1), 2 (0.5, 1), 1 (3), 1 (50); cumulative: 2, 4, 5, 6.
  assert.deepEqual(h.samples("x"), ['x_bucket{le="0.1"} 2', 'x_bucket{le="1"} 4', 'x_bucket{le="10"} 5', 'x_bucket{le="+Inf"} 6', "x_sum 54.65", "x_count 6"]);
});

test("an empty histogram exposes every bucket at 0; bounds out of order are refused", () => {
  const h = new Histogram(TTFT_BUCKETS);
  const lines = h.samples("t");
  // One line per bound, +Inf, sum and count.
  assert.equal(lines.length, TTFT_BUCKETS.length + 3);
  assert.ok(lines.every((l) => l.endsWith(" 0")));
  assert.throws(() => new Histogram([1, 1]), /increasing/);
  assert.throws(() => new Histogram([1, Number.POSITIVE_INFINITY]), /finite/);
  // vLLM's bound lists are usable as they are.
  for (const b of [INTER_TOKEN_BUCKETS, REQUEST_BUCKETS]) assert.equal(new Histogram(b).cumulative().length, b.length + 1);
});

test("a request's timing: queue time at its slot, time to first token, one gap per later step with tokens, end-to-end at its end", () => {
  const metrics = new ServerMetrics({ processing: () => 0, deferred: () => 0 });
  let clock = 1000;
  const timing = new RequestTiming(metrics, () => clock);
  clock += 400; // waits 0.4 s for a slot
  timing.admitted();
  clock += 200; // prefill: first tokens 0.6 s after arrival
  timing.emitted(3);
  clock += 30;
  timing.emitted(0); // a step that emitted nothing (a stop string held back) is no gap
  clock += 20;
  timing.emitted(2); // 0.05 s after the first tokens
  clock += 10;
  timing.emitted(1); // 0.01 s after
  timing.finished(); // 0.66 s after arrival
  assert.equal(timing.queueMs, 400);
  const counts = (h: Histogram) => [h.count, Number(h.sum.toFixed(6))];
  assert.deepEqual(counts(metrics.requestQueueTime), [1, 0.4]);
  assert.deepEqual(counts(metrics.timeToFirstToken), [1, 0.6]);
  assert.deepEqual(counts(metrics.interTokenLatency), [2, 0.06]);
  assert.deepEqual(counts(metrics.e2eRequestLatency), [1, 0.66]);
  const text = metrics.render();
  assert.match(text, /^# TYPE verispec:time_to_first_token_seconds histogram$/m);
  // 0.6 s is above 0.5 and at or below 0.75: the 0.5 bucket holds none, the 0.75 bucket (and all after) one.
  assert.match(text, /^verispec:time_to_first_token_seconds_bucket\{le="0.5"\} 0$/m);
  assert.match(text, /^verispec:time_to_first_token_seconds_bucket\{le="0.75"\} 1$/m);
  // Gaps of 0.05 and 0.01 s: one at or below 0.01, both at or below 0.05.
  assert.match(text, /^verispec:inter_token_latency_seconds_bucket\{le="0.01"\} 1$/m);
  assert.match(text, /^verispec:inter_token_latency_seconds_bucket\{le="0.05"\} 2$/m);
  assert.match(text, /^verispec:request_queue_time_seconds_count 1$/m);
  assert.match(text, /^verispec:e2e_request_latency_seconds_bucket\{le="\+Inf"\} 1$/m);
});
