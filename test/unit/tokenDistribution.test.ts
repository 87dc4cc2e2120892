/**
 * Token distributions from summarised rows, without a model: a dense q's few most likely tokens, and a constrained
 * greedy step that keeps the backend's argmax where it can (the native summaries themselves: test/rowSummary.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogitRows } from "../../src/model/rows.js";
import { Constraints } from "../../src/sampling/constraints.js";
import { argmax } from "../../src/sampling/distribution.js";
import { constrainedArgmax, DenseDistribution, rankByProbability, topByProbability } from "../../src/sampling/tokenDistribution.js";

test("a dense q's few most likely tokens, found in one pass, are the full ranking's first ones, ties to the lower id", () => {
  // Probabilities from 6 levels over 300 tokens, so most have ties; every 7th token has none (it is never listed).
  let s = 7;
  const probs = Float64Array.from({ length: 300 }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return i % 7 === 0 ? 0 : ((s >>> 8) % 6) / 1000;
  });
  const ranked = rankByProbability(probs);
  for (const n of [1, 2, 3, 5, 16, 32, 33, 400]) {
    assert.deepEqual(topByProbability(probs, Math.min(n, 32)), ranked.slice(0, Math.min(n, 32)), `n = ${n}`);
    // Through the distribution, asked in growing and shrinking order (a cached short ranking is extended).
    const q = new DenseDistribution(probs);
    assert.deepEqual(q.top(3), ranked.slice(0, 3));
    assert.deepEqual(q.top(n), ranked.slice(0, n), `top(${n})`);
    assert.deepEqual(q.top(2), ranked.slice(0, 2));
  }
  // Fewer tokens with probability > 0 than asked for: all of them.
  assert.deepEqual(topByProbability(Float64Array.from([0, 0.5, 0, 0.5]), 3), [1, 3]);
});

/** Rows of a 4-token vocabulary whose summary gives the argmax; counts how often a full row is copied. */
function rowsOf(logits: number[]): { rows: LogitRows; copies: () => number } {
  let copies = 0;
  const row = Float32Array.from(logits);
  const rows: LogitRows = {
    count: 1,
    vocabSize: row.length,
    row: () => {
      copies++;
      return row;
    },
    capabilities: {
      summaries: { summary: () => ({ top: [argmax(row)], topLogits: [Math.max(...logits)], logSumExp: Number.NaN, entropy: Number.NaN }) },
      sampling: undefined,
    },
  };
  return { rows, copies: () => copies };
}

test("a constrained greedy step keeps the backend's argmax where the constraints cannot change it, else reads the row", () => {
  // Logits 3, 2.5, -1, 0: token 0 is the argmax. With penalty 1.5, token 0 in the last 2 tokens drops to 2 < 2.5.
  const penalty = new Constraints({ repetitionPenalty: 1.5, repetitionWindow: 2 });
  const cases: { context: number[]; c: Constraints; want: number; copied: boolean }[] = [
    { context: [1, 2], c: penalty, want: 0, copied: false }, // 0 not recent: others only drop, 0 stays best
    { context: [0, 2], c: penalty, want: 1, copied: true }, // 0 recent: 3 / 1.5 = 2 < 2.5
    { context: [0, 2, 3], c: penalty, want: 0, copied: false }, // 0 left the window of 2
    { context: [2], c: new Constraints({ bannedNgrams: [[2, 0]] }), want: 1, copied: true }, // 2 then 0 is banned
    { context: [1], c: new Constraints({ repetitionPenalty: 0.5 }), want: 1, copied: true }, // < 1 raises 1 to 5
  ];
  for (const { context, c, want, copied } of cases) {
    const { rows, copies } = rowsOf([3, 2.5, -1, 0]);
    assert.equal(constrainedArgmax(rows, 0, context, c), want, `context ${context}`);
    assert.equal(argmax(c.apply(Float32Array.from([3, 2.5, -1, 0]), context)), want);
    assert.equal(copies() > 0, copied, `context ${context}: row copied`);
  }
});
