/**
 * Losslessness of tree acceptance when sampling: trees with 2 alternatives at
 * every depth (3 children per chain node) over 20,000 seeded runs follow the
 * target's exact distribution of the first 3 tokens (chi-square, p > 0.01);
 * a broken rule that tests alternatives against p instead of the residual fails.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { TreePolicy } from "../src/policies/treePolicy.js";
import { sampleFrom } from "../src/sampling/distribution.js";
import { type RandomSamplingSettings, samplingFrom } from "../src/sampling/samplingSettings.js";
import { acceptsToken, residual, withoutMass } from "../src/verification/speculativeSampling.js";
import type { SampledTreeRule } from "../src/verification/treeAcceptance.js";
import { chiSquareTest } from "./helpers/chiSquare.js";
import { draftModel, exactDistribution, PROMPT, RUNS, target } from "./helpers/samplingFixture.js";

async function observed(s: RandomSamplingSettings, rule?: SampledTreeRule): Promise<{ counts: Map<string, number>; siblingWins: number }> {
  const counts = new Map<string, number>();
  let siblingWins = 0;
  for (let seed = 0; seed < RUNS; seed++) {
    const sampling = { ...s, seed };
    const policy = new TreePolicy({ k: 2, budget: 4, width: 2, branchBelow: 1.01 });
    const tokens: number[] = [];
    for await (const step of generateSpeculative(target, new ModelDrafter(draftModel, sampling), PROMPT, {
      maxTokens: 3,
      sampling,
      policy,
      sampledTreeAcceptance: rule,
    })) {
      tokens.push(...step.tokens);
      assert.equal(step.branches, step.drafted * 2, "two alternatives at every depth");
      if (step.branchAccepted) siblingWins++;
    }
    counts.set(tokens.join(","), (counts.get(tokens.join(",")) ?? 0) + 1);
  }
  return { counts, siblingWins };
}

/** Wrong on purpose: alternatives are tested against p itself, not against the residual left by the rejected chain token. */
const brokenRule: SampledTreeRule = (block, layout, p, rng) => {
  for (let d = 0; d < block.tokens.length; d++) {
    const pd = p(layout.parentRow[d]);
    if (acceptsToken(block.tokens[d], pd, block.q[d], rng)) continue;
    let r = pd;
    for (const [j, s] of (block.siblings ?? []).entries()) {
      if (s.depth !== d) continue;
      if (rng.next() < r[s.token]) return { accepted: d + 1, bonus: sampleFrom(p(layout.siblingRow[j]), rng), sibling: j };
      r = withoutMass(r, s.token);
    }
    return { accepted: d, bonus: sampleFrom(residual(pd, block.q[d]), rng) };
  }
  return { accepted: block.tokens.length, bonus: sampleFrom(p(layout.parentRow[block.tokens.length]), rng) };
};

for (const [name, settings] of Object.entries({
  "temperature 1.0": samplingFrom({ temperature: 1, rule: "rejection" }) as RandomSamplingSettings,
  "temperature 0.7, top-k 4": samplingFrom({ temperature: 0.7, topK: 4, rule: "rejection" }) as RandomSamplingSettings,
})) {
  test(`tree speculative sampling follows the target distribution: ${name}`, async (t) => {
    const { counts, siblingWins } = await observed(settings);
    assert.ok(siblingWins > RUNS / 20, `alternatives won in ${siblingWins} steps: the tree paths are exercised`);
    const r = chiSquareTest(counts, exactDistribution(settings), RUNS);
    t.diagnostic(`alternatives won ${siblingWins} times`);
    t.diagnostic(`chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
    assert.ok(r.dof >= 10 && r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
  });
}

test("a broken tree rule (alternatives tested against p, not the residual) fails the same test", async (t) => {
  const settings = samplingFrom({ temperature: 1, rule: "rejection" }) as RandomSamplingSettings;
  const r = chiSquareTest((await observed(settings, brokenRule)).counts, exactDistribution(settings), RUNS);
  t.diagnostic(`broken tree rule: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
  assert.ok(r.pValue < 0.01);
});
