/** Synthetic devices and block outcomes for the adaptive policy's tests, without any model. */
import type { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";

/** A device: drafter ms per drafted token (or by step), and a target pass of n tokens at a step in `pass(n, step)` ms. */
export interface Device {
  draftMs: number | ((step: number) => number);
  pass(n: number, step: number): number;
}
// Figures of the order measured: H200 with the 7B-shape target (4.4 ms decode, 6.5 ms for 5 tokens, drafter 1.1 ms
// a token in the loop) and this 2-core CPU with the embedded pair (1.4 ms decode, 2.4 decodes for 5 tokens, 0.6 ms).
export const GPU: Device = { draftMs: 1.1, pass: (n) => 4.4 + 0.5 * (n - 1) };
export const CPU: Device = { draftMs: 0.6, pass: (n) => 1.4 + 0.49 * (n - 1) };

/** Runs `steps` steps in which every drafted token is accepted with probability `rate(step)` (drawn deterministically); the draft lengths chosen. */
export function run(policy: AdaptivePolicy, device: Device, steps: number, rateAt: number | ((step: number) => number), catchUpMs = 0): number[] {
  const chosen: number[] = [];
  let previous = 1;
  for (let s = 0; s < steps; s++) {
    const k = policy.chooseLength();
    chosen.push(k);
    let accepted = 0;
    const rate = typeof rateAt === "number" ? rateAt : rateAt(s);
    while (accepted < k && ((s * 7 + accepted * 13) % 100) / 100 < rate) accepted++;
    // The first block after a stretch without drafting also pays the drafter's catch-up.
    const perToken = typeof device.draftMs === "number" ? device.draftMs : device.draftMs(s);
    const draftMs = k * perToken + (k > 0 && previous === 0 ? catchUpMs : 0);
    const emitted = new Array(accepted + 1).fill(0);
    policy.observe({
      drafted: k,
      accepted,
      qx: new Array(k).fill(0.9),
      verifiedTokens: k + 1,
      passTokens: k + 1,
      passPrefill: 0,
      draftMs,
      verifyMs: device.pass(k + 1, s),
      emitted,
    });
    previous = k;
  }
  return chosen;
}
