/** The serving benchmark's level summary, arithmetic on hand-made records and counters (the load itself: test/serveLoad.test.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { nativeCalls, percentile, serverSteps, summarizeLevel, withSpeedups } from "../../src/bench/serveSummary.js";
import { emptySchedulerStats } from "../../src/decoding/scheduler.js";
import { emptyCallStats } from "../../src/model/languageModel.js";

test("level summaries: throughput over the wall time, percentiles, speedups against concurrency 1", () => {
  const rec = (index: number, tokens: number, ttftMs: number, gapsMs: number[], extra = {}) => ({
    index,
    concurrency: 2,
    streamed: true,
    aborted: false,
    error: undefined,
    completionTokens: tokens,
    ttftMs,
    gapsMs,
    totalMs: 0,
    retried: false,
    ...extra,
  });
  // 30 + 10 tokens (an aborted request's count too) over 2 s: 20 tokens/s; the errored one is left out of the percentiles.
  const level = summarizeLevel(
    2,
    [rec(0, 30, 100, [5, 7], { retried: true }), rec(1, 10, 300, [9], { aborted: true }), rec(2, 0, 0, [], { error: "HTTP 500" })],
    2000,
  );
  assert.equal(level.tokensPerSecond, 20);
  assert.deepEqual([level.errors, level.aborted, level.retried, level.ttftP50Ms, level.itlP99Ms], [1, 1, 1, 100, 7]);
  // Nearest-rank percentiles: p50 of 1..4 is 2, p99 is 4.
  assert.deepEqual([percentile([4, 1, 3, 2], 50), percentile([4, 1, 3, 2], 99), percentile([], 50)], [2, 4, 0]);
  const one = summarizeLevel(1, [rec(0, 10, 50, [])], 1000);
  assert.deepEqual(
    withSpeedups([one, level]).map((l) => l.speedupOverConcurrency1),
    [1, 2],
  );
});

test("a level's steps: the scheduler's counters over the level, per step", () => {
  const before = { ...emptySchedulerStats(), steps: 10, passMs: 50, joinSteps: 1, joinPassMs: 9 };
  // 4 steps in the level: 10 requests (2.5 a step), 40 tokens (10 a step); 2 admissions in 6 ms (1.5 a step); one
  // step carried a new prompt, its pass 20 ms, so the other three passes took (44 - 20) / 3 = 8 ms each.
  const after = {
    ...before,
    steps: 14,
    requestSteps: 10,
    passTokens: 40,
    admissions: 2,
    admitMs: 6,
    planMs: 8,
    passMs: 94,
    settleMs: 2,
    joinSteps: 2,
    joinPassMs: 29,
  };
  assert.deepEqual(serverSteps(before, after), {
    steps: 4,
    requests: 2.5,
    passTokens: 10,
    stepMs: 1.5 + 2 + 11 + 0.5,
    planMs: 2,
    passMs: 11,
    settleMs: 0.5,
    admitMs: 1.5,
    joinSteps: 1,
    joinPassMs: 20,
    otherPassMs: 8,
  });
  // A model's native calls over those 4 steps: 8 calls of 24 tokens in all, hand-offs both ways (1 + 1 ms).
  const calls = { ...emptyCallStats(), calls: 10, tokens: 30, decodeMs: 20, rowsMs: 2, queueMs: 3, returnMs: 3 };
  const later = { ...calls, calls: 18, tokens: 54, decodeMs: 36, rowsMs: 4, queueMs: 4, returnMs: 4 };
  assert.deepEqual(nativeCalls(calls, later, 4), { calls: 2, tokens: 6, decodeMs: 4, rowsMs: 0.5, handoffMs: 0.5 });
});
