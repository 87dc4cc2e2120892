/** A tree pass is one target call, and afterwards the cache holds exactly the accepted path (compared by logits with a fresh evaluation). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import type { DraftBlock } from "../src/drafts/draftBlock.js";
import { prefill } from "../src/generation/prompt.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import type { LanguageModel, ModelSession } from "../src/model/session.js";
import type { TokenId } from "../src/model/vocabulary.js";
import { TreePolicy } from "../src/policies/treePolicy.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { layOutBlock, rollBack, type VerifiedBlock } from "../src/verification/blockVerification.js";
import { useFixturePair } from "./helpers/fixtures.js";
import { RecordingModel } from "./helpers/recordingModel.js";

const pair = useFixturePair();

/** Lays out and evaluates one block on its own, as a step whose pass no other request shares. */
async function verifyBlock(session: ModelSession, context: readonly TokenId[], block: DraftBlock): Promise<VerifiedBlock> {
  const layout = layOutBlock(session, context, block);
  return { layout, rows: await session.evaluate(layout.batch) };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

/** After a tree pass whose verdict picks sibling `win` (or the chain, when undefined), the next logits match a fresh run over the accepted path. */
async function checkCacheAfterTree(model: LanguageModel, win: number | undefined, tolerance: number) {
  const v = model.vocabulary;
  const context = v.tokenize("the cat sat on");
  const [a, b, c, x, y] = [..."abcxy"].map((ch) => v.tokenize(ch)[0]);
  // Chain a b c; alternatives x at depth 0 (child of the root) and y at depth 2 (child of b).
  const block: DraftBlock = {
    tokens: [a, b, c],
    q: [],
    drawn: [],
    siblings: [
      { depth: 0, token: x },
      { depth: 2, token: y },
    ],
  };
  const accepted = { 0: [x], 1: [a, b, y] }[win ?? -1] ?? [a, b];
  const session = await model.createSession({ maxSequences: 3 });
  await prefill(session, context.slice(0, -1), 0, false);
  const verified = await verifyBlock(session, context, block);
  assert.equal(verified.layout.batch.length, 6, "root, three chain tokens, two alternatives: one pass");
  rollBack(session, verified, context.length, { accepted: accepted.length, bonus: 0, sibling: win });
  // The cache keeps the chain prefix; a winning alternative is evaluated again with the next pass.
  const cached = context.length + accepted.length - (win === undefined ? 0 : 1);
  assert.equal(session.sequenceLength(0), cached);
  const next = v.tokenize("d")[0];
  const pending = [...context, ...accepted, next].slice(cached);
  const rows = await session.evaluate(pending.map((token, i) => ({ token, position: cached + i, sequences: [0], logits: i === pending.length - 1 })));
  const got = rows.row(0).slice();
  session.dispose();
  const fresh = await model.createSession();
  const all = [...context, ...accepted, next];
  const want = (await fresh.evaluate(all.map((token, i) => ({ token, position: i, sequences: [0], logits: i === all.length - 1 })))).row(0);
  assert.ok(maxDiff(got, want) <= tolerance, `logit difference ${maxDiff(got, want)} for ${win === undefined ? "the chain" : `alternative ${win}`}`);
  fresh.dispose();
}

test("after a tree step the GGUF cache equals a fresh evaluation of the accepted path", async () => {
  // llama.cpp's own differences between batch shapes are about 3e-6 on these models.
  for (const win of [undefined, 0, 1]) await checkCacheAfterTree(pair.target, win, 1e-4);
});

test("after a tree step the n-gram cache equals a fresh evaluation of the accepted path", async () => {
  for (const win of [undefined, 0, 1]) await checkCacheAfterTree(NgramModel.create({ seed: 4 }), win, 0);
});

test("one tree pass is one target call, and branches do win on the fixtures", async () => {
  const target = new RecordingModel(pair.target);
  const policy = new TreePolicy({ k: 4, budget: 4, width: 2, branchBelow: 1.01 });
  const run = await collectGeneration(generateSpeculative(target, new ModelDrafter(pair.draft, GREEDY), "the cat sat on a mat", { maxTokens: 60, policy }));
  const prefillCalls = 1;
  assert.equal(target.evaluations.length, prefillCalls + run.steps.length);
  for (const [i, step] of run.steps.entries()) {
    // The pass holds the pending context (the root, plus an alternative that won the step before), the chain and the alternatives.
    const pending = i > 0 && run.steps[i - 1].branchAccepted ? 2 : 1;
    assert.equal(target.evaluations[prefillCalls + i].batch.length, pending + step.drafted + (step.branches ?? 0));
  }
  assert.ok(
    run.steps.some((s) => s.branchAccepted),
    "some step accepted an alternative token",
  );
});
