/**
 * Native per-row work: what llama.cpp sessions summarise of each logits row (argmax, top tokens, log-sum-exp,
 * entropy) must equal what JavaScript computes from the full row, and rows are fetched only when asked for.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DraftedToken } from "../src/drafters/drafter.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { TOP_SUMMARY_TOKENS } from "../src/model/rows.js";
import type { BatchToken } from "../src/model/session.js";
import { argmax, samplingDistribution, softmax } from "../src/sampling/distribution.js";
import { GREEDY, samplingFrom } from "../src/sampling/samplingSettings.js";
import { DenseDistribution, PointDistribution, rowDistribution, SummarizedDistribution } from "../src/sampling/tokenDistribution.js";
import { rowAbility, sessionAbility } from "./helpers/capabilities.js";
import { useFixturePair } from "./helpers/fixtures.js";

const pair = useFixturePair();

function chain(tokens: number[]): BatchToken[] {
  return tokens.map((token, position) => ({ token, position, sequences: [0], logits: true }));
}

/** Token ids by decreasing logit, ties to the lower id: the order the summary must list. */
function ranked(row: Float32Array): number[] {
  return Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
}

test("a 'top' summary lists the row's most likely tokens with their logits, its log-sum-exp and entropy", async () => {
  const session = await pair.target.createSession({ rowSummary: "top" });
  const rows = await session.evaluate(chain(pair.target.vocabulary.tokenize("the cat sat on a mat while dogs ran")));
  for (let i = 0; i < rows.count; i++) {
    const s = rowAbility(rows, "summaries").summary(i);
    const row = rows.row(i);
    assert.equal(s.top.length, TOP_SUMMARY_TOKENS);
    assert.deepEqual(s.top, ranked(row).slice(0, TOP_SUMMARY_TOKENS));
    assert.deepEqual(
      s.topLogits,
      s.top.map((t) => row[t]),
    );
    const q = softmax(row);
    const lse = Math.log(row.reduce((sum, l) => sum + Math.exp(l - row[s.top[0]]), 0)) + row[s.top[0]];
    const entropy = q.reduce((h, p) => (p > 0 ? h - p * Math.log(p) : h), 0);
    // The native side sums float32 exps (a polynomial exp, a few ulps off) in chunks; here all is float64:
    // they agree to ~1e-7 relative, and 1e-5 is far below anything a signal distinguishes.
    assert.ok(Math.abs(s.logSumExp - lse) < 1e-5, `log-sum-exp ${s.logSumExp} vs ${lse}`);
    assert.ok(Math.abs(s.entropy - entropy) < 1e-5, `entropy ${s.entropy} vs ${entropy}`);
    const summarized = rowDistribution(rows, i);
    const dense = new DenseDistribution(q);
    assert.ok(summarized instanceof SummarizedDistribution);
    assert.deepEqual(summarized.top(5), dense.top(5));
    for (const t of s.top) assert.ok(Math.abs(summarized.prob(t) - dense.prob(t)) < 1e-6);
  }
  session.dispose();
});

test("an 'argmax' summary (the default) gives the argmax only; it is no distribution", async () => {
  const session = await pair.target.createSession();
  const rows = await session.evaluate(chain(pair.target.vocabulary.tokenize("def return value")));
  for (let i = 0; i < rows.count; i++) {
    assert.deepEqual(rowAbility(rows, "summaries").summary(i).top, [argmax(rows.row(i))]);
    assert.ok(Number.isNaN(rowAbility(rows, "summaries").summary(i).logSumExp));
  }
  assert.ok(rowDistribution(rows, 0) instanceof DenseDistribution, "without a top summary q comes from the row");
  session.dispose();
});

