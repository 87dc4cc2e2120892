/**
 * Losslessness, sampling by the rejection rule: the first 3 tokens of 20,000 seeded speculative runs
 * follow the target's exact sampling distribution (chi-square, p > 0.01) at
 * temperatures 0.7 and 1.0 and with top-k/top-p on; a broken rule that accepts
 * whenever p(x) >= q(x) fails the same test, so the test has teeth.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { type Drafter, PLAIN_DRAFTER } from "../src/drafters/drafter.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { MultiSourceDrafter } from "../src/drafters/multiSourceDrafter.js";
import { PromptLookupDrafter } from "../src/drafters/promptLookupDrafter.js";
import { SuffixDrafter } from "../src/drafters/suffixDrafter.js";
import { ChainPolicy } from "../src/policies/chainPolicy.js";
import { GREEDY, type RandomSamplingSettings, samplingFrom } from "../src/sampling/samplingSettings.js";
import type { SampledAcceptanceRule } from "../src/verification/speculativeSampling.js";
import { brokenRule } from "./helpers/brokenRule.js";
import { chiSquareTest } from "./helpers/chiSquare.js";
import { draftModel, exactDistribution, LENGTH, PROMPT, RUNS, target } from "./helpers/samplingFixture.js";

/** The drafter of a run: by default one that samples with the run's own settings. */
type DrafterFor = (sampling: RandomSamplingSettings) => Drafter;
const samplingDrafter: DrafterFor = (sampling) => new ModelDrafter(draftModel, sampling);

async function observed(s: RandomSamplingSettings, rule?: SampledAcceptanceRule, drafterFor = samplingDrafter): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < RUNS; seed++) {
    const sampling = { ...s, seed };
    const drafter = drafterFor(sampling);
    const tokens: number[] = [];
    for await (const step of generateSpeculative(target, drafter, PROMPT, { maxTokens: LENGTH, sampling, policy: new ChainPolicy(3), sampledAcceptance: rule }))
      tokens.push(...step.tokens);
    const key = tokens.join(",");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const SETTINGS: Record<string, RandomSamplingSettings> = {
  "temperature 0.7": samplingFrom({ temperature: 0.7, rule: "rejection" }) as RandomSamplingSettings,
  "temperature 1.0": samplingFrom({ temperature: 1, rule: "rejection" }) as RandomSamplingSettings,
  "temperature 1.0, top-k 4, top-p 0.9": samplingFrom({ temperature: 1, topK: 4, topP: 0.9, rule: "rejection" }) as RandomSamplingSettings,
};

for (const [name, settings] of Object.entries(SETTINGS)) {
  test(`speculative sampling follows the target distribution: ${name}`, async (t) => {
    const r = chiSquareTest(await observed(settings), exactDistribution(settings), RUNS);
    t.diagnostic(`chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
    assert.ok(r.dof >= 10, `enough cells for a meaningful test (dof ${r.dof})`);
    assert.ok(r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
  });
}

test("a broken acceptance rule (accept when p >= q) fails the same test", async (t) => {
  const settings = SETTINGS["temperature 1.0"];
  const r = chiSquareTest(await observed(settings, brokenRule), exactDistribution(settings), RUNS);
  t.diagnostic(`broken rule: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
  assert.ok(r.pValue < 0.01, `the broken rule must be detected: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
});

// A greedy drafter under a sampled target: its token is the argmax of q, so as a proposal it is one-hot there.
// With q itself, p = [.5, .5] and q = [.6, .4] would give: token 0 always proposed, accepted with
// min(1, .5/.6) = .83, else the residual max(0, p - q) = [0, .1] gives token 1: token 0 with probability .83,
// not .5. With the one-hot proposal: accepted with p(0) = .5, else the residual [0, .5] gives token 1: exact.
test("a greedy drafter under a sampled target: the output still follows the target distribution", async (t) => {
  const settings = SETTINGS["temperature 1.0"];
  const r = chiSquareTest(await observed(settings, undefined, () => new ModelDrafter(draftModel, GREEDY)), exactDistribution(settings), RUNS);
  t.diagnostic(`greedy drafter: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
  assert.ok(r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
});

// Free sources first (suffix and lookup, any 1-token match): blocks copied from the context (one-hot proposals) and
// blocks the model samples, mixed within runs; both are exact, so the mix is too.
test("free sources first (suffix, prompt lookup), the sampling model otherwise: the output still follows the target distribution", async (t) => {
  const settings = SETTINGS["temperature 1.0"];
  const drafters: MultiSourceDrafter[] = [];
  const freeFirst: DrafterFor = (sampling) => {
    const V = draftModel.vocabulary.size;
    const d = new MultiSourceDrafter([new SuffixDrafter(V, { minMatch: 1 }), new PromptLookupDrafter(V, 3, 1)], new ModelDrafter(draftModel, sampling));
    drafters.push(d);
    return d;
  };
  const r = chiSquareTest(await observed(settings, undefined, freeFirst), exactDistribution(settings), RUNS);
  const freeBlocks = drafters.reduce((n, d) => n + d.blocks.suffix + d.blocks.lookup, 0);
  t.diagnostic(`free sources first: ${freeBlocks} free blocks; chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
  assert.ok(freeBlocks > RUNS / 10, `free sources drafted blocks (${freeBlocks})`);
  assert.ok(r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
});

// Suffix drafting alone (no model): after the first token, the context "abc" + x repeats x where x is a, b or c, and
// the suffix drafter proposes what followed it. One-hot proposals: accepted with probability p(x), else the residual.
test("suffix drafting alone follows the target distribution, and the broken rule fails with it", async (t) => {
  const settings = SETTINGS["temperature 1.0"];
  const suffix: DrafterFor = () => new SuffixDrafter(draftModel.vocabulary.size, { minMatch: 1 });
  const r = chiSquareTest(await observed(settings, undefined, suffix), exactDistribution(settings), RUNS);
  t.diagnostic(`suffix: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
  assert.ok(r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
  // Accepting x only when p(x) >= q(x) = 1 rejects almost every drafted token, and x is then never emitted in its place.
  const broken = chiSquareTest(await observed(settings, brokenRule, suffix), exactDistribution(settings), RUNS);
  t.diagnostic(`suffix, broken rule: chi-square ${broken.statistic.toFixed(1)} on ${broken.dof} dof, p = ${broken.pValue.toExponential(2)}`);
  assert.ok(broken.pValue < 0.01, `the broken rule must be detected: p = ${broken.pValue}`);
});

test("a drafter that calls its argmax choice a draw from q (the mistake the drawn kind prevents) fails the same test", async (t) => {
  const settings = SETTINGS["temperature 1.0"];
  const lying: DrafterFor = () => {
    const inner = new ModelDrafter(draftModel, GREEDY);
    return {
      name: "mislabelled",
      capabilities: PLAIN_DRAFTER,
      get calls() {
        return inner.calls;
      },
      start: (context) => inner.start(context),
      next: async () => {
        const d = await inner.next();
        return d && { ...d, drawn: "sampled" as const };
      },
      commit: (kept, appended) => inner.commit(kept, appended),
      dispose: () => inner.dispose(),
    };
  };
  const r = chiSquareTest(await observed(settings, undefined, lying), exactDistribution(settings), RUNS);
  t.diagnostic(`mislabelled greedy drafter: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
  assert.ok(r.pValue < 0.01, `the bias must be detected: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
});
