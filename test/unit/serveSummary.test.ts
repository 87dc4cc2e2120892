/** The serving benchmark's level summary, arithmetic on hand-made records and counters (the load itself: test/serveLoad.test.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyRecord, type RequestRecord } from "../../src/bench/serveLoad.js";
import { nativeCalls, percentile, serverSteps, summarizeLevel, withSpeedups } from "../../src/bench/serveSummary.js";
import { emptySchedulerStats } from "../../src/decoding/scheduler.js";
import { emptyCallStats } from "../../src/model/session.js";

test("level summaries: throughput over the wall time, percentiles, speedups against concurrency 1", () => {
  const rec = (index: number, tokens: number, ttftMs: number, gapsMs: number[], extra: Partial<RequestRecord> = {}): RequestRecord => ({
    ...emptyRecord(index, 2, true),
    completionTokens: tokens,
    ttftMs,
    gapsMs,
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

test("a soak's level: completed, 429s, aborts by where they hit, malformed ones refused as intended, p50/p90/p99 of completed requests", () => {
  // Ten completed requests, the i-th 100 * (i + 1) ms long with a first token at 10 * (i + 1) ms, a gap of i + 1 ms and a queue time of i ms.
  const done = Array.from({ length: 10 }, (_, i) => ({
    ...emptyRecord(i, 4, true),
    completionTokens: 8,
    ttftMs: 10 * (i + 1),
    gapsMs: [i + 1],
    totalMs: 100 * (i + 1),
    queueMs: i,
  }));
  const others: RequestRecord[] = [
    { ...emptyRecord(10, 4, true), aborted: true, abortPoint: "before-first-token", totalMs: 5000 },
    { ...emptyRecord(11, 4, true), aborted: true, abortPoint: "mid-stream", ttftMs: 3, gapsMs: [999] },
    { ...emptyRecord(12, 4, false), aborted: true, abortPoint: "before-response" },
    { ...emptyRecord(13, 4, false), rateLimited: true, status: 429 },
    { ...emptyRecord(14, 4, false), malformed: "truncated JSON", status: 400 },
    { ...emptyRecord(15, 4, false), malformed: "n above 1", status: 200, error: "malformed (n above 1) answered HTTP 200" },
  ];
  const l = summarizeLevel(4, [...done, ...others], 1000);
  // 14 well-formed (10 completed, 3 aborted, 1 rate-limited) and 2 malformed, one of them answered 200: the only error.
  assert.deepEqual(
    [
      l.requests,
      l.completed,
      l.aborted,
      l.abortedBeforeFirstToken,
      l.abortedMidStream,
      l.abortedBeforeResponse,
      l.rateLimited,
      l.malformed,
      l.rejectedAsIntended,
      l.errors,
    ],
    [14, 10, 3, 1, 1, 1, 1, 2, 1, 1],
  );
  // Nearest rank over the ten completed ones: p50 is the 5th, p90 the 9th, p99 the 10th; the aborted ones' times are left out.
  assert.deepEqual([l.ttftP50Ms, l.ttftP90Ms, l.ttftP99Ms], [50, 90, 100]);
  assert.deepEqual([l.itlP50Ms, l.itlP90Ms, l.itlP99Ms], [5, 9, 10]);
  assert.deepEqual([l.e2eP50Ms, l.e2eP90Ms, l.e2eP99Ms], [500, 900, 1000]);
  assert.deepEqual([l.queueP50Ms, l.queueP90Ms, l.queueP99Ms], [4, 8, 9]);
  // A server that reports no queue time: no queue percentiles rather than zeros.
  const unknown = summarizeLevel(4, [{ ...done[0], queueMs: undefined }], 1000);
  assert.equal(unknown.queueP50Ms, undefined);
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
