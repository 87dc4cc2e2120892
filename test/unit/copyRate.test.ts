/** The copy rate on sequences small enough to count by hand. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { copyRate } from "../../src/metrics/copyRate.js";

test("the copy rate counts output tokens whose 4-gram (the token and the 3 before it) occurred earlier", () => {
  // Text 1 2 3 | 4 1 2 3 4 5. The 4-grams ending at the output tokens: 1234, 2341, 3412, 4123, 1234 (seen: it ended at
  // the first 4), 2345. One of six output tokens copies.
  assert.equal(copyRate([1, 2, 3], [4, 1, 2, 3, 4, 5]), 1 / 6);
  // Text 7 8 | 1 2 1 2 1 2 1 2: the first output token has no 4-gram; 7812, 8121, 1212, 2121 are new; then 1212,
  // 2121, 1212 repeat. A loop of period 2: 3 of 8.
  assert.equal(copyRate([7, 8], [1, 2, 1, 2, 1, 2, 1, 2]), 3 / 8);
  // A 4-gram found in the prompt counts too: 5 6 7 8 | 5 6 7 8 copies at its last output token (5678 again).
  assert.equal(copyRate([5, 6, 7, 8], [5, 6, 7, 8]), 1 / 4);
  assert.equal(copyRate([1, 2], []), 0);
});
