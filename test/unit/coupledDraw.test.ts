/** The coupled draw (sampling/coupledDraw.ts) alone: exact marginals, keyed noise, and the coupling it gives a drafter. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { coupledDraw } from "../../src/sampling/coupledDraw.js";
import { chiSquareTest } from "../helpers/chiSquare.js";

// p over 5 tokens, one of them impossible: a hand-checkable target.
const P = [0.5, 0.25, 0, 0.15, 0.1];
const DRAWS = 40_000;

function counts(draw: (key: number) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (let key = 0; key < DRAWS; key++) out.set(String(draw(key)), (out.get(String(draw(key))) ?? 0) + 1);
  return out;
}

const exact = new Map(P.flatMap((p, t) => (p > 0 ? [[String(t), p] as [string, number]] : [])));

test("over seeds, and over positions, the draws follow p (chi-square, p > 0.01); the zero-mass token never comes", () => {
  for (const [name, draw] of [
    ["seeds", (key: number) => coupledDraw(P, key, 7)],
    ["positions", (key: number) => coupledDraw(P, 3, key)],
  ] as const) {
    const observed = counts(draw);
    assert.equal(observed.get("2"), undefined, `${name}: token 2 has no mass`);
    const r = chiSquareTest(observed, exact, DRAWS);
    assert.ok(r.pValue > 0.01, `${name}: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
  }
});

test("a draw depends on the key alone: the same (seed, position) gives the same token, a one-hot p its token", () => {
  for (let key = 0; key < 100; key++) assert.equal(coupledDraw(P, key, 11), coupledDraw(Float64Array.from(P), key, 11));
  for (let key = 0; key < 100; key++) assert.equal(coupledDraw([0, 0, 1, 0], key, key), 2);
  // Seeds are 32-bit words: 5 and 5 + 2^32 are one seed.
  for (let position = 0; position < 100; position++) assert.equal(coupledDraw(P, 5, position), coupledDraw(P, 5 + 2 ** 32, position));
});

test("a drafter drawing from q with the target's noise proposes the target's draw often: more than independent draws would", () => {
  // q moves 0.1 of p's mass from token 0 to token 4: total variation 0.1, so rejection sampling would accept 0.9.
  const Q = [0.4, 0.25, 0, 0.15, 0.2];
  let same = 0;
  for (let key = 0; key < DRAWS; key++) if (coupledDraw(P, key, 0) === coupledDraw(Q, key, 0)) same++;
  // Independent draws would agree with probability sum p*q = 0.2 + 0.0625 + 0.0225 + 0.02 = 0.305; Gumbel-max
  // coupling agrees at least (1 - TV) / (1 + TV) = 0.818 of the time.
  assert.ok(same / DRAWS > 0.8, `agreement ${same / DRAWS}`);
});
