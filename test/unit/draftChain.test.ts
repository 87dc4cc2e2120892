/** Chain drafts: where drafting stops (a token that ends generation), and filtered chains from drafters whose runs are shared. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CharacterVocabulary } from "../../src/backends/ngram/characterVocabulary.js";
import { PLAIN_DRAFTER } from "../../src/drafters/drafter.js";
import { draftChain } from "../../src/drafts/draftBlock.js";
import { endsGeneration } from "../../src/generation/generationEnd.js";
import { PointDistribution } from "../../src/sampling/tokenDistribution.js";
import { generationModel } from "../helpers/generationModel.js";

const model = generationModel();

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
    capabilities: PLAIN_DRAFTER,
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
      capabilities: {
        ...PLAIN_DRAFTER,
        runs: {
          runsAreShared,
          nextRun: async (n: number) => {
            calls.run.push(n);
            return Array.from({ length: n }, (_, i) => drafted(i));
          },
        },
      },
      start: async () => {},
      next: async () => drafted(calls.next++),
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
