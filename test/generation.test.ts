import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { CharacterVocabulary } from "../src/backends/ngram/characterVocabulary.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { checkCompatibleVocabularies, VocabularyMismatchError } from "../src/backends/vocabularyCompatibility.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { draftChain } from "../src/drafts/draftBlock.js";
import { endsGeneration } from "../src/generation/generationEnd.js";
import { OutputTracker } from "../src/generation/outputTracker.js";
import { CONTEXT_HEADROOM, contextFor, PromptError } from "../src/generation/prompt.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import { argmax } from "../src/sampling/distribution.js";
import { GREEDY, samplingFrom } from "../src/sampling/samplingSettings.js";
import { PointDistribution } from "../src/sampling/tokenDistribution.js";
import { ChainPolicy } from "../src/verifier/chainPolicy.js";
import { HeuristicPolicy } from "../src/verifier/heuristicPolicy.js";
import { fixtureDir, fixturePair, TINY } from "./helpers/fixtures.js";

const model = NgramModel.create({ seed: 21, eosBias: -8 });

test("the n-gram model's logits depend on exactly the last order-1 tokens and the seed", () => {
  const v = model.vocabulary;
  // Order 3: only the last two tokens matter, so "xxab" and "ab" give identical logits.
  assert.deepEqual(model.logitsAfter(v.tokenize("zzab")), model.logitsAfter(v.tokenize("ab")));
  assert.notDeepEqual(model.logitsAfter(v.tokenize("ab")), model.logitsAfter(v.tokenize("ba")));
  assert.notDeepEqual(NgramModel.create({ seed: 22 }).logitsAfter(v.tokenize("ab")), model.logitsAfter(v.tokenize("ab")));
});

test("greedy target-only output follows the argmax chain by hand", async () => {
  const run = await collectGeneration(generateTargetOnly(model, "the", { maxTokens: 5 }));
  const context = model.vocabulary.tokenize("the");
  const expected: number[] = [];
  for (let i = 0; i < 5; i++) {
    const next = argmax(model.logitsAfter([...context, ...expected]));
    if (next === model.vocabulary.eos) break;
    expected.push(next);
  }
  assert.deepEqual(run.tokens, expected);
  assert.equal(run.steps.at(-1)!.finish, expected.length === 5 ? "max-tokens" : "eos");
});

test("seeded sampling repeats exactly, and different seeds differ", async () => {
  const gen = (seed: number) => collectGeneration(generateTargetOnly(model, "a", { maxTokens: 30, sampling: samplingFrom({ temperature: 1, seed }) }));
  assert.deepEqual((await gen(1)).tokens, (await gen(1)).tokens);
  assert.notDeepEqual((await gen(1)).tokens, (await gen(2)).tokens);
});

test("stop strings end generation and are not emitted; text held back is released when ruled out", () => {
  const v = new CharacterVocabulary();
  const tracker = new OutputTracker(v, 100, ["cat"]);
  assert.equal(tracker.push(v.tokenize("a c")).text, "a "); // "c" might start "cat": held back
  assert.equal(tracker.push(v.tokenize("o")).text, "co"); // "co" is not a prefix of "cat": released
  const end = tracker.push(v.tokenize("ncat!".replace("!", "")));
  assert.equal(end.text, "n");
  assert.equal(end.finish, "stop");
});

test("generation stops at max tokens, at EOS, and on abort", async () => {
  const v = model.vocabulary;
  const tracker = new OutputTracker(v, 3);
  assert.deepEqual(tracker.push(v.tokenize("abcd")).tokens, v.tokenize("abc"));
  assert.equal(tracker.finish, "max-tokens");
  const eos = new OutputTracker(v, 10);
  const out = eos.push([...v.tokenize("ab"), v.eos, ...v.tokenize("c")]);
  assert.deepEqual([out.tokens, out.finish], [v.tokenize("ab"), "eos"]);
  const abort = new AbortController();
  abort.abort();
  const run = await collectGeneration(generateSpeculative(model, new ModelDrafter(model.blend(0.3, 2), GREEDY), "ab", { signal: abort.signal, maxTokens: 50 }));
  assert.equal(run.steps.length, 1);
  assert.equal(run.steps[0].finish, "aborted");
});

test("a prompt longer than the context is refused with a clear error", async () => {
  const long = "ab".repeat(600);
  await assert.rejects(
    collectGeneration(generateTargetOnly(model, long, { contextSize: 1000 })),
    (e: Error) => e instanceof PromptError && /1200 tokens but the context holds 1000/.test(e.message),
  );
  await assert.rejects(
    collectGeneration(generateSpeculative(model, new ModelDrafter(model, GREEDY), long, { contextSize: 1000 })),
    (e: Error) => e instanceof PromptError,
  );
});

test("generate's context is sized to the prompt and the tokens asked for, in steps of 256, within the limit", () => {
  // 20 + 128 + 128 headroom = 276 cells: the next multiple of 256 is 512.
  assert.equal(contextFor(20, 128, 4096), 512);
  // 10 + 100 + 128 = 238: one step of 256 holds it.
  assert.equal(contextFor(10, 100, 4096), 256);
  // Exactly 512 needed: no extra step.
  assert.equal(contextFor(512 - 128 - 100, 100, 4096), 512);
  // More than the limit: the limit (a prompt that does not fit is then refused as before).
  assert.equal(contextFor(3000, 2000, 4096), 4096);
  assert.equal(CONTEXT_HEADROOM, 128);
});

