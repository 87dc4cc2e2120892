/**
 * Sampling by the coupled rule (sampling/coupledDraw.ts): every token is the target's Gumbel-max draw with noise
 * keyed by (seed, position), and a drafted token is accepted when it equals that draw. So
 * - the first 3 tokens of 20,000 seeded runs follow the target's exact distribution (chi-square, p > 0.01), with a
 *   model drafter, suffix drafting and trees; a broken rule that trusts the drafter fails the same test. (With the
 *   same seeds, every drafter and policy gives the same counts and the same statistic: the text is the seed's.)
 * - with a seed, the text is target-only's text with that seed, under every policy, drafter, k and setting, alone
 *   and 8 requests at once through the scheduler (n-gram models, and the GGUF fixtures through llama.cpp, where
 *   the backend draws natively and runs several tokens in one call).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { SpeculativeScheduler } from "../src/decoding/scheduler.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import type { Drafter } from "../src/drafters/drafter.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { SuffixDrafter } from "../src/drafters/suffixDrafter.js";
import type { LanguageModel } from "../src/model/session.js";
import { ChainPolicy } from "../src/policies/chainPolicy.js";
import type { DraftPolicy } from "../src/policies/draftPolicy.js";
import { TreePolicy } from "../src/policies/treePolicy.js";
import { Constraints } from "../src/sampling/constraints.js";
import { type RandomSamplingSettings, samplingFrom } from "../src/sampling/samplingSettings.js";
import { SharedModel } from "../src/slots/sharedModel.js";
import type { MatchAcceptanceRule } from "../src/verification/greedyAcceptance.js";
import { chiSquareTest } from "./helpers/chiSquare.js";
import { fixturePrompts, loadFixturePair } from "./helpers/fixtures.js";
import { drafterKinds, speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { POLICIES } from "./helpers/policies.js";
import * as fixture from "./helpers/samplingFixture.js";
import { drain } from "./helpers/scheduler.js";

const coupled = (o: { temperature: number; topK?: number; topP?: number; seed?: number }) => samplingFrom({ ...o, rule: "coupled" }) as RandomSamplingSettings;

/** Counts of the first tokens of RUNS seeded runs on the chi-square fixture. */
async function observed(s: RandomSamplingSettings, drafterFor: (s: RandomSamplingSettings) => Drafter, policy: () => DraftPolicy, rule?: MatchAcceptanceRule) {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < fixture.RUNS; seed++) {
    const sampling = { ...s, seed };
    const tokens: number[] = [];
    const options = { maxTokens: fixture.LENGTH, sampling, policy: policy(), matchAcceptance: rule };
    for await (const step of generateSpeculative(fixture.target, drafterFor(sampling), fixture.PROMPT, options)) tokens.push(...step.tokens);
    counts.set(tokens.join(","), (counts.get(tokens.join(",")) ?? 0) + 1);
  }
  return chiSquareTest(counts, fixture.exactDistribution(s), fixture.RUNS);
}

const modelDrafter = (s: RandomSamplingSettings) => new ModelDrafter(fixture.draftModel, s);
const suffixDrafter = () => new SuffixDrafter(fixture.draftModel.vocabulary.size, { minMatch: 1 });
const CHI_SQUARE_CASES: [string, RandomSamplingSettings, (s: RandomSamplingSettings) => Drafter, () => DraftPolicy][] = [
  ["model drafter, chain k 3, temperature 1.0", coupled({ temperature: 1 }), modelDrafter, () => new ChainPolicy(3)],
  ["model drafter, chain k 3, temperature 0.7, top-k 4, top-p 0.9", coupled({ temperature: 0.7, topK: 4, topP: 0.9 }), modelDrafter, () => new ChainPolicy(3)],
  ["suffix drafting alone, temperature 1.0", coupled({ temperature: 1 }), suffixDrafter, () => new ChainPolicy(3)],
  [
    "model drafter, trees of 2 alternatives a depth",
    coupled({ temperature: 1 }),
    modelDrafter,
    () => new TreePolicy({ k: 3, budget: 6, width: 2, branchBelow: 1.01 }),
  ],
];