test("ties go to the lower token id, as the JavaScript argmax and ranking do", async () => {
  // A model does not give exact ties to order, so the rule is checked on hand-made distributions: q = [.25,
  // .25, .5, 0] ranks 2 first, then 0 before 1 (equal, lower id first), and leaves 3 out (probability 0). The
  // summary lists logits [1, 0, 0], so q(2) = e / (e + 2).
  const dense = new DenseDistribution(Float64Array.from([0.25, 0.25, 0.5, 0]));
  assert.deepEqual(dense.top(4), [2, 0, 1], "zero-probability tokens are not listed; equal ones by id");
  const summary = new SummarizedDistribution({ top: [2, 0, 1], topLogits: [1, 0, 0], logSumExp: Math.log(Math.E + 2), entropy: 1 }, 4);
  assert.ok(Math.abs(summary.prob(2) - Math.E / (Math.E + 2)) < 1e-15);
  assert.throws(() => summary.prob(3), /not among the 3 tokens/);
  assert.throws(() => summary.top(4), /lists 3 tokens; 4 were asked for/);
  assert.throws(() => summary.dense(), /no dense form/);
  assert.deepEqual(new PointDistribution(1, 4).dense(), Float64Array.from([0, 1, 0, 0]));
});

test("rows are fetched when asked for, and refused once the session has evaluated again", async () => {
  const session = await pair.target.createSession({ rowSummary: "none" });
  const tokens = pair.target.vocabulary.tokenize("the cat sat");
  const first = await session.evaluate(chain(tokens));
  assert.equal(first.capabilities.summaries, undefined);
  const kept = first.row(1).slice();
  const again = await session.evaluate([{ token: tokens[0], position: tokens.length, sequences: [0], logits: true }]);
  assert.throws(() => first.row(1), /stale/);
  assert.throws(() => again.row(1), /outside 0\.\.0/);
  assert.equal(kept.length, pair.target.vocabulary.size);
  session.dispose();
});

test("a greedy run in one native call drafts what token-by-token drafting drafts, with the same q (or none asked for)", async () => {
  const context = pair.draft.vocabulary.tokenize("the cat sat on a mat");
  const stepwise = new ModelDrafter(pair.draft, GREEDY);
  const run = new ModelDrafter(pair.draft, GREEDY);
  const plain = new ModelDrafter(pair.draft, GREEDY);
  for (const d of [stepwise, run, plain]) await d.start(context);
  for (const block of [5, 3, 1]) {
    const one: DraftedToken[] = [];
    for (let i = 0; i < block; i++) one.push((await stepwise.next())!);
    const callsBefore = run.calls;
    const all = await run.nextRun(block);
    assert.deepEqual(
      all.map((d) => d.token),
      one.map((d) => d.token),
    );
    assert.equal(run.calls - callsBefore, block, "each drafted token is one forward pass, all in one call");
    for (const [i, d] of all.entries()) {
      assert.equal(d.drawn, "argmax");
      assert.ok(Math.abs(d.q.prob(d.token) - one[i].q.prob(one[i].token)) < 1e-12);
      assert.ok(Math.abs(d.q.entropy - one[i].q.entropy) < 1e-9);
    }
    // A policy that reads no signals gets the same tokens from argmax-only summaries, q the one-hot proposal.
    const bare = await plain.nextRun(block, { signals: false });
    assert.deepEqual(
      bare.map((d) => d.token),
      one.map((d) => d.token),
    );
    for (const d of bare) assert.ok(d.q instanceof PointDistribution && d.q.prob(d.token) === 1 && d.drawn === "argmax");
    // Keep the first two drafts and append a token of our own, as a step that rejected the third would.
    for (const d of [stepwise, run, plain]) d.commit(Math.min(2, block), [context[0]]);
  }
  for (const d of [stepwise, run, plain]) d.dispose();
});