test("invalid options are refused", () => {
  assert.throws(() => samplingFrom({ temperature: -1 }), /temperature must be >= 0/);
  assert.throws(() => samplingFrom({ topP: 0 }), /top-p must be in/);
  assert.throws(() => new ChainPolicy(0), /draft length k/);
  assert.throws(() => new OutputTracker(model.vocabulary, 0), /max tokens/);
});

test("the heuristic policy grows k by 2 after a full block and shrinks it by 1 otherwise", () => {
  const h = new HeuristicPolicy(4);
  h.observe({
    drafted: 4,
    accepted: 4,
    qx: [0.9, 0.9, 0.9, 0.9],
    verifiedTokens: 5,
    passTokens: 5,
    passPrefill: 0,
    draftMs: 0,
    verifyMs: 0,
    emitted: [1, 2, 3, 4, 5],
  });
  assert.equal(h.currentLength, 6);
  h.observe({
    drafted: 6,
    accepted: 2,
    qx: [0.9, 0.9, 0.5, 0.5, 0.5, 0.5],
    verifiedTokens: 7,
    passTokens: 7,
    passPrefill: 0,
    draftMs: 0,
    verifyMs: 0,
    emitted: [1, 2, 3],
  });
  assert.equal(h.currentLength, 5);
});

test("drafter and target with different vocabularies are refused, saying what differs", async () => {
  const other = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("abc") });
  assert.throws(
    () => checkCompatibleVocabularies(model.vocabulary, other.vocabulary),
    (e: Error) => e instanceof VocabularyMismatchError && /4 tokens, the target's 32/.test(e.message),
  );
  const swapped = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("bacdefghijklmnopqrstuvwxyz .,;\n") });
  assert.throws(() => checkCompatibleVocabularies(model.vocabulary, swapped.vocabulary), /differs from the target's in 2 token texts \(0: "a" vs "b"/);
  // GGUF: same sizes, vocabularies from other seeds.
  fixturePair();
  const otherFile = path.join(fixtureDir, "other-vocab.gguf");
  writeRandomLlamaPair({ ...TINY, seed: TINY.seed + 100 }, otherFile);
  const [a, b] = [await LlamaCppModel.load(fixturePair().target, { threads: 1 }), await LlamaCppModel.load(otherFile, { threads: 1 })];
  assert.throws(() => checkCompatibleVocabularies(a.vocabulary, b.vocabulary), /token texts/);
  a.dispose();
  b.dispose();
});

test("drafting stops after a token with which generation would end (EOS, or a completed stop string)", async () => {
  const v = new CharacterVocabulary();
  const [a, b, space] = v.tokenize("ab ");
  // Context "xb"; stop "b a": drafting " " does not complete it, drafting "a" after it does.
  const context = v.tokenize("xb");
  assert.equal(endsGeneration(v, ["b a"], context, [space]), false);
  assert.equal(endsGeneration(v, ["b a"], context, [space, a]), true);
  assert.equal(endsGeneration(v, [], context, [b, v.eos]), true);
  // A drafter that would propose a, EOS, b, b: the chain ends at EOS, and the drafter is asked twice only.
  const proposals = [a, v.eos, b, b];
  let asked = 0;
  const drafter = {
    name: "fixed",
    calls: 0,
    start: async () => {},
    next: async () => {
      const token = proposals[asked++];
      return { token, q: new PointDistribution(token, v.size), drawn: "argmax" as const };
    },
    commit: () => {},
    dispose: () => {},
  };
  const block = await draftChain(drafter, 4, { endsGeneration: (d) => endsGeneration(v, [], context, d) });
  assert.deepEqual(block.tokens, [a, v.eos]);
  assert.equal(asked, 2);
});

test("a filtered chain from a drafter whose runs are shared is drafted in one run and cut afterwards", async () => {
  const v = model.vocabulary;
  // Proposals 1..6 with q(x) 0.9, 0.8, 0.3, ...: the filter cuts at the first q(x) below 0.5, the third token.
  const probs = [0.9, 0.8, 0.3, 0.9, 0.9, 0.9];
  const drafted = (i: number) => ({ token: i + 1, q: new PointDistribution(i + 1, v.size), drawn: "argmax" as const, p: probs[i] });
  const make = (runsAreShared: boolean) => {
    const calls = { next: 0, run: [] as number[] };
    const drafter = {
      name: "fixed",
      calls: 0,
      runsAreShared,
      start: async () => {},
      next: async () => drafted(calls.next++),
      nextRun: async (n: number) => {
        calls.run.push(n);
        return Array.from({ length: n }, (_, i) => drafted(i));
      },
      commit: () => {},
      dispose: () => {},
    };
    return { drafter, calls };
  };
  const filter = (block: { tokens: number[] }) => (probs[block.tokens.length] < 0.5 ? "low-q" : undefined);
  // Shared runs: ONE run of the whole length, cut at the third token.
  const shared = make(true);
  const block = await draftChain(shared.drafter, 6, {}, filter);
  assert.deepEqual([block.tokens, block.cutBy, shared.calls.run, shared.calls.next], [[1, 2], "low-q", [6], 0]);
  // Runs not shared: token by token, stopping at the cut (the third token is drafted, then cut).
  const own = make(false);
  const alone = await draftChain(own.drafter, 6, {}, filter);
  assert.deepEqual([alone.tokens, alone.cutBy, own.calls.run, own.calls.next], [[1, 2], "low-q", [], 3]);
  // In shadow mode the run's tokens past the cut are the shadow.
  const shadowed = await draftChain(make(true).drafter, 6, { shadow: true }, filter);
  assert.deepEqual(
    [shadowed.tokens, shadowed.shadow?.tokens],
    [
      [1, 2],
      [3, 4, 5, 6],
    ],
  );
});
