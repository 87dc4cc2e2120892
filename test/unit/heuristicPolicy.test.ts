/** The heuristic draft policy's rule for the draft length. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeuristicPolicy } from "../../src/policies/heuristicPolicy.js";

test("the heuristic policy grows k by 2 after a full block and shrinks it by 1 otherwise", () => {
  const h = new HeuristicPolicy(4);
  h.observe({
    drafted: 4,
    accepted: 4,
    qx: [0.9, 0.9, 0.9, 0.9],
    verifiedTokens: 5,
    passTokens: 5,
    passPrefill: 0,
    draftMs: 0,
    verifyMs: 0,
    emitted: [1, 2, 3, 4, 5],
  });
  assert.equal(h.currentLength, 6);
  h.observe({
    drafted: 6,
    accepted: 2,
    qx: [0.9, 0.9, 0.5, 0.5, 0.5, 0.5],
    verifiedTokens: 7,
    passTokens: 7,
    passPrefill: 0,
    draftMs: 0,
    verifyMs: 0,
    emitted: [1, 2, 3],
  });
  assert.equal(h.currentLength, 5);
});