test("a sampled run in one native call draws what token-by-token sampling draws, from the same q", async () => {
  const context = pair.draft.vocabulary.tokenize("the cat sat on a mat");
  for (const s of [samplingFrom({ temperature: 1, seed: 11 }), samplingFrom({ temperature: 0.8, topP: 0.9, seed: 12 })]) {
    // Same seed: both drafters' rngs give the same uniforms, one per drafted token.
    const stepwise = new ModelDrafter(pair.draft, s);
    const run = new ModelDrafter(pair.draft, s);
    for (const d of [stepwise, run]) await d.start(context);
    for (const block of [6, 2, 4]) {
      const one: DraftedToken[] = [];
      for (let i = 0; i < block; i++) one.push((await stepwise.next())!);
      const callsBefore = run.calls;
      const all = await run.nextRun(block);
      assert.deepEqual(
        all.map((d) => d.token),
        one.map((d) => d.token),
      );
      assert.equal(run.calls - callsBefore, block);
      for (const [i, d] of all.entries()) {
        assert.equal(d.drawn, "sampled");
        // The same native transform of the same logits: equal to the last bit.
        assert.deepEqual(d.q.dense(), one[i].q.dense());
      }
      for (const d of [stepwise, run]) d.commit(Math.min(1, block), [context[1]]);
    }
    stepwise.dispose();
    run.dispose();
  }
});

test("a sampled run refuses uniforms outside [0, 1) and too few of them", async () => {
  const session = await pair.draft.createSession();
  const batch = chain(pair.draft.vocabulary.tokenize("the cat")).map((t, i, all) => ({ ...t, logits: i === all.length - 1 }));
  const transform = { temperature: 1, topK: 0, topP: 1 };
  await assert.rejects(
    sessionAbility(session, "sampledRuns").continueSampled(batch, 2, { transform, draws: { uniforms: new Float64Array([0.5]) } }),
    /a uniform for each/,
  );
  await assert.rejects(
    async () => sessionAbility(session, "sampledRuns").continueSampled(batch, 2, { transform, draws: { uniforms: new Float64Array([0.5, 1]) } }),
    /\[0, 1\)/,
  );
  // Nothing was decoded by the refused calls: a good run still starts from an empty cache.
  const ok = await sessionAbility(session, "sampledRuns").continueSampled(batch, 2, { transform, draws: { uniforms: new Float64Array([0.25, 0.75]) } });
  assert.equal(ok.tokens.length, 2);
  assert.equal(ok.distributions.length, 2);
  assert.ok(Math.abs(ok.distributions[0].reduce((a, b) => a + b, 0) - 1) < 1e-9);
  session.dispose();
});

test("the backend's sampling distribution is sampling/distribution.ts's transform of the row", async () => {
  const session = await pair.target.createSession();
  const rows = await session.evaluate(chain(pair.target.vocabulary.tokenize("while dogs ran far away from home")));
  // Plain softmax; temperature with top-k; top-p alone (the ranking sorted only as far as the cut); all three.
  const settings = [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.7, topK: 4, topP: 1 },
    { temperature: 0.8, topK: 0, topP: 0.95 },
    { temperature: 1.3, topK: 50, topP: 0.9 },
  ];
  for (let i = 0; i < rows.count; i++) {
    for (const s of settings) {
      const native = rowAbility(rows, "sampling").samplingDistribution(i, s);
      const js = samplingDistribution(rows.row(i), { mode: "sample", seed: 0, rule: "coupled", ...s });
      // Same support exactly; each probability within 1e-5 relative (the native exps are a float polynomial of a
      // float argument x, so off by about |x| float ulps: up to ~5e-6 at the far tail, x near -87), and the
      // native distribution sums to 1 in float64.
      assert.deepEqual(
        Array.from(native.keys()).filter((t) => native[t] > 0),
        Array.from(js.keys()).filter((t) => js[t] > 0),
      );
      for (let t = 0; t < js.length; t++) assert.ok(Math.abs(native[t] - js[t]) <= 1e-5 * js[t] + 1e-300, `token ${t}: ${native[t]} vs ${js[t]}`);
      assert.ok(Math.abs(native.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
  }
  session.dispose();
});
