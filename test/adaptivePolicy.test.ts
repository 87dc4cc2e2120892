/**
 * The adaptive policy's schedule from measured costs, without any model: synthetic block outcomes stand for
 * a device whose pass cost is flat in its size (a GPU, a target behind network round trips) or steep (a small CPU).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdaptiveMemory } from "../src/verifier/adaptiveMemory.js";
import { AdaptivePolicy } from "../src/verifier/adaptivePolicy.js";

/** A device: drafter ms per drafted token, and a target pass of n tokens in `pass(n)` ms. */
interface Device {
  draftMs: number;
  pass(n: number): number;
}
// Figures of the order measured: H200 with the 7B-shape target (4.4 ms decode, 6.5 ms for 5 tokens, drafter 1.1 ms
// a token in the loop) and this 2-core CPU with the embedded pair (1.4 ms decode, 2.4 decodes for 5 tokens, 0.6 ms).
const GPU: Device = { draftMs: 1.1, pass: (n) => 4.4 + 0.5 * (n - 1) };
const CPU: Device = { draftMs: 0.6, pass: (n) => 1.4 + 0.49 * (n - 1) };

/** Runs `steps` steps in which every drafted token is accepted with probability `rate(step)` (drawn deterministically). */
function run(policy: AdaptivePolicy, device: Device, steps: number, rateAt: number | ((step: number) => number), catchUpMs = 0): number[] {
  const chosen: number[] = [];
  let previous = 1;
  for (let s = 0; s < steps; s++) {
    const k = policy.chooseLength();
    chosen.push(k);
    let accepted = 0;
    const rate = typeof rateAt === "number" ? rateAt : rateAt(s);
    while (accepted < k && ((s * 7 + accepted * 13) % 100) / 100 < rate) accepted++;
    // The first block after a stretch without drafting also pays the drafter's catch-up.
    const draftMs = k * device.draftMs + (k > 0 && previous === 0 ? catchUpMs : 0);
    policy.observe({ drafted: k, accepted, qx: new Array(k).fill(0.9), verifiedTokens: k + 1, passTokens: k + 1, draftMs, verifyMs: device.pass(k + 1) });
    previous = k;
  }
  return chosen;
}

test("where a pass costs about the same for a few tokens as for one, it keeps drafting", () => {
  const chosen = run(new AdaptivePolicy(), GPU, 60, 0.8);
  const late = chosen.slice(20);
  assert.ok(
    late.every((k) => k >= 2),
    `draft lengths ${late.join(",")}`,
  );
});

test("where every extra token costs most of a decode and acceptance is modest, it stops drafting and explores ever more rarely", () => {
  const chosen = run(new AdaptivePolicy(), CPU, 400, 0.5);
  const late = chosen.slice(20);
  const explored = late.map((k, i) => (k > 0 ? i : -1)).filter((i) => i >= 0);
  assert.ok(explored.length < 12, `drafted at ${explored.length} of ${late.length} steps`);
  const gaps = explored.slice(1).map((i, j) => i - explored[j]);
  assert.ok(gaps.at(-1)! > gaps[0], `exploration gaps grow: ${gaps.join(",")}`);
});

test("on a CPU where a 2-token pass costs two decodes, it does not draft single tokens at a loss", () => {
  // Pass costs as measured on this 2-core CPU with the embedded target (ms by pass size 1..5, then 0.8 a token):
  // a decode 2.0, two tokens 4.0. A line fitted through them prices a decode at about 2.7 and a 2-token pass
  // at about 3.8, so one token at acceptance 0.8 looks like (1 + 0.8) / (1.4 + 3.8) = 0.35 tokens/ms against
  // 1 / 2.7 = 0.37 for none: nearly even, and every outlier tips it. On the real curve it is 1.8 / 5.4 = 0.33
  // against 0.5: drafting never pays here (k = 4: 3.36 / 12.6 = 0.27), so only explorations draft.
  const measured = [2.0, 4.0, 5.3, 6.2, 7.0];
  const steep: Device = { draftMs: 1.4, pass: (n) => measured[n - 1] ?? 7.0 + 0.8 * (n - 5) };
  const late = run(new AdaptivePolicy(), steep, 400, 0.8).slice(20);
  const drafted = late.filter((k) => k > 0).length;
  assert.ok(drafted < 12, `drafted at ${drafted} of ${late.length} steps: ${late.join(",")}`);
});

test("a costly catch-up after a stretch without drafting does not keep drafting stopped once it pays again", () => {
  // The drafts are poor for 60 steps (drafting stops), then good. Explorations then pay a 20 ms catch-up; were
  // that priced as drafting cost, resuming would never look worth it.
  const chosen = run(new AdaptivePolicy(), GPU, 400, (step) => (step < 60 ? 0.05 : 0.95), 20);
  assert.ok(chosen.slice(30, 60).filter((k) => k > 0).length < 10, `poor drafts: ${chosen.slice(30, 60).join(",")}`);
  assert.ok(chosen.slice(-100).filter((k) => k >= 2).length > 80, `good drafts again: ${chosen.slice(-100).join(",")}`);
});

test("a policy given the memory of earlier generations starts from what they measured", () => {
  // A first generation on the CPU-like device learns that drafting does not pay (acceptance 0.3) and how
  // rarely to explore; a fresh policy of its own would spend its first steps drafting 4 tokens twice to
  // measure the costs again, one sharing the memory drafts nothing in its first 40 steps.
  const memory = new AdaptiveMemory();
  run(new AdaptivePolicy({ memory }), CPU, 300, 0.3);
  const fresh = run(new AdaptivePolicy(), CPU, 40, 0.3);
  const informed = run(new AdaptivePolicy({ memory }), CPU, 40, 0.3);
  assert.deepEqual(fresh.slice(0, 2), [4, 4], "a fresh policy measures by drafting first");
  assert.ok(
    informed.every((k) => k === 0),
    `draft lengths with memory ${informed.join(",")}`,
  );
});
