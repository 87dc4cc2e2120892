/**
 * A drafter's q over the vocabulary it shares with its target, on hand-made rows: renormalised over the shared
 * range (a larger drafter), padded with zeros (a smaller one), its argmax the shared range's, and speculative
 * sampling with it still emitting exactly p (computed in closed form, not sampled).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { argmax, softmax } from "../../src/sampling/distribution.js";
import { onTargetVocabulary, sharedLogits } from "../../src/sampling/sharedVocabulary.js";
import { Random } from "../../src/util/random.js";
import { acceptsToken, residual } from "../../src/verification/speculativeSampling.js";

/** P(emitted = x) for one drafted token drawn from q then judged against p: q(x) min(1, p(x)/q(x)) + P(reject) r(x). */
function emitted(p: Float64Array, q: Float64Array): Float64Array {
  let accepted = 0;
  for (let x = 0; x < p.length; x++) accepted += Math.min(q[x], p[x]);
  const r = residual(p, q);
  return p.map((_, x) => Math.min(q[x], p[x]) + (1 - accepted) * r[x]);
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-12);

test("a drafter with more tokens than the target: q is its softmax over the shared range, the padding never drafted", () => {
  // Five drafter tokens, three target tokens; the padding tokens 3 and 4 have the largest logits.
  const row = Float32Array.from([1, 2, 0.5, 9, 8]);
  const o = { drafter: 5, target: 3 };
  const q = onTargetVocabulary(softmax(sharedLogits(row, o)), o);
  // softmax([1, 2, 0.5]): e / (e + e^2 + e^0.5) and so on; the padding's mass is gone, not moved.
  const z = Math.E + Math.E ** 2 + Math.E ** 0.5;
  assert.ok(close(q, [Math.E / z, Math.E ** 2 / z, Math.E ** 0.5 / z]));
  // The shared range's argmax is token 1, where the whole row's is the padding token 3.
  assert.equal(argmax(sharedLogits(row, o)), 1);
  assert.equal(argmax(row), 3);
  // Speculative sampling with this q emits exactly p, whatever p is.
  const p = Float64Array.from([0.6, 0.1, 0.3]);
  assert.ok(close(emitted(p, q), p));
});

test("a drafter with fewer tokens than the target: q is padded with zeros to the target's size", () => {
  const o = { drafter: 2, target: 4 };
  const q = onTargetVocabulary(softmax([0, Math.log(3)]), o);
  // softmax([0, ln 3]) = [1/4, 3/4]; the target's tokens 2 and 3 are unknown to the drafter: q = 0 there.
  assert.ok(close(q, [0.25, 0.75, 0, 0]));
  const p = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
  assert.ok(close(emitted(p, q), p));
  // Tokens the drafter lacks come only from the residual: with p = q they never come at all.
  assert.ok(close(emitted(q, q), q));
});

test("a q left over the drafter's whole vocabulary is refused, not silently misread", () => {
  const p = Float64Array.from([0.5, 0.5, 0]);
  const whole = softmax(Float32Array.from([1, 2, 0.5, 9]));
  assert.throws(() => acceptsToken(0, p, whole, new Random(1)), /q covers 4 tokens, p 3/);
  // Renormalising is the caller's job: a q longer than the target's vocabulary cannot be stated over it.
  assert.throws(() => onTargetVocabulary(whole, { drafter: 4, target: 3 }), /taken over the 3 shared/);
});
