/**
 * Losslessness, greedy: for every policy, every draft length k in 1..8 and both
 * drafters, speculative output equals the target's own greedy output token for
 * token on every prompt (50 each), on the n-gram backend and on the GGUF fixtures.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import type { LanguageModel } from "../src/model/session.js";
import { Constraints } from "../src/sampling/constraints.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { fixturePrompts, useFixturePair } from "./helpers/fixtures.js";
import { drafterKinds, speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { DRAFT_LENGTHS, POLICIES } from "./helpers/policies.js";

const PROMPTS = fixturePrompts(50);
const MAX_TOKENS = 40;

/** A repetition penalty and banned n-grams: the constrained target is the one to match. */
function constraintsFor(target: LanguageModel): Constraints {
  const v = target.vocabulary;
  const [a, b, t, e] = [..."abte"].map((ch) => v.tokenize(ch)[0]);
  return new Constraints({ repetitionPenalty: 1.3, bannedNgrams: [[t, e], [a], [b, a]] });
}

/**
 * llama.cpp's logits depend slightly on batch shapes (a 1-token decode against a
 * pass over a block): usually about 3e-6, but up to 2e-3 on some sequences of
 * these random models (measured: the same 65 tokens evaluated in one batch and
 * one at a time). Where the target's top two logits are closer than this, its
 * argmax may legitimately differ between the two, so such runs are counted and
 * reported rather than failed; the last measurement had none. The exact n-gram
 * backend gets no allowance at all.
 */
const LLAMA_NEAR_TIE = 2e-3;

/** The gap between the target's two largest logits after `context`, evaluated afresh. */
async function topTwoGap(target: LanguageModel, context: number[]): Promise<number> {
  const s = await target.createSession();
  const rows = await s.evaluate(context.map((token, i) => ({ token, position: i, sequences: [0], logits: i === context.length - 1 })));
  const sorted = [...rows.row(0)].sort((x, y) => y - x);
  s.dispose();
  return sorted[0] - sorted[1];
}

/** Asserts equal outputs, or a divergence at a near-tie of the target (then returns true). */
async function matchesOrNearTie(target: LanguageModel, prompt: string, got: number[], expected: number[], nearTie: number, what: string): Promise<boolean> {
  if (got.length === expected.length && got.every((t, i) => t === expected[i])) return false;
  let i = 0;
  while (got[i] === expected[i]) i++;
  const gap = await topTwoGap(target, [...target.vocabulary.tokenize(prompt, true), ...expected.slice(0, i)]);
  assert.ok(gap < nearTie, `${what}: output differs at token ${i} where the target's top-2 logit gap is ${gap} (not a near-tie)`);
  return true;
}

/** Checks every drafter, policy and k on every prompt; returns how many runs differed only after a near-tie. */
async function checkLossless(
  target: LanguageModel,
  draft: LanguageModel,
  extra: { constraints?: Constraints; shadow?: boolean; stop?: string[] } = {},
  lengths = DRAFT_LENGTHS,
  prompts = PROMPTS,
  nearTie = 0,
): Promise<number> {
  let nearTies = 0;
  const options = { maxTokens: MAX_TOKENS, sampling: GREEDY, ...extra };
  const expected = await Promise.all(prompts.map((p) => targetOnlyTokens(target, p, options)));
  assert.ok(expected.every((e) => e.length > 0));
  for (const [drafterName, makeDrafter] of Object.entries(drafterKinds(target, draft, options))) {
    const drafter = makeDrafter();
    for (const [policyName, makePolicy] of Object.entries(POLICIES)) {
      for (const k of lengths) {
        for (const [i, prompt] of prompts.entries()) {
          const got = await speculativeTokens(target, drafter, prompt, { ...options, policy: makePolicy(k) });
          const what = `${drafterName} drafter, ${policyName} k=${k}, prompt ${i} ${JSON.stringify(prompt)}`;
          if (await matchesOrNearTie(target, prompt, got, expected[i], nearTie, what)) nearTies++;
        }
      }
    }
    drafter.dispose();
  }
  return nearTies;
}

test("n-gram backend: speculative greedy equals target-only greedy for every policy, k and drafter", async () => {
  const target = NgramModel.create({ seed: 11, eosBias: -4 });
  await checkLossless(target, target.blend(0.4, 99));
});

test("n-gram backend: the same holds under constraints (repetition penalty, banned n-grams), with stop strings and in shadow mode", async () => {
  const target = NgramModel.create({ seed: 11, eosBias: -4 });
  const constrained = await targetOnlyTokens(target, PROMPTS[0], { maxTokens: MAX_TOKENS, constraints: constraintsFor(target) });
  assert.notDeepEqual(constrained, await targetOnlyTokens(target, PROMPTS[0], { maxTokens: MAX_TOKENS }), "the constraints change the output");
  await checkLossless(target, target.blend(0.4, 99), { constraints: constraintsFor(target) }, [2, 5], PROMPTS.slice(0, 20));
  await checkLossless(target, target.blend(0.4, 99), { shadow: true }, [3, 8], PROMPTS.slice(0, 20));
  // Strings that occur in this model's greedy text (it repeats "wanxke,xg,d ;ki" and the like).
  const stop = ["ke,", "d ;"];
  const cut = await Promise.all(
    PROMPTS.slice(0, 20).map(async (p) => (await targetOnlyTokens(target, p, { maxTokens: MAX_TOKENS, stop })).length < MAX_TOKENS),
  );
  assert.ok(cut.filter(Boolean).length >= 5, "the stop strings end several of these generations early");
  await checkLossless(target, target.blend(0.4, 99), { stop }, [4, 8], PROMPTS.slice(0, 20));
});

describe("GGUF fixtures", () => {
  const pair = useFixturePair();
  test("speculative greedy equals target-only greedy for every policy, k and drafter (near-ties reported)", async (t) => {
    const runs = 2 * Object.keys(POLICIES).length * DRAFT_LENGTHS.length * PROMPTS.length;
    const nearTies = await checkLossless(pair.target, pair.draft, {}, DRAFT_LENGTHS, PROMPTS, LLAMA_NEAR_TIE);
    t.diagnostic(`${runs - nearTies}/${runs} identical; ${nearTies} differ only after a near-tie (top-2 logit gap < ${LLAMA_NEAR_TIE})`);
    assert.ok(nearTies <= runs / 100, "near-ties stay rare");
  });
  test("the same holds under constraints and in shadow mode", async () => {
    await checkLossless(pair.target, pair.draft, { constraints: constraintsFor(pair.target) }, [2, 5], PROMPTS.slice(0, 20), LLAMA_NEAR_TIE);
    await checkLossless(pair.target, pair.draft, { shadow: true }, [3, 8], PROMPTS.slice(0, 20), LLAMA_NEAR_TIE);
  });
});