for (const [name, settings, drafterFor, policy] of CHI_SQUARE_CASES) {
  test(`coupled sampling follows the target distribution: ${name}`, async (t) => {
    const r = await observed(settings, drafterFor, policy);
    t.diagnostic(`chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toFixed(4)}`);
    assert.ok(r.dof >= 10, `enough cells for a meaningful test (dof ${r.dof})`);
    assert.ok(r.pValue > 0.01, `chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
  });
}

// Accepting every drafted token emits the drafter's draws, which follow q (60% another model), not p.
test("a broken match rule (accept every drafted token) fails the same test", async (t) => {
  const trusting: MatchAcceptanceRule = (draft, choice) => ({ accepted: draft.length, bonus: choice(draft.length) });
  const r = await observed(coupled({ temperature: 1 }), modelDrafter, () => new ChainPolicy(3), trusting);
  t.diagnostic(`broken rule: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
  assert.ok(r.pValue < 0.01, `the broken rule must be detected: chi-square ${r.statistic.toFixed(1)} on ${r.dof} dof, p = ${r.pValue}`);
});

/** Sampled settings the identity suites run: plain, truncated, and with a repetition penalty (rows in JavaScript). */
const IDENTITY_SETTINGS: [string, (seed: number) => RandomSamplingSettings, Constraints | undefined][] = [
  ["temperature 0.8", (seed) => coupled({ temperature: 0.8, seed }), undefined],
  ["temperature 1.0, top-k 8, top-p 0.9", (seed) => coupled({ temperature: 1, topK: 8, topP: 0.9, seed }), undefined],
  ["temperature 0.8, repetition penalty 1.2", (seed) => coupled({ temperature: 0.8, seed }), new Constraints({ repetitionPenalty: 1.2 })],
];

/** Every policy at k 2 and 6 with every drafter kind: each run's text equals target-only's with the same seed. */
async function checkIdentity(target: LanguageModel, draft: LanguageModel, prompts: string[], maxTokens: number) {
  let drafted = 0;
  for (const [name, settingsFor, constraints] of IDENTITY_SETTINGS) {
    for (const [i, prompt] of prompts.entries()) {
      const sampling = settingsFor(100 + i);
      const options = { maxTokens, sampling, constraints };
      const expected = await targetOnlyTokens(target, prompt, options);
      for (const [kind, make] of Object.entries(drafterKinds(target, draft, options)))
        for (const [policy, makePolicy] of Object.entries(POLICIES))
          for (const k of [2, 6]) {
            const drafter = make();
            const got = await speculativeTokens(target, drafter, prompt, { ...options, policy: makePolicy(k) });
            drafted += drafter.calls;
            drafter.dispose();
            assert.deepEqual(got, expected, `${name}, ${kind} drafter, ${policy} k ${k}, prompt ${i}`);
          }
    }
  }
  assert.ok(drafted > 0, "the drafters drafted");
}

test("n-gram: with a seed, every policy, drafter and k gives target-only's text", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -6 });
  await checkIdentity(target, target.blend(0.3, 8), ["the cat sat", "abc abc abc"], 24);
});

let pair: { target: LlamaCppModel; draft: LlamaCppModel };
before(async () => {
  pair = await loadFixturePair();
});
after(() => {
  pair.target.dispose();
  pair.draft.dispose();
});

test("GGUF fixtures (llama.cpp): with a seed, every policy, drafter and k gives target-only's text", async () => {
  await checkIdentity(pair.target, pair.draft, fixturePrompts(2, 21), 24);
});

test("GGUF fixtures: 8 sampled requests at once through the scheduler, mixed policies, each give their target-only text", async () => {
  const prompts = fixturePrompts(8, 31);
  const samplingOf = (i: number) => coupled({ temperature: 0.8, seed: 7 + i });
  const expected = await Promise.all(prompts.map((p, i) => targetOnlyTokens(pair.target, p, { maxTokens: 32, sampling: samplingOf(i) })));
  const drafts = new SharedModel(pair.draft, { slots: 8, sequencesPerSlot: 1, pinCells: false, rowSummary: "top", batchInvariant: false });
  // The tree policy asks for 6 alternatives: 7 sequences a slot.
  const scheduler = new SpeculativeScheduler(pair.target, { slots: 8, sequencesPerSlot: 7 });
  const names = Object.keys(POLICIES);
  const streams = prompts.map((prompt, i) =>
    scheduler.submit({
      prompt,
      maxTokens: 32,
      sampling: samplingOf(i),
      policy: POLICIES[names[i % names.length]](2 + (i % 4)),
      drafter: new ModelDrafter(drafts, samplingOf(i), { shared: true }),
      releaseDrafter: true,
    }),
  );
  const results = await drain(streams);
  for (const [i, r] of results.entries()) assert.deepEqual(r.tokens, expected[i], `request ${i} (${names[i % names.length]})`);
  assert.ok(scheduler.stats.requestSteps / scheduler.stats.steps > 2, "steps carried several requests' blocks");
  await scheduler.close();
  drafts.dispose();
});
