/**
 * The adaptive policy's schedule from measured costs, without any model: synthetic block outcomes stand for
 * a device whose pass cost is flat in its size (a GPU, a target behind network round trips) or steep (a small CPU).
 * Prompt lookup's proposals on steps that draft nothing are scored against the emitted text (FreeProposalShadow).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Drafter, PLAIN_DRAFTER } from "../../src/drafters/drafter.js";
import { PromptLookupDrafter } from "../../src/drafters/promptLookupDrafter.js";
import { AdaptiveMemory } from "../../src/policies/adaptiveMemory.js";
import { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";
import { AgreementTracker } from "../../src/policies/agreementTracker.js";
import { CostModel } from "../../src/policies/costModel.js";
import { FreeProposalShadow } from "../../src/policies/freeProposalShadow.js";
import { NO_CONSTRAINTS } from "../../src/sampling/constraints.js";
import { CPU, type Device, GPU, run } from "../helpers/adaptiveRun.js";

test("where a pass costs about the same for a few tokens as for one, it keeps drafting", () => {
  const chosen = run(new AdaptivePolicy(), GPU, 60, 0.8);
  const late = chosen.slice(20);
  // One step in 32 drafts nothing on purpose, to keep the decode's price measured (DECODE_REFRESH).
  assert.ok(late.every((k) => k >= 2 || k === 0) && late.filter((k) => k === 0).length <= 1, `draft lengths ${late.join(",")}`);
});

test("where every extra token costs most of a decode and acceptance is modest, it stops drafting and explores ever more rarely", () => {
  const chosen = run(new AdaptivePolicy(), CPU, 400, 0.5);
  const late = chosen.slice(20);
  const explored = late.map((k, i) => (k > 0 ? i : -1)).filter((i) => i >= 0);
  assert.ok(explored.length < 12, `drafted at ${explored.length} of ${late.length} steps`);
  // An exploration is one or two blocks in a row (the second prices drafting): the gaps between their starts grow.
  const starts = explored.filter((i, j) => j === 0 || i - explored[j - 1] > 1);
  const gaps = starts.slice(1).map((i, j) => i - starts[j]);
  assert.ok(gaps.at(-1)! > gaps[0], `exploration gaps grow: ${gaps.join(",")}`);
});

test("the pass cost prices a decode apart from larger passes, as this CPU's curve needs", () => {
  // Passes as measured on this 2-core CPU with the embedded target (ms): a decode 2.0, 2 tokens 4.0, 5 tokens 7.0,
  // forty passes in turn. One line through all three (least squares: 1.15 + 1.19 n) would price a decode at
  // 2.35 and a 2-token pass at 3.54, making one drafted token look cheap; a decode must stay 2.0, and the
  // line through the larger passes (4.0 + 1.0 (n - 2)) must put 2 tokens at 4.0 and 3 at 5.0.
  const cost = new CostModel();
  for (let i = 0; i < 40; i++)
    for (const [n, ms] of [
      [1, 2.0],
      [2, 4.0],
      [5, 7.0],
    ])
      cost.recordVerify(n, ms);
  assert.ok(Math.abs(cost.verifyTime(1) - 2.0) < 1e-9, `decode ${cost.verifyTime(1)}`);
  assert.ok(Math.abs(cost.verifyTime(2) - 4.0) < 0.05, `2 tokens ${cost.verifyTime(2)}`);
  assert.ok(Math.abs(cost.verifyTime(3) - 5.0) < 0.05, `3 tokens ${cost.verifyTime(3)}`);
  // A decode stalled 50 ms by the machine moves the estimate by at most 0.1 x (3 x 2.0 - 2.0) = 0.4 ms.
  cost.recordVerify(1, 50);
  assert.ok(cost.verifyTime(1) <= 2.4 + 1e-9, `after a stall ${cost.verifyTime(1)}`);
});

test("with one larger pass size seen, the line runs through the decode and it", () => {
  // Decodes of 4.1 ms and 5-token passes of 5.9 ms (the H200's 7B-shape target): 0.45 ms a token in between.
  const cost = new CostModel();
  for (let i = 0; i < 10; i++)
    for (const [n, ms] of [
      [1, 4.1],
      [5, 5.9],
    ])
      cost.recordVerify(n, ms);
  assert.ok(cost.ready);
  assert.ok(Math.abs(cost.verifyTime(3) - 5.0) < 1e-9, `3 tokens ${cost.verifyTime(3)}`);
  assert.ok(Math.abs(cost.verifyTime(9) - 7.7) < 1e-9, `9 tokens ${cost.verifyTime(9)}`);
});

test("a decode priced too high by stalls does not keep drafting going where it does not pay", () => {
  // This CPU (decode 1.4 ms, 0.49 ms a token more per pass, drafting 0.6 ms a token), acceptance 0.6: drafting
  // does not pay (k = 4: 2.3 tokens in 2.4 + 3.4 = 5.8 ms, 0.40 a ms, against 0.71 for a decode). Its first
  // decodes stall (40 ms each, as the first native calls of a fresh process can on 2 cores): priced so, a decode
  // looks dearer than a block, and without fresh decodes the price would never come down. Decodes now and
  // then, and believing faster ones at once, bring it back within a few dozen steps.
  const stalling: Device = { draftMs: CPU.draftMs, pass: (n, step) => (n === 1 && step < 6 ? 40 : CPU.pass(n, step)) };
  const chosen = run(new AdaptivePolicy(), stalling, 200, 0.6);
  const late = chosen.slice(100);
  assert.ok(late.filter((k) => k > 0).length < 10, `late draft lengths ${late.join(",")}`);
});

test("a costly catch-up after a stretch without drafting does not keep drafting stopped once it pays again", () => {
  // The drafts are poor for 60 steps (drafting stops), then good. Explorations then pay a 20 ms catch-up; were
  // that priced as drafting cost, resuming would never look worth it.
  const chosen = run(new AdaptivePolicy(), GPU, 400, (step) => (step < 60 ? 0.05 : 0.95), 20);
  assert.ok(chosen.slice(30, 60).filter((k) => k > 0).length < 10, `poor drafts: ${chosen.slice(30, 60).join(",")}`);
  assert.ok(chosen.slice(-100).filter((k) => k >= 2).length > 80, `good drafts again: ${chosen.slice(-100).join(",")}`);
});

test("a drafting cost measured high at a cold start is measured again, and drafting resumes where it pays", () => {
  // An H200 run, adaptive at T = 0.8: a fresh drafter's first blocks cost about 6 ms a token (its
  // context, CUDA graphs being recorded) against 1.1 later; priced at 6, drafting never looks worth it, and an
  // exploration after steps without drafting pays the catch-up, so it is not priced. Without the second block
  // of each exploration and the faster belief in lower costs, this run drafts at about 3 of its last 200 steps.
  const cold: Device = { ...GPU, draftMs: (step) => (step < 8 ? 6 : 1.1) };
  const chosen = run(new AdaptivePolicy(), cold, 400, 0.8);
  assert.ok(chosen.slice(-200).filter((k) => k >= 1).length > 150, `draft lengths ${chosen.slice(-200).join(",")}`);
  // Where drafting would not pay even for free (every pass as costly as that many decodes), an exploration stays
  // one block: it has nothing to price.
  const steep: Device = { draftMs: (step) => (step < 8 ? 6 : 0.6), pass: (n) => 1.4 * n };
  const explored = run(new AdaptivePolicy(), steep, 400, 0.5)
    .slice(20)
    .map((k, i) => (k > 0 ? i : -1))
    .filter((i) => i >= 0);
  assert.ok(explored.length > 2 && explored.every((i, j) => j === 0 || i - explored[j - 1] > 1), `explorations at ${explored.join(",")}`);
});

test("a policy given the memory of earlier generations starts from what they measured", () => {
  // A first generation on the CPU-like device learns that drafting does not pay (acceptance 0.3) and how
  // rarely to explore; a fresh policy of its own would spend its first steps drafting 4 tokens twice to
  // measure the costs again, one sharing the memory drafts nothing in its first 40 steps.
  const memory = new AdaptiveMemory();
  run(new AdaptivePolicy({ memory }), CPU, 300, 0.3);
  const fresh = run(new AdaptivePolicy(), CPU, 40, 0.3);
  const informed = run(new AdaptivePolicy({ memory }), CPU, 40, 0.3);
  assert.deepEqual(fresh.slice(0, 2), [4, 4], "a fresh policy measures by drafting first");
  assert.ok(
    informed.every((k) => k === 0),
    `draft lengths with memory ${informed.join(",")}`,
  );
});

test("a free source's proposal is scored against what is emitted, and recorded once decided", () => {
  const shadow = new FreeProposalShadow();
  const tracker = new AgreementTracker();
  const expected = new AgreementTracker();
  shadow.follow([5, 6, 7, 8]);
  shadow.observe([5], tracker);
  assert.deepEqual(tracker.toRecord(), new AgreementTracker().toRecord(), "undecided after one matching token");
  shadow.follow([6, 7]); // the next step's proposal, followed beside the first
  shadow.observe([6, 9, 10], tracker);
  // [5, 6, 7, 8]: 5 and 6 came true, 7 did not: as a verified block of 4 one-hot drafts with 2 accepted.
  // [6, 7]: 6 came true, 7 did not: 2 drafts, 1 accepted.
  expected.record([1, 1, 1, 1], 2);
  expected.record([1, 1], 1);
  assert.deepEqual(tracker.toRecord(), expected.toRecord());
  shadow.follow([3, 4]);
  shadow.observe([3], tracker);
  shadow.observe([4, 0], tracker);
  expected.record([1, 1], 2);
  assert.deepEqual(tracker.toRecord(), expected.toRecord(), "a proposal that came true in full, over two steps");
});

test("prompt lookup is scored while adaptive drafts nothing, so it drafts again soon after its proposals come true", async () => {
  // The target repeats an 8-token cycle, which lookup proposes right every time; lookup is free, the passes
  // cost what this CPU's do, and what lookup did earlier (12 blocks of 4, none accepted) says it does not pay.
  const cycle = [11, 12, 13, 14, 15, 16, 17, 18];
  async function stepsUntilDrafting(scoreWhileIdle: boolean): Promise<number> {
    const memory = new AdaptiveMemory();
    run(new AdaptivePolicy({ memory }), CPU, 60, 0.3);
    const lookup = memory.source("lookup");
    for (let i = 0; i < 4; i++) lookup.draft.record(4, 0.004);
    for (let i = 0; i < 12; i++) lookup.agreement.record([1, 1, 1, 1], 0);
    const policy = new AdaptivePolicy({ memory });
    const inner = new PromptLookupDrafter(100);
    // Without freeProposal the policy cannot look at what lookup would draft (the drafter interface's option).
    const drafter: Drafter = scoreWhileIdle
      ? inner
      : {
          name: inner.name,
          calls: 0,
          capabilities: { ...PLAIN_DRAFTER, sourceNaming: { nextSource: () => inner.nextSource() } },
          start: (c) => inner.start(c),
          next: () => inner.next(),
          commit: (k, a) => inner.commit(k, a),
          dispose: () => {},
        };
    const context = [...cycle, ...cycle, 11, 12, 13];
    await drafter.start(context);
    for (let step = 0; step < 300; step++) {
      const block = await policy.draft(drafter, 8, { tokens: context, constraints: NO_CONSTRAINTS, shadow: false });
      const k = block.tokens.length;
      if (k >= 2) return step; // drafting again (an exploration drafts one token)
      const accepted = k > 0 && block.tokens[0] === cycle[context.length % 8] ? 1 : 0;
      const emitted = [...block.tokens.slice(0, accepted), cycle[(context.length + accepted) % 8]];
      drafter.commit(accepted, emitted.slice(accepted));
      context.push(...emitted);
      policy.observe({
        drafted: k,
        accepted,
        qx: block.tokens.map(() => 1),
        verifiedTokens: k + 1,
        passTokens: k + 1,
        passPrefill: 0,
        draftMs: 0.001 * k,
        verifyMs: CPU.pass(k + 1, step),
        emitted,
      });
    }
    return Number.POSITIVE_INFINITY;
  }
  const scored = await stepsUntilDrafting(true);
  const unscored = await stepsUntilDrafting(false);
  assert.ok(scored <= 16, `drafting resumed at step ${scored} (without the shadow: ${unscored})`);
  assert.ok(unscored >= 3 * scored, `without the shadow it resumed at step ${unscored}, with it at ${scored}`);
});

test("passes priced high by a cold start are measured again at the far end of the line, and free drafting resumes", async () => {
  // This CPU's passes cost about 3.7 + 0.33 n ms and a decode 1.5; a cold context's first 2- and 3-token passes
  // took 4.5 and 7.3 ms, a line (2.8 ms a token) that prices a 17-token pass at 42 ms, so that no free draft
  // seems to pay and, without a pass at the line's far end, none would ever come to correct it.
  const memory = new AdaptiveMemory();
  memory.pass.recordVerify(1, 1.5);
  for (let i = 0; i < 5; i++) {
    memory.pass.recordVerify(2, 4.5);
    memory.pass.recordVerify(3, 7.3);
  }
  assert.ok(memory.pass.verifyTime(17) > 40);
  const lookup = memory.source("lookup");
  for (let i = 0; i < 4; i++) lookup.draft.record(4, 0.004);
  for (let i = 0; i < 12; i++) lookup.agreement.record([1, 1, 1, 1], 4); // lookup's proposals came true
  const policy = new AdaptivePolicy({ memory });
  // A generation's first pass is never priced (a fresh context's): this one is its second.
  policy.observe({ drafted: 0, accepted: 0, qx: [], verifiedTokens: 1, passTokens: 1, passPrefill: 0, draftMs: 0, verifyMs: 1.5, emitted: [] });
  const drafter = new PromptLookupDrafter(100);
  const cycle = [11, 12, 13, 14, 15, 16, 17, 18];
  await drafter.start([...cycle, ...cycle, ...cycle, 11, 12, 13]);
  const block = await policy.draft(drafter, 64, { tokens: [...cycle, ...cycle, ...cycle, 11, 12, 13], constraints: NO_CONSTRAINTS, shadow: false });
  const k = block.tokens.length;
  assert.equal(k, 16, "the refresh drafts the likely proposal's first 16 tokens");
  const pass = 3.7 + 0.33 * (k + 1);
  policy.observe({
    drafted: k,
    accepted: k,
    qx: block.tokens.map(() => 1),
    verifiedTokens: k + 1,
    passTokens: k + 1,
    passPrefill: 0,
    draftMs: 0.01,
    verifyMs: pass,
    emitted: [],
  });
  assert.ok(memory.pass.verifyTime(17) < 20, `one measured 17-token pass brings its price from over 40 ms to ${memory.pass.verifyTime(17).toFixed(1)}`);
});

test("a shared pass that also prefilled a new request's prompt does not price verification", () => {
  // The H200's 7B-shape target in a shared pass: 10 tokens of blocks in 8 ms, 20 in 9 ms (0.1 ms a token).
  // A pass that also wrote a joining request's 150-token prompt took 30 ms: priced, it would bend the line to
  // about 0.15 ms a token, and drafting at high concurrency would look dearer than it is.
  const outcome = (passTokens: number, passPrefill: number, verifyMs: number) => ({
    drafted: 3,
    accepted: 2,
    qx: [0.9, 0.9, 0.9],
    verifiedTokens: 4,
    passTokens,
    passPrefill,
    draftMs: 0.3,
    verifyMs,
    emitted: [1, 2, 3],
  });
  const policy = new AdaptivePolicy();
  for (let i = 0; i < 20; i++) policy.observe(outcome(10 + 10 * (i % 2), 0, 8 + (i % 2)));
  const before = policy.cost.verifyTime(40);
  assert.ok(Math.abs(before - 11) < 0.05, `40 tokens ${before}`);
  policy.observe(outcome(170, 150, 30));
  assert.equal(policy.cost.verifyTime(40), before);
});
