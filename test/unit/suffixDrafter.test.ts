/**
 * The suffix drafter (loops drafted round, a shared corpus of earlier generations) and how the adaptive policy
 * sizes a free source's block from its whole proposal: long where its tokens are likely and passes are cheap, none
 * where they are unlikely, whichever free source promises most.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { generateSpeculative } from "../../src/decoding/speculativeLoop.js";
import { type DraftCandidates, type DraftSource, PLAIN_DRAFTER } from "../../src/drafters/drafter.js";
import { createDrafter } from "../../src/drafters/drafterRegistry.js";
import { SuffixCorpus } from "../../src/drafters/suffixCorpus.js";
import { SuffixDrafter } from "../../src/drafters/suffixDrafter.js";
import { collectGeneration } from "../../src/metrics/generationMetrics.js";
import { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";
import { ChainPolicy } from "../../src/policies/chainPolicy.js";
import { NO_CONSTRAINTS } from "../../src/sampling/constraints.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";
import { SparseDistribution } from "../../src/sampling/tokenDistribution.js";
import { GPU } from "../helpers/adaptiveRun.js";

test("a loop in the context is drafted round and round, more confidently as the match grows", async () => {
  const d = new SuffixDrafter(100, { minMatch: 2 });
  // "5 6 7" three times: the context's last 6 tokens ended earlier too (at the first 7 of the second round).
  await d.start([1, 5, 6, 7, 5, 6, 7, 5, 6, 7]);
  const run = await d.nextRun(10);
  assert.deepEqual(
    run.map((t) => t.token),
    [5, 6, 7, 5, 6, 7, 5, 6, 7, 5],
  );
  assert.ok(run.every((t) => t.drawn === "argmax"));
  // A match of 6 tokens: confidence 6/7 for the first (and the 1/7 left spread over the 100 tokens), growing along
  // the walk (the suffix grows with each token).
  assert.ok(Math.abs(run[0].q.prob(5) - (6 / 7 + 1 / 7 / 100)) < 1e-9);
  assert.ok(run[1].q.prob(6) > run[0].q.prob(5));
  // Two kept, then the target's 9 instead of 7: the next block continues from "... 5 6 9", which never occurred.
  d.commit(2, [9]);
  assert.equal(d.hasMatch(), false);
  assert.deepEqual(await d.nextRun(4), []);
});

test("a corpus of earlier generations drafts a repeated answer from its start, and a generation joins it when disposed", async () => {
  const corpus = new SuffixCorpus(1000);
  const first = new SuffixDrafter(100, { minMatch: 3, corpus });
  await first.start([10, 11, 12, 13]);
  first.commit(0, [20, 21, 22, 23, 24]);
  assert.equal(first.hasMatch(), false, "nothing repeats within the first generation");
  first.dispose();
  assert.equal(corpus.size, 1);
  // The same prompt again: the corpus holds it with what followed.
  const second = new SuffixDrafter(100, { minMatch: 3, corpus });
  await second.start([10, 11, 12, 13]);
  assert.deepEqual(
    (await second.nextRun(6)).map((t) => t.token),
    [20, 21, 22, 23, 24],
    "the walk stops at the end of the earlier generation (its separator)",
  );
});

test("greedy generations sharing a corpus: the repeated one is drafted from the start and still equals the target alone", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -8 });
  const corpus = new SuffixCorpus(10_000);
  const prompt = "the quick brown fox";
  const run = async () => {
    const drafter = createDrafter({ free: ["suffix"] }, target, { sampling: GREEDY, freeMinMatch: 2, corpus });
    const r = await collectGeneration(generateSpeculative(target, drafter, prompt, { maxTokens: 40, policy: new ChainPolicy(8) }));
    drafter.dispose();
    return r;
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(b.tokens, a.tokens);
  // 40 tokens in blocks of up to 9 (8 drafted + the bonus): at most 5 passes, where the first run needed many more.
  assert.ok(b.steps.length <= 5 && b.steps.length < a.steps.length, `${a.steps.length} steps, then ${b.steps.length}`);
});

/** A drafter offering a free proposal of n tokens 1 at one confidence (and no model); it drafts what it proposed. */
function proposing(source: DraftSource, confidence: () => number, used: DraftSource[]) {
  return {
    name: "proposing",
    calls: 0,
    capabilities: {
      ...PLAIN_DRAFTER,
      sourceChoice: {
        candidates: (n: number): DraftCandidates => ({
          free: [{ source, tokens: new Array(n).fill(1), confidence: new Array(n).fill(confidence()) }],
          model: false,
        }),
        useSource: (s: DraftSource) => {
          used.push(s);
        },
      },
    },
    start: async () => {},
    // Its q puts the rest of the mass on 1,000 other tokens, so q(1) is the confidence to within 1e-3.
    next: async () => ({ token: 1, q: new SparseDistribution({ token: 1, prob: confidence() }, confidence(), () => [], 1000), drawn: "argmax" as const }),
    commit: () => {},
    dispose: () => {},
  };
}

test("adaptive sizes a free proposal by its calibrated confidence and the pass cost: long where likely, none where not", async () => {
  const used: DraftSource[] = [];
  let confidence = 0.97;
  const drafter = proposing("suffix", () => confidence, used);
  const policy = new AdaptivePolicy();
  const context = { tokens: [], constraints: NO_CONSTRAINTS, shadow: false };
  // Passes as the H200's 7B-shape target costs them (4.4 ms a decode, 0.5 a token more); every drafted token accepted.
  const step = async (i: number) => {
    const block = await policy.draft(drafter, 64, context);
    const k = block.tokens.length;
    // The target emits token 1 (the proposal's) while it agrees, else token 2.
    const accepted = confidence > 0.5 ? k : 0;
    const emitted = [...new Array(accepted).fill(1), confidence > 0.5 ? 1 : 2];
    const qx = block.q.map((q, j) => q.prob(block.tokens[j]));
    policy.observe({
      drafted: k,
      accepted,
      qx,
      verifiedTokens: k + 1,
      passTokens: k + 1,
      passPrefill: 0,
      draftMs: 0.001 * k,
      verifyMs: GPU.pass(k + 1, i),
      emitted,
    });
    return k;
  };
  const lengths: number[] = [];
  for (let i = 0; i < 40; i++) lengths.push(await step(i));
  // Once the passes are priced, a proposal accepted ~97% of the time is drafted long (a pass of 30 tokens costs
  // about 4 decodes on this device and emits about 20).
  assert.ok(
    lengths.slice(10).every((k) => k >= 16 || k === 0),
    `lengths ${lengths.join(",")}`,
  );
  assert.ok(used.every((s) => s === "suffix"));
  // Tokens the target never accepts: their bucket's estimate falls, and drafting stops.
  confidence = 0.15;
  const late: number[] = [];
  for (let i = 0; i < 60; i++) late.push(await step(40 + i));
  assert.ok(
    late.slice(20).every((k) => k === 0),
    `lengths ${late.join(",")}`,
  );
});
